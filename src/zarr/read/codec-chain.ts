/**
 * Whether the reader can build an array's codec chain, without reading a chunk: every codec is
 * in zarrita's registry (with our native codecs registered) and constructs from its configuration
 * the way zarrita builds its pipeline (codecs.js `loadCodecs`: `fromConfig(configuration, chunk
 * metadata)`, array-to-array codecs passing the encoded type on). For sharded arrays the inner
 * chain is built for the inner chunk shape and the index chain for the index's uint64 array
 * (sharding-indexed codec spec, "Binary shard format"). `openArray` and `geozarr validate` both
 * ask this module, so the validator refuses exactly the chains the reader refuses.
 * @module
 */

import * as zarr from "zarrita";
import { GeoZarrError, messageOf } from "../../errors.js";
import type { ArrayMeta, CodecSpec, StringArrayMeta } from "../metadata/model.js";
import { zarritaStringType } from "../strings.js";
import { registerNativeCodecs } from "./native-codecs.js";

/** The codec names of a chain, sharding's inner and index chains included. */
export function codecNames(codecs: CodecSpec[]): string[] {
  return codecs.flatMap((c) => {
    if (c.name !== "sharding_indexed") return [c.name];
    const cfg = c.configuration as { codecs?: CodecSpec[]; index_codecs?: CodecSpec[] } | undefined;
    return [...codecNames(cfg?.codecs ?? []), ...codecNames(cfg?.index_codecs ?? [])];
  });
}

const shown = (name: string) => name.replace(/^numcodecs\./, "");

/** Throws GeoZarrError("Codec") naming the first codec the reader does not know. */
export function checkCodecNames(meta: Pick<ArrayMeta, "codecs">, where: string): void {
  registerNativeCodecs();
  for (const name of codecNames(meta.codecs)) {
    if (!zarr.registry.has(name))
      throw new GeoZarrError("Codec", `${where}: unknown codec "${shown(name)}"`, { where });
  }
}

interface ChunkMeta {
  dataType: string;
  shape: number[];
  codecs: CodecSpec[];
  fillValue: unknown;
}

interface CodecClass {
  fromConfig(
    configuration: unknown,
    meta: ChunkMeta,
  ): { kind?: string; getEncodedMeta?(m: ChunkMeta): ChunkMeta };
}

async function build(codecs: CodecSpec[], meta: ChunkMeta, where: string): Promise<void> {
  let current = meta;
  for (const c of codecs) {
    if (c.name === "sharding_indexed") {
      await buildSharding(c, current, where);
      continue;
    }
    let instance: ReturnType<CodecClass["fromConfig"]>;
    try {
      const Codec = (await zarr.registry.get(c.name)!()) as unknown as CodecClass;
      instance = Codec.fromConfig(c.configuration ?? {}, current);
    } catch (err) {
      // One line: some codecs (numcodecs' blosc) word their refusal over several.
      const why = messageOf(err).replace(/\s+/g, " ");
      throw new GeoZarrError("Codec", `${where}: codec "${shown(c.name)}" cannot be built: ${why}`, {
        where,
        cause: err,
      });
    }
    if (instance.kind === "array_to_array" && instance.getEncodedMeta)
      current = instance.getEncodedMeta(current);
  }
}

async function buildSharding(c: CodecSpec, outer: ChunkMeta, where: string): Promise<void> {
  const cfg = (c.configuration ?? {}) as { chunk_shape?: unknown; codecs?: unknown; index_codecs?: unknown };
  const inner = cfg.chunk_shape;
  const bad = (why: string): never => {
    throw new GeoZarrError("Codec", `${where}: codec "sharding_indexed" cannot be built: ${why}`, { where });
  };
  if (
    !Array.isArray(inner) ||
    inner.length !== outer.shape.length ||
    inner.some((n, d) => !Number.isInteger(n) || n < 1 || outer.shape[d]! % n !== 0)
  )
    bad(`chunk_shape ${JSON.stringify(inner)} does not divide the shard shape [${outer.shape.join(", ")}]`);
  if (!Array.isArray(cfg.codecs)) bad('"codecs" is not a list');
  if (cfg.index_codecs !== undefined && !Array.isArray(cfg.index_codecs)) bad('"index_codecs" is not a list');
  const shape = inner as number[];
  await build(cfg.codecs as CodecSpec[], { ...outer, shape, codecs: cfg.codecs as CodecSpec[] }, where);
  const index = (cfg.index_codecs ?? []) as CodecSpec[];
  const indexShape = [...outer.shape.map((n, d) => n / shape[d]!), 2];
  await build(index, { dataType: "uint64", shape: indexShape, codecs: index, fillValue: null }, where);
}

/**
 * Throws GeoZarrError("Codec") when the reader cannot build the array's codec chain: an unknown
 * codec, or a configuration its codec refuses. Reads nothing from the store.
 */
export async function checkCodecChain(meta: ArrayMeta | StringArrayMeta, where: string): Promise<void> {
  checkCodecNames(meta, where);
  const dataType =
    meta.kind === "strings" ? zarritaStringType(meta.stringType, meta.zarrFormat) : meta.dataType;
  await build(
    meta.codecs,
    { dataType, shape: meta.chunkShape, codecs: meta.codecs, fillValue: meta.fillValue },
    where,
  );
}
