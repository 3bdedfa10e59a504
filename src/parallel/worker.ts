/**
 * Worker-thread entry: runs tasks from ./tasks.ts and posts results back, errors as plain data.
 * @module
 */

import { parentPort } from "node:worker_threads";
import { serializeError } from "../errors.js";
import { runTask, type TaskKind } from "./tasks.js";

interface Request {
  id: number;
  kind: TaskKind;
  input: unknown;
}

parentPort!.on("message", async (msg: Request) => {
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the kind selects the input type at run time
    const { output, transfer } = await runTask(msg.kind, msg.input as any);
    parentPort!.postMessage({ id: msg.id, output }, transfer ?? []);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: serializeError(err) });
  }
});
