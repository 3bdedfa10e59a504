// Shared helpers for the benchmarks: run a side, take medians, record results.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, freemem, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DATA = join(ROOT, "bench", "data");
export const PY = "/usr/bin/python3";

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Run a command that prints one JSON line; fail loudly otherwise. */
export function runJson(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

/** Make a data file once (generators are deterministic), logging what it runs. */
export function ensure(path, cmd, args) {
  if (existsSync(path)) return path;
  mkdirSync(dirname(path), { recursive: true });
  console.error(`preparing ${path}: ${cmd} ${args.join(" ")}`);
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
  return path;
}

export function machine() {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memGB: Math.round(totalmem() / 2 ** 30),
    freeGB: Math.round(freemem() / 2 ** 30),
    node: process.version,
  };
}

export function save(name, result) {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify({ date: new Date().toISOString(), machine: machine(), ...result }, null, 2)}\n`,
  );
}

/** Run a command under GNU time; returns wall and CPU seconds and peak RSS (MB). */
export function timed(cmd, args, { env = {} } = {}) {
  const r = spawnSync("/usr/bin/time", ["-f", "TIME %e %U %S %M", cmd, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (r.status !== 0 || !m)
    throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  return { wall: Number(m[1]), user: Number(m[2]), sys: Number(m[3]), rssMB: Number(m[4]) / 1024 };
}

/** Bytes and files under a directory. */
export function du(path) {
  const out = execFileSync("du", ["-sb", path], { encoding: "utf8" });
  const files = Number(
    execFileSync("sh", ["-c", `find '${path}' -type f | wc -l`], { encoding: "utf8" }).trim(),
  );
  return { bytes: Number(out.split("\t")[0]), files };
}

/** N daily MUR-like granules (make_mur_like.py at `step`, from 2002-06-01), made once; their paths. */
export function granules(n, step) {
  const dir = join(DATA, `series-${step}-${n}`);
  const gen = join(ROOT, "scripts", "fixtures", "make_mur_like.py");
  const start = Date.UTC(2002, 5, 1);
  const files = [];
  for (let i = 0; i < n; i++) {
    const day = new Date(start + i * 86400000).toISOString().slice(0, 10);
    const file = join(dir, `${day.replaceAll("-", "")}-mur.nc`);
    ensure(file, PY, [gen, file, "--step", step, "--date", day, "--seed", String(i + 1), "--quiet"]);
    files.push(file);
  }
  return { dir, files };
}
