/**
 * The layers' dependencies point one way (docs/ARCHITECTURE.md). This test reads every import in
 * src/ and fails when one crosses a boundary it should not.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve("src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
  /** A dynamic import() (loaded when first used). */
  dynamic: boolean;
}

function imports(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const out: Import[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const to = spec.startsWith(".")
      ? relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, ".ts")
      : spec;
    out.push({ from: relative(SRC, file), to, typeOnly: Boolean(m[2]), dynamic: m[4] !== undefined });
  }
  return out;
}

const all = files(SRC).flatMap(imports);
const layer = (p: string) => (p.includes("/") ? p.split("/")[0]! : p);

/** What each layer may import, at run time and for types alike. */
const ALLOWED: Record<string, string[]> = {
  zarr: ["zarr", "errors.ts", "faults.ts"],
  geo: ["geo", "zarr", "errors.ts", "faults.ts"],
  cf: ["cf", "zarr", "errors.ts", "faults.ts"],
  readers: ["readers", "kernels", "zarr", "errors.ts", "faults.ts", "geo", "cf"],
  parallel: ["parallel", "zarr", "errors.ts", "faults.ts"],
  // Numeric kernels: resampling (the conversion and the pyramid) and the element loops of reading
  // and decoding (the readers and the conversion), with their optional native addon.
  kernels: ["kernels", "zarr", "errors.ts", "faults.ts"],
  convert: [
    "convert",
    "kernels",
    "parallel",
    "zarr",
    "geo",
    "cf",
    "readers",
    "errors.ts",
    "faults.ts",
    "version.ts",
  ],
  inspect: ["inspect", "parallel", "zarr", "cf", "errors.ts", "faults.ts"],
  // Pyramid levels are written through the conversion pipeline (plans, executePlan, atomic output).
  pyramid: [
    "pyramid",
    "convert",
    "kernels",
    "parallel",
    "zarr",
    "geo",
    "cf",
    "errors.ts",
    "faults.ts",
    "version.ts",
  ],
  // Whole jobs (a conversion with its levels): above both the conversion and the pyramid.
  jobs: [
    "jobs",
    "convert",
    "pyramid",
    "kernels",
    "parallel",
    "readers",
    "zarr",
    "geo",
    "cf",
    "errors.ts",
    "faults.ts",
    "version.ts",
  ],
  // Runs spread over processes through BullMQ on Redis: above the jobs they queue.
  queue: ["queue", "jobs", "convert", "parallel", "zarr", "errors.ts", "faults.ts", "version.ts"],
  validate: ["validate", "zarr", "geo", "cf", "errors.ts", "faults.ts"],
  server: [
    "server",
    "validate",
    "inspect",
    "pyramid",
    "parallel",
    "zarr",
    "geo",
    "cf",
    "errors.ts",
    "faults.ts",
    "version.ts",
    "node.ts",
    "index.ts",
  ],
  cli: ["cli", "node.ts", "index.ts", "queue.ts", "errors.ts", "faults.ts", "version.ts", "zarr"],
};

describe("architecture", () => {
  it("every layer imports only the layers below it, type imports included", () => {
    const bad = all.filter((i) => {
      if (!i.to.endsWith(".ts")) return false;
      const allowed = ALLOWED[layer(i.from)];
      if (!allowed) return false; // entry points (index.ts, node.ts, errors.ts)
      // The task registry is the one place that names task modules of upper layers, lazily.
      if (i.from === "parallel/tasks.ts") return false;
      return !allowed.includes(layer(i.to));
    });
    expect(bad.map((i) => `${i.from} -> ${i.to}`)).toEqual([]);
  });

  it("only the queue layer imports BullMQ and its Redis client, and the CLI loads it lazily", () => {
    const bull = all.filter((i) => i.to === "bullmq" || i.to === "ioredis");
    expect(bull.filter((i) => layer(i.from) !== "queue").map((i) => i.from)).toEqual([]);
    // node.ts is what every command loads; BullMQ takes half a second to import.
    const fromNode = all.filter((i) => i.from === "node.ts" && layer(i.to) === "queue");
    expect(fromNode.map((i) => i.to)).toEqual([]);
    const eager = all.filter(
      (i) => layer(i.from) === "cli" && i.to === "queue.ts" && !i.dynamic && !i.typeOnly,
    );
    expect(eager.map((i) => i.from)).toEqual([]);
  });

  it("the browser entry point (index.ts) reaches no node: module", () => {
    const seen = new Set<string>();
    const visit = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const i of imports(join(SRC, f))) if (!i.typeOnly && i.to.endsWith(".ts")) visit(i.to);
    };
    visit("index.ts");
    const nodeImports = [...seen].flatMap((f) =>
      imports(join(SRC, f))
        .filter((i) => i.to.startsWith("node:"))
        .map((i) => `${i.from} -> ${i.to}`),
    );
    expect(nodeImports).toEqual([]);
  });

  it("no source file grows past 600 lines", () => {
    const big = files(SRC).filter((f) => readFileSync(f, "utf8").split("\n").length > 600);
    expect(big.map((f) => relative(SRC, f))).toEqual([]);
  });
});
