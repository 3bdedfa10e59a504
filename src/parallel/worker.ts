/**
 * Worker-thread entry: runs tasks from ./tasks.ts and posts results back, errors as plain data.
 * @module
 */

import { parentPort } from "node:worker_threads";
import { serializeError } from "../errors.js";
import { runTask, TASK_MODULES, type TaskKind } from "./tasks.js";

interface Request {
  id: number;
  kind: TaskKind;
  input: unknown;
}

parentPort!.on("message", async (msg: Request | { warm: TaskKind[] }) => {
  if ("warm" in msg) {
    // Load ahead (prestartWorkers); a module that fails to load fails its first task instead.
    for (const kind of msg.warm) TASK_MODULES[kind]().catch(() => {});
    return;
  }
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the kind selects the input type at run time
    const { output, transfer } = await runTask(msg.kind, msg.input as any);
    parentPort!.postMessage({ id: msg.id, output }, transfer ?? []);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, error: serializeError(err) });
  }
});
