/**
 * The real servers that the cloud-storage tests talk to, started on free loopback ports and stopped
 * with the run: an S3-compatible server (s3rver, see s3rver-child.mjs) and nginx serving a
 * directory with byte ranges (Debian's nginx-light, installed by .ci/run). Nothing here is a
 * hand-written stand-in for either.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export interface S3Server {
  endpoint: string;
  bucket: string;
  /** s3rver's built-in account. */
  accessKeyId: string;
  secretAccessKey: string;
}

export interface HttpServer {
  /** http://127.0.0.1:PORT/ */
  base: string;
  /** The directory served at `base`. */
  root: string;
}

export interface Running<T> {
  info: T;
  stop(): Promise<void>;
}

const here = import.meta.dirname;

export async function startS3(at: string, bucket = "geozarr-test"): Promise<Running<S3Server>> {
  const dir = resolve(at);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, [join(here, "s3rver-child.mjs"), dir, bucket], {
    cwd: resolve(here, "../.."),
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<number>((ok, fail) => {
    child.once("exit", (code) => fail(new Error(`s3rver exited with code ${code} before listening`)));
    createInterface({ input: child.stdout! }).once("line", (line) => ok(JSON.parse(line).port));
  });
  return {
    info: {
      endpoint: `http://127.0.0.1:${port}`,
      bucket,
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
    },
    stop: () => stopChild(child),
  };
}

export async function startNginx(at: string): Promise<Running<HttpServer>> {
  const dir = resolve(at);
  rmSync(dir, { recursive: true, force: true });
  const root = join(dir, "www");
  mkdirSync(root, { recursive: true });
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  // One process, no user switch (master_process off), temp paths and logs in `dir`: no root needed,
  // nothing written outside it.
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 512; }
http {
  access_log ${join(dir, "access.log")};
  client_body_temp_path ${join(dir, "body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    autoindex off;
    # Under /s3like/ a missing file is a 403 marked as S3's, as S3 (and CloudFront before it)
    # answers for a missing key when listing is not allowed.
    location /s3like/ {
      add_header x-amz-request-id geozarr-test always;
      try_files $uri =403;
    }
  }
}
`,
  );
  const child = spawn("/usr/sbin/nginx", ["-c", conf, "-p", dir, "-e", join(dir, "error.log")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  // nginx does not notice its parent going away (s3rver watches its stdin): stop it on any exit.
  const kill = () => child.kill("SIGTERM");
  process.once("exit", kill);
  child.once("exit", () => process.off("exit", kill));
  await waitForPort(port, child, "nginx");
  return { info: { base: `http://127.0.0.1:${port}/`, root }, stop: () => stopChild(child) };
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** Until the port accepts connections (bounded: 200 tries), or the process exits. */
async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  let exited: number | null = null;
  child.once("exit", (code) => {
    exited = code ?? -1;
  });
  for (let i = 0; i < 200; i++) {
    if (exited !== null) throw new Error(`${name} exited with code ${exited} before listening`);
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        r(true);
      });
      s.once("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((ok) => {
    child.once("exit", () => ok());
    child.kill("SIGTERM");
  });
}
