/**
 * The S3-compatible test server: s3rver (@20minutes/s3rver, the maintained fork) on loopback, in a
 * process of its own, storing objects under the directory given. Prints {"port": N} once
 * listening and exits when its standard input closes (the test run ended, however it ended).
 *
 * Two corrections to s3rver, both where it departs from S3:
 * - It reads a suffix range `bytes=-N` (RFC 9110 §14.1.2, what zarrita asks for a shard index) as
 *   `bytes=0-N`. The Range header is signed, so it cannot be rewritten before the signature check;
 *   the store's read is corrected instead, from the object's size.
 * - It computes the SigV4 canonical URI of a path-style bucket request as `/bucket`, where current
 *   AWS SDKs send and sign `/bucket/` (ListObjectsV2, DeleteObjects; S3 accepts both). Its own
 *   virtual-host branch builds `/bucket` + mount path, so such requests are routed through it.
 * - With a delimiter it finds a common prefix only from keys one level below it (it prunes deeper
 *   directories first): `a/` with only `a/c/0/0` under it was not listed. Delimited listings are
 *   folded here from the full listing under the prefix instead (MaxKeys counts keys, as s3rver's).
 */

import { AsyncLocalStorage } from "node:async_hooks";
import S3rver from "@20minutes/s3rver";

const [directory, ...buckets] = process.argv.slice(2);
const srv = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});

const suffix = new AsyncLocalStorage();
srv.middleware.unshift((ctx, next) => {
  const m = /^bytes=-(\d+)$/.exec(ctx.get("range"));
  return m ? suffix.run(Number(m[1]), next) : next();
});
// Between its vhost middleware and its router (the last two): the request is parsed, not yet signed-checked.
srv.middleware.splice(srv.middleware.length - 1, 0, (ctx, next) => {
  if (!ctx.state.vhost && /^\/[^/]+\/$/.test(ctx.path)) {
    ctx.state.vhost = true;
    ctx.mountPath = "/";
  }
  return next();
});
const getObject = srv.store.getObject.bind(srv.store);
srv.store.getObject = async (bucket, key, options) => {
  const n = suffix.getStore();
  if (n !== undefined) {
    const meta = await srv.store.getMetadata(bucket, key).catch(() => undefined);
    if (meta) {
      const size = Number(meta["content-length"]);
      return getObject(bucket, key, { start: Math.max(0, size - n), end: size - 1 });
    }
  }
  return getObject(bucket, key, options);
};

const listObjects = srv.store.listObjects.bind(srv.store);
srv.store.listObjects = async (bucket, options) => {
  const { delimiter, prefix = "", maxKeys = Number.POSITIVE_INFINITY } = options;
  if (!delimiter) return listObjects(bucket, options);
  const all = await listObjects(bucket, { ...options, delimiter: "", maxKeys: Number.POSITIVE_INFINITY });
  const objects = [];
  const commonPrefixes = new Set();
  let isTruncated = false;
  for (const object of all.objects) {
    const idx = object.key.slice(prefix.length).indexOf(delimiter);
    if (idx !== -1) commonPrefixes.add(object.key.slice(0, prefix.length + idx + 1));
    else if (objects.length < maxKeys) objects.push(object);
    else {
      isTruncated = true;
      break;
    }
  }
  return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
};

const { port } = await srv.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.on("close", () => process.exit(0));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
