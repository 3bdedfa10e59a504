/**
 * One tagged error family for the whole library.
 *
 * Library code throws only {@link GeoZarrError} subclasses. Each carries a literal `tag`, the store
 * key or file it concerns (when there is one) and the original error as `cause`. The CLI maps tags to
 * exit codes and the server maps them to HTTP statuses, each through one table, so an "expected" error
 * (bad input) is reported as one line and never as a stack trace.
 *
 * Errors cross worker-thread boundaries as plain data ({@link serializeError}) and are rebuilt with
 * their class on the other side ({@link deserializeError}); structured clone alone would lose it.
 *
 * @module
 */

export type ErrorTag =
  | "NotFound" // a store, node, key, file or variable that does not exist
  | "InvalidMetadata" // metadata that cannot be parsed or violates the format
  | "Codec" // a chunk that fails to decode or encode, or an unknown codec
  | "ChunkSize" // a decoded chunk whose size does not match the chunk shape
  | "Usage" // bad options or arguments from the caller
  | "Exists" // an output that already exists (and overwriting was not asked for)
  | "IO" // the file system refused (permissions, full disk, ...)
  | "Format" // an input file that is not of the expected format (not NetCDF, truncated, ...)
  | "Unsupported"; // valid input that this version does not handle

export interface GeoZarrErrorOptions {
  /** Store key, file path or node path the error is about. */
  where?: string | undefined;
  cause?: unknown;
}

export class GeoZarrError extends Error {
  readonly tag: ErrorTag;
  readonly where: string | undefined;

  constructor(tag: ErrorTag, message: string, options: GeoZarrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = `GeoZarrError(${tag})`;
    this.tag = tag;
    this.where = options.where;
  }
}

export function isGeoZarrError(err: unknown, ...tags: ErrorTag[]): err is GeoZarrError {
  return err instanceof GeoZarrError && (tags.length === 0 || tags.includes(err.tag));
}

/** The message of any thrown value, for wrapping foreign errors. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Plain-data form of an error, safe to post between threads. */
export interface SerializedError {
  tag: ErrorTag | null;
  message: string;
  where?: string | undefined;
  stack?: string | undefined;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof GeoZarrError) {
    return { tag: err.tag, message: err.message, where: err.where, stack: err.stack };
  }
  if (err instanceof Error) return { tag: null, message: err.message, stack: err.stack };
  return { tag: null, message: String(err) };
}

export function deserializeError(data: SerializedError): Error {
  const err =
    data.tag === null
      ? new Error(data.message)
      : new GeoZarrError(data.tag, data.message, { where: data.where });
  if (data.stack) err.stack = data.stack;
  return err;
}

/**
 * Wrap a Node.js file-system error into a one-line GeoZarrError naming the path.
 * ENOENT becomes NotFound, ENOSPC/EDQUOT a "disk full" IO error, anything else IO.
 */
export function fsError(err: unknown, path: string, action: string): GeoZarrError {
  const code = (err as { code?: string } | null)?.code;
  if (code === "ENOENT")
    return new GeoZarrError("NotFound", `${path}: no such file or directory`, { where: path, cause: err });
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new GeoZarrError("IO", `${path}: cannot ${action}: no space left on device`, {
      where: path,
      cause: err,
    });
  }
  if (code === "EACCES" || code === "EPERM") {
    return new GeoZarrError("IO", `${path}: cannot ${action}: permission denied`, {
      where: path,
      cause: err,
    });
  }
  return new GeoZarrError("IO", `${path}: cannot ${action}: ${messageOf(err)}`, { where: path, cause: err });
}
