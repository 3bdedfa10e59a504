import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, inject } from "vitest";

/** A fresh directory for one test file, removed when the file's tests end. */
export function tmpDir(label = "t"): string {
  const root = inject("tmpRoot");
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, `${label}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
