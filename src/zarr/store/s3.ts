/**
 * A store in S3 or an S3-compatible object store (MinIO, Ceph RGW, R2, ...): `s3://bucket/prefix`.
 *
 * Through the AWS SDK v3 S3 client (docs/design.md "Object storage": why not a small signer). The
 * client is configured the way AWS's own tools are, in every thread that opens the store, so no
 * credential ever travels in a descriptor or a message:
 * - credentials: the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 *   AWS_SESSION_TOKEN, AWS_PROFILE with ~/.aws/credentials and ~/.aws/config, SSO, process, web
 *   identity, container and instance roles), or none for `anonymous` (unsigned requests);
 * - endpoint: the `endpoint` option, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or the profile's
 *   `endpoint_url`; a custom endpoint is addressed path-style (`endpoint/bucket/key`) unless
 *   `pathStyle: false`, since S3-compatible servers rarely have wildcard DNS for buckets;
 * - region: the `region` option, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, else
 *   us-east-1, with the SDK following S3's redirect to a bucket's own region.
 *
 * Reads: GetObject (ranges: the Range header, coalesced, remote.ts); a missing key is 404
 * NoSuchKey, or 403 AccessDenied (S3 answers that for a missing key without s3:ListBucket); other
 * 403s (bad keys, expired tokens) are errors naming the fix. Listing: ListObjectsV2 with the "/"
 * delimiter. Writes: PutObject with a CRC-32 checksum header (x-amz-checksum-crc32) that S3
 * verifies before storing (S3 User Guide, "Checking object integrity"). Retries: the SDK's
 * standard mode (5xx, throttling, connection resets), AWS_MAX_ATTEMPTS attempts (default 6), and
 * a body cut short is read again.
 *
 * @module
 */

import type {
  DeleteObjectsCommandOutput,
  GetObjectCommandOutput,
  ListObjectsV2CommandOutput,
  S3Client,
  S3ClientConfig,
  _Object as S3Object,
} from "@aws-sdk/client-s3";
import { GeoZarrError, messageOf } from "../../errors.js";
import { faultPoint } from "../../faults.js";
import {
  completeLength,
  DEFAULT_CONCURRENCY,
  isLoopback,
  Limiter,
  type ObjectVersion,
  RangeCoalescer,
  rangeHeader,
  retryableError,
  type VersionedRange,
  versionOf,
} from "./remote.js";
import type { DescribableStore, Listing, MutableStore, RangeQuery, S3Descriptor, StoreKey } from "./types.js";

type Sdk = typeof import("@aws-sdk/client-s3");

let sdkLoad: Promise<Sdk> | undefined;
/** Loaded on first use: 100 ms of imports that local-only runs never pay. */
const sdk = () => (sdkLoad ??= import("@aws-sdk/client-s3"));

/** The URL of the store or of one of its keys, as messages name it. */
export function s3Url(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

export class S3Store implements MutableStore, DescribableStore {
  readonly descriptor: S3Descriptor;
  readonly readAhead: number;
  readonly url: string;
  readonly #limiter: Limiter;
  readonly #coalescer = new RangeCoalescer((k, o, l) => this.#read(k, rangeHeader({ offset: o, length: l })));
  /** Sizes learnt from listings, for `sizeOf` without a HEAD per chunk (bounded). */
  readonly #sizes = new Map<string, number>();
  #client: Promise<{ client: S3Client; sdk: Sdk; endpoint: string | undefined }> | undefined;
  #forbidden = 0;

  constructor(descriptor: Omit<S3Descriptor, "kind">) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(descriptor.bucket) && !descriptor.endpoint)
      throw new GeoZarrError("Usage", `s3://${descriptor.bucket}: not a valid bucket name`, {
        where: `s3://${descriptor.bucket}`,
      });
    const prefix = descriptor.prefix.replace(/^\/+|\/+$/g, "");
    this.descriptor = { ...descriptor, kind: "s3", prefix };
    this.url = s3Url(descriptor.bucket, prefix);
    const concurrency = descriptor.concurrency ?? DEFAULT_CONCURRENCY;
    this.readAhead = concurrency;
    this.#limiter = new Limiter(concurrency);
  }

  get bucket(): string {
    return this.descriptor.bucket;
  }

  /** The object key of a store key. */
  objectKey(key: StoreKey): string {
    const segs = key.split("/").filter((s) => s.length > 0);
    if (segs.some((s) => s === ".." || s === "."))
      throw new GeoZarrError("NotFound", `${key}: invalid store key`, { where: key });
    return [this.descriptor.prefix, ...segs].filter((s) => s !== "").join("/");
  }

  urlOf(key: StoreKey): string {
    return s3Url(this.bucket, this.objectKey(key));
  }

  async get(key: StoreKey): Promise<Uint8Array | undefined> {
    return this.#read(key, undefined);
  }

  async getRange(key: StoreKey, range: RangeQuery): Promise<Uint8Array | undefined> {
    if ("suffixLength" in range) return this.#read(key, rangeHeader(range));
    return this.#coalescer.get(key, range.offset, range.length);
  }

  async getUpTo(key: StoreKey, maxBytes: number): Promise<Uint8Array | number | undefined> {
    return this.#read(key, undefined, maxBytes);
  }

  async sizeOf(key: StoreKey): Promise<number | undefined> {
    const known = this.#sizes.get(this.objectKey(key));
    if (known !== undefined) return known;
    const { client, sdk } = await this.#api();
    try {
      const out = await this.#limiter.run(() =>
        client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })),
      );
      return out.ContentLength ?? 0;
    } catch (err) {
      if (this.#missing(err)) return undefined;
      throw await this.#error(err, key, "read");
    }
  }

  /** HeadObject: the object's size and version (ETag), which ranged reads of a file are pinned to. */
  async objectVersion(key: StoreKey): Promise<ObjectVersion | undefined> {
    const { client, sdk } = await this.#api();
    try {
      const out = await this.#limiter.run(() =>
        client.send(new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })),
      );
      return { size: out.ContentLength ?? 0, version: versionOf(out.ETag, out.LastModified) };
    } catch (err) {
      if (this.#missing(err)) return undefined;
      throw await this.#error(err, key, "read");
    }
  }

  /** One range with the version it was read from (not coalesced: the caller batches its ranges). */
  async getRangeVersioned(
    key: StoreKey,
    offset: number,
    length: number,
  ): Promise<VersionedRange | undefined> {
    const seen: { out?: GetObjectCommandOutput } = {};
    const bytes = await this.#read(key, rangeHeader({ offset, length }), undefined, seen);
    if (bytes === undefined) return undefined;
    const out = seen.out;
    return {
      bytes,
      version: versionOf(out?.ETag, out?.LastModified),
      size: completeLength(out?.ContentRange) ?? (out?.ContentRange ? undefined : out?.ContentLength),
      ranged: out?.ContentRange !== undefined,
    };
  }

  async set(key: StoreKey, value: Uint8Array): Promise<void> {
    await faultPoint("s3-put");
    await this.put(key, value);
  }

  /**
   * PutObject; with `ifAbsent`, only when no object is there (If-None-Match: *, S3 conditional
   * writes): false if one was. Servers that ignore the condition, or refuse it with 501, write anyway.
   */
  async put(key: StoreKey, value: Uint8Array, opts: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const { client, sdk } = await this.#api();
    try {
      await this.#limiter.run(() =>
        client.send(
          new sdk.PutObjectCommand({
            Bucket: this.bucket,
            Key: this.objectKey(key),
            // Not copied: the SDK is done with the body (retries included) when send() returns, and
            // the caller reuses its buffer only after that (the store contract).
            Body: value,
            ContentLength: value.length,
            ChecksumAlgorithm: "CRC32",
            ...(opts.ifAbsent ? { IfNoneMatch: "*" } : {}),
          }),
        ),
      );
      return true;
    } catch (err) {
      if (opts.ifAbsent && statusOf(err) === 412) return false;
      // A server without conditional writes (501 NotImplemented): written unconditionally, the
      // caller's read-back being the only check (s3-output.ts).
      if (opts.ifAbsent && statusOf(err) === 501) return this.put(key, value);
      throw await this.#error(err, key, "write");
    }
  }

  /**
   * CopyObject: the object at `from` copied to `to` inside the bucket, by the server (no body sent;
   * S3 copies the bytes and their checksum). Objects up to 5 GB, S3's limit for one copy.
   */
  async copy(from: StoreKey, to: StoreKey): Promise<void> {
    const { client, sdk } = await this.#api();
    const source = `${this.bucket}/${this.objectKey(from).split("/").map(encodeURIComponent).join("/")}`;
    try {
      await this.#limiter.run(() =>
        client.send(
          new sdk.CopyObjectCommand({ Bucket: this.bucket, Key: this.objectKey(to), CopySource: source }),
        ),
      );
    } catch (err) {
      throw await this.#error(err, to, `copy ${this.urlOf(from)} to`);
    }
  }

  async delete(key: StoreKey): Promise<void> {
    const { client, sdk } = await this.#api();
    try {
      await this.#limiter.run(() =>
        client.send(new sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) })),
      );
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw await this.#error(err, key, "delete");
    }
  }

  /** DeleteObjects in batches of 1000 (the API's limit), by object key; fails naming a key it could not delete. */
  async deleteObjects(objectKeys: string[]): Promise<void> {
    const { client, sdk } = await this.#api();
    for (let i = 0; i < objectKeys.length; i += 1000) {
      const batch = objectKeys.slice(i, i + 1000);
      let out: DeleteObjectsCommandOutput;
      try {
        out = await this.#limiter.run(() =>
          client.send(
            new sdk.DeleteObjectsCommand({
              Bucket: this.bucket,
              Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
            }),
          ),
        );
      } catch (err) {
        throw await this.#error(err, "/", "delete objects under");
      }
      const bad = out.Errors?.[0];
      if (bad)
        throw new GeoZarrError(
          "IO",
          `${s3Url(this.bucket, bad.Key ?? "?")}: cannot delete: ${bad.Code ?? "error"}${bad.Message ? `: ${bad.Message}` : ""}`,
          { where: s3Url(this.bucket, bad.Key ?? "") },
        );
    }
  }

  /** Every object under a store prefix ("/" for the whole store), a page (up to 1000) at a time. */
  async *listObjects(prefix: StoreKey = "/"): AsyncGenerator<S3Object[]> {
    for await (const page of this.#pages(prefix, undefined)) yield page.Contents ?? [];
  }

  async listDir(prefix: StoreKey): Promise<Listing> {
    const p = this.objectKey(prefix);
    const base = p ? `${p}/` : "";
    const keys: string[] = [];
    const prefixes: string[] = [];
    for await (const page of this.#pages(prefix, "/")) {
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key === base) continue; // a "directory marker" object some tools write
        keys.push(o.Key.slice(base.length));
        if (this.#sizes.size >= 1_000_000) this.#sizes.clear();
        this.#sizes.set(o.Key, o.Size ?? 0);
      }
      for (const cp of page.CommonPrefixes ?? [])
        if (cp.Prefix) prefixes.push(cp.Prefix.slice(base.length).replace(/\/$/, ""));
    }
    // A prefix can come back on several pages.
    return { keys: keys.sort(), prefixes: [...new Set(prefixes)].filter((s) => s !== "").sort() };
  }

  /** ListObjectsV2 pages under a store prefix, following continuation tokens. */
  async *#pages(prefix: StoreKey, delimiter: "/" | undefined): AsyncGenerator<ListObjectsV2CommandOutput> {
    const { client, sdk } = await this.#api();
    const p = this.objectKey(prefix);
    let token: string | undefined;
    do {
      let out: ListObjectsV2CommandOutput;
      try {
        out = await this.#limiter.run(() =>
          client.send(
            new sdk.ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: p ? `${p}/` : undefined,
              Delimiter: delimiter,
              ContinuationToken: token,
            }),
          ),
        );
      } catch (err) {
        throw await this.#error(err, prefix, "list");
      }
      yield out;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  explainMissing(): string | undefined {
    return this.#forbidden
      ? `${this.#forbidden} request(s) answered 403 AccessDenied, read as missing keys (S3 answers that for a missing key when listing is not allowed; check the bucket policy or the AWS credentials)`
      : undefined;
  }

  /** GetObject (a range, or the whole value; with `maxBytes`, only its size when larger). */
  async #read(
    key: StoreKey,
    range: string | undefined,
    maxBytes?: undefined,
    seen?: { out?: GetObjectCommandOutput },
  ): Promise<Uint8Array | undefined>;
  async #read(
    key: StoreKey,
    range: string | undefined,
    maxBytes: number,
  ): Promise<Uint8Array | number | undefined>;
  async #read(
    key: StoreKey,
    range: string | undefined,
    maxBytes?: number,
    seen?: { out?: GetObjectCommandOutput },
  ): Promise<Uint8Array | number | undefined> {
    const { client, sdk } = await this.#api();
    // The SDK retries the request; a body cut short after the headers is this loop's to retry.
    for (let attempt = 1; ; attempt++) {
      let out: GetObjectCommandOutput;
      try {
        out = await this.#limiter.run(() =>
          client.send(
            new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range: range }),
          ),
        );
      } catch (err) {
        if (this.#missing(err)) return undefined;
        if (statusOf(err) === 416) return new Uint8Array(0); // the value exists; the range is past its end
        throw await this.#error(err, key, "read");
      }
      if (seen) seen.out = out; // its ETag and Content-Range: the version read (getRangeVersioned)
      if (maxBytes !== undefined && (out.ContentLength ?? 0) > maxBytes) {
        (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
        return out.ContentLength!;
      }
      try {
        return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      } catch (err) {
        if (!retryableError(err) || attempt >= 3) throw await this.#error(err, key, "read");
      }
    }
  }

  /** 404, or a 403 AccessDenied (not a credentials failure): a key that is not there for us. */
  #missing(err: unknown): boolean {
    const status = statusOf(err);
    const name = (err as { name?: string }).name ?? "";
    if (status === 404 && name !== "NoSuchBucket") return true;
    if (status === 403 && (name === "AccessDenied" || name === "Forbidden" || name === "403")) {
      this.#forbidden++;
      return true;
    }
    return false;
  }

  async #error(err: unknown, key: StoreKey, action: string): Promise<GeoZarrError> {
    const url = this.urlOf(key);
    const status = statusOf(err);
    const name = (err as { name?: string }).name ?? "";
    const first = messageOf(err).split("\n")[0]!;
    const creds =
      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or AWS_PROFILE; a public bucket needs the anonymous option (--anonymous)";
    let what: string;
    if (name === "NoSuchBucket")
      return new GeoZarrError("NotFound", `s3://${this.bucket}: no such bucket`, { where: url, cause: err });
    if (name === "CredentialsProviderError" || /could not load credentials/i.test(first))
      what = `no AWS credentials found (set ${creds})`;
    else if (status === 403 || status === 401)
      what = `${status} Forbidden (${name || "AccessDenied"}: check AWS credentials: ${creds})`;
    else if (status === 301 || name === "PermanentRedirect")
      what = `the bucket is in another region (set AWS_REGION or the region option)`;
    else if (status !== undefined) what = `${status} ${name}: ${first}`;
    else if (retryableError(err) || (err as { code?: string }).code)
      what = `cannot reach ${(await this.#api()).endpoint ?? "S3"}: ${(err as { code?: string }).code ?? first}`;
    else what = first;
    return new GeoZarrError("IO", `${url}: cannot ${action}: ${what}`, { where: url, cause: err });
  }

  #api(): Promise<{ client: S3Client; sdk: Sdk; endpoint: string | undefined }> {
    this.#client ??= makeClient(this.descriptor);
    return this.#client;
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The client for a descriptor, configured from it, the environment and the shared config files. */
async function makeClient(
  d: S3Descriptor,
): Promise<{ client: S3Client; sdk: Sdk; endpoint: string | undefined }> {
  const s = await sdk();
  const { loadSharedConfigFiles, getProfileName } = await import("@smithy/core/config");
  const env = process.env;
  const profileName = d.profile ?? getProfileName({});
  let profile: Record<string, string | undefined> = {};
  try {
    profile = (await loadSharedConfigFiles()).configFile[profileName] ?? {};
  } catch {
    // no readable config file: environment and defaults only
  }
  const endpoint = d.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? profile.endpoint_url;
  const region = d.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? profile.region ?? "us-east-1";
  const anonymous = d.anonymous ?? /^(yes|true|1)$/i.test(env.AWS_NO_SIGN_REQUEST ?? "");
  const attempts = Number(env.AWS_MAX_ATTEMPTS);
  const config: S3ClientConfig = {
    region,
    followRegionRedirects: true,
    forcePathStyle: d.pathStyle ?? endpoint !== undefined,
    maxAttempts: Number.isInteger(attempts) && attempts > 0 ? attempts : 6,
    ...(endpoint ? { endpoint } : {}),
    ...(d.profile ? { profile: d.profile } : {}),
    ...(anonymous
      ? {
          // Unsigned requests: a public bucket, no credentials looked up at all.
          credentials: { accessKeyId: "", secretAccessKey: "" },
          signer: { sign: async (request) => request },
        }
      : {}),
  };
  const client = new s.S3Client(config);
  if (!anonymous && unsignedPayloadSafe(endpoint))
    client.middlewareStack.addRelativeTo(unsignedPayload, UNSIGNED);
  return { client, sdk: s, endpoint };
}

/**
 * Whether a PUT's body may go unsigned to this endpoint: over TLS (AWS S3 itself, an https
 * endpoint), which already authenticates the bytes, or to this machine (loopback: no network in
 * between). Over plain http to another host the SHA-256 of the body stays in the signature, the
 * only protection there against a body changed on the way (a CRC-32 detects corruption, not an
 * attacker).
 */
export function unsignedPayloadSafe(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return true;
  try {
    const u = new URL(endpoint);
    return u.protocol === "https:" || isLoopback(u.hostname);
  } catch {
    return false;
  }
}

const UNSIGNED = {
  name: "geozarrUnsignedPayload",
  relation: "before",
  toMiddleware: "httpSigningMiddleware",
} as const;

/**
 * A request that carries a CRC-32 of its body (every PutObject, above) is signed with
 * `x-amz-content-sha256: UNSIGNED-PAYLOAD` (AWS Signature Version 4, "Signature calculations for
 * the Authorization header: transferring payload in a single chunk"): the SDK would otherwise
 * hash every chunk with SHA-256 to sign it, 0.6 s of CPU per GB uploaded, while S3 still verifies
 * the CRC-32 header before storing the object (S3 User Guide, "Checking object integrity").
 * Runs before the signer on each attempt (retries re-sign).
 */
const unsignedPayload =
  <I, O>(next: (args: I) => Promise<O>) =>
  async (args: I): Promise<O> => {
    const headers = (args as { request?: { headers?: Record<string, string> } }).request?.headers;
    if (headers?.["x-amz-checksum-crc32"] !== undefined) headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
    return next(args);
  };
