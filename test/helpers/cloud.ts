/**
 * The cloud-storage tests' servers, started for one test file and stopped after it: s3rver (an
 * S3-compatible server) and nginx, each on a free loopback port (test/setup/servers.ts). The AWS
 * environment of this process points at the S3 server, so the library, worker threads and CLI
 * child processes all reach it as a user's configuration would.
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { S3Store } from "../../src/zarr/store/s3.js";
import { type HttpServer, type S3Server, startNginx, startS3 } from "../setup/servers.js";
import { startCli } from "./processes.js";
import { python } from "./python.js";
import { tmpDir } from "./tmp.js";

export interface Cloud {
  s3: S3Server;
  http: HttpServer;
  /** The AWS environment for child processes (also set in this process). */
  env: Record<string, string>;
  /** `s3://bucket/name` */
  s3Url(name: string): string;
  /** The URL of `name` under the nginx root. */
  httpUrl(name: string): string;
}

export function useCloud(label = "cloud"): Cloud {
  const dir = tmpDir(label);
  const cloud = {} as Cloud;
  const stops: Array<() => Promise<void>> = [];
  beforeAll(async () => {
    const s3 = await startS3(join(dir, "s3"));
    stops.push(s3.stop);
    const http = await startNginx(join(dir, "nginx"));
    stops.push(http.stop);
    const env = {
      AWS_ACCESS_KEY_ID: s3.info.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.info.secretAccessKey,
      AWS_ENDPOINT_URL_S3: s3.info.endpoint,
      AWS_REGION: "us-east-1",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      // Without credentials the SDK would ask the EC2 instance metadata service, off this machine.
      AWS_EC2_METADATA_DISABLED: "true",
      // Nothing of the machine's own AWS configuration.
      AWS_CONFIG_FILE: join(dir, "no-aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-aws-credentials"),
    };
    for (const k of ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"])
      delete process.env[k];
    Object.assign(process.env, env);
    Object.assign(cloud, {
      s3: s3.info,
      http: http.info,
      env,
      s3Url: (name: string) => `s3://${s3.info.bucket}/${name}`,
      httpUrl: (name: string) => `${http.info.base}${name}`,
    });
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
  });
  return cloud;
}

/** Download every object under `prefix` with boto3 (an independent S3 client) into `dir`. */
export function downloadWithBoto3(cloud: Cloud, prefix: string, dir: string): string[] {
  const out = python(
    `import json, os, sys, boto3
endpoint, bucket, prefix, dest = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
    aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/"):
    for o in page.get("Contents", []):
        rel = o["Key"][len(prefix) + 1:]
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s3.download_file(bucket, o["Key"], path)
        keys.append(rel)
print(json.dumps(sorted(keys)))`,
    [cloud.s3.endpoint, cloud.s3.bucket, prefix, dir],
  );
  return JSON.parse(out) as string[];
}

/** Every object key under a store prefix of the test bucket, relative to it, sorted. */
export async function keysUnder(cloud: Cloud, prefix: string): Promise<string[]> {
  const s = new S3Store({ bucket: cloud.s3.bucket, prefix });
  const out: string[] = [];
  for await (const page of s.listObjects("/"))
    for (const o of page) out.push(o.Key!.slice(prefix.length + 1));
  return out.sort();
}

/** Every file under `root` (a downloaded or local store), by path relative to it, sorted. */
export function filesUnder(root: string): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
  return walk(root)
    .map((f) => relative(root, f))
    .sort();
}

/** A metadata document without the `history` line (it names the output and the time). */
export function withoutHistory(text: string): unknown {
  const doc = JSON.parse(text);
  const strip = (o: Record<string, unknown> | undefined) => {
    if (o && typeof o === "object") delete o.history;
  };
  strip(doc.attributes);
  strip(doc);
  strip(doc.metadata?.[".zattrs"]);
  strip(doc.consolidated_metadata?.metadata?.[""]?.attributes);
  return doc;
}

/**
 * Two stores in directories compared file by file: the same files, chunks byte for byte,
 * documents equal but for `history`. Returns the mismatches (empty when they are the same).
 */
export function storeDifferences(a: string, b: string): string[] {
  const files = filesUnder(a);
  const other = filesUnder(b);
  const out: string[] = [];
  for (const f of new Set([...files, ...other])) {
    if (!files.includes(f) || !other.includes(f)) {
      out.push(`${f}: only in ${files.includes(f) ? a : b}`);
      continue;
    }
    const x = readFileSync(join(a, f));
    const y = readFileSync(join(b, f));
    const same = /(zarr\.json|\.z\w+)$/.test(f)
      ? JSON.stringify(withoutHistory(x.toString())) === JSON.stringify(withoutHistory(y.toString()))
      : x.equals(y);
    if (!same) out.push(`${f}: differs`);
  }
  return out.sort();
}

/**
 * Run the CLI with `args` and kill it (SIGKILL, GEOZARR_FAULT) at its third chunk PUT to S3;
 * returns its pid and the keys left under `name`, with the marker of an unfinished run among them.
 */
export async function killedAtThirdPut(
  cloud: Cloud,
  name: string,
  args: string[],
): Promise<{ pid: number | undefined; left: string[] }> {
  const run = startCli(args, { ...cloud.env, GEOZARR_FAULT: "s3-put:kill:3" });
  expect(await run.exit).toBe(137);
  expect(run.stderr()).toContain("geozarr-fault: s3-put kill");
  const left = await keysUnder(cloud, name);
  expect(left).toContain(".geozarr-partial.json");
  return { pid: run.child.pid, left };
}

/** `fn` with the S3 endpoint pointed elsewhere (worker threads started inside inherit it). */
export async function viaEndpoint<T>(endpoint: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.AWS_ENDPOINT_URL_S3;
  process.env.AWS_ENDPOINT_URL_S3 = endpoint;
  try {
    return await fn();
  } finally {
    process.env.AWS_ENDPOINT_URL_S3 = saved;
  }
}
