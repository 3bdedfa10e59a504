import { spawnSync } from "node:child_process";

/** Run Debian's Python (the one with numpy, zarr, xarray) on a script; fails the test on error. */
export function python(code: string, args: string[] = []): string {
  const r = spawnSync("/usr/bin/python3", ["-c", code, ...args], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Run Python code that prints one JSON document, and parse it. */
export function pythonJson<T = unknown>(code: string, args: string[] = []): T {
  return JSON.parse(python(code, args)) as T;
}

/**
 * An HDF5 file whose chunk index our reader does not read (latest format, unlimited dimensions: a
 * v2 B-tree, readers/hdf5-index.ts), written by h5py: one float32 variable `v` of `rows` x `cols`
 * (values i / 7), gzip + shuffle in chunks of `chunk`.
 */
export function unindexedHdf5(file: string, rows: number, cols: number, chunk: [number, number]): void {
  python(
    `import sys, h5py, numpy as np
rows, cols, cy, cx = map(int, sys.argv[2:])
with h5py.File(sys.argv[1], "w", libver="latest") as f:
    v = np.arange(rows * cols, dtype="<f4").reshape(rows, cols) / 7
    f.create_dataset("v", data=v, maxshape=(None, None), chunks=(cy, cx), compression="gzip", shuffle=True)
`,
    [file, String(rows), String(cols), String(chunk[0]), String(chunk[1])],
  );
}
