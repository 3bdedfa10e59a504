import { expect } from "vitest";
import type { Colors, Io } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { toStrictJson } from "../../src/zarr/json.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const plain = (s: string) => s;
const NO_COLOR: Colors = { red: plain, yellow: plain, green: plain, blue: plain, dim: plain, bold: plain };

/** Run the CLI in-process with captured output. Never throws: the exit code says what happened. */
export async function runCli(...args: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    out: (t) => {
      stdout += t.endsWith("\n") ? t : `${t}\n`;
    },
    err: (t) => {
      stderr += t.endsWith("\n") ? t : `${t}\n`;
    },
    json: (v) => {
      stdout += `${toStrictJson(v, 2)}\n`;
    },
    stderrIsTty: false,
    color: NO_COLOR,
    errColor: NO_COLOR,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/**
 * The error is exactly one line, "geozarr: error: ...", matching `message`; with `usage`, followed
 * by the one-line hint to the command's --help (what usage errors print).
 */
export function expectOneLine(stderr: string, message: string | RegExp, usage?: string): void {
  const lines = stderr.trimEnd().split("\n");
  if (usage) expect(lines.pop()).toBe(`Run 'geozarr ${usage} --help' for usage.`);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^geozarr: error: /);
  expect(lines[0]).toMatch(message);
}
