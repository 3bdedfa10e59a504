import type { ArrayInfo, GroupInfo } from "../../node.js";
import { consolidatedDocument, nodeDocuments, nodeInfo, openStore } from "../../node.js";
import { type CommandSpec, REMOTE_OPTIONS, remoteOptions } from "../args.js";
import { humanBytes, tuple, warnOpened } from "../io.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "info",
  summary:
    'Show the metadata of a store or of one node. With --json, print the consolidated metadata of the whole store (or the node\'s documents) as one strict JSON document, NaN written as "NaN".',
  positionals: ["STORE", "[NODE]"],
  options: { ...REMOTE_OPTIONS },
};

function rows(info: ArrayInfo | GroupInfo): [string, string][] {
  if (info.kind === "group") {
    return [
      ["Name", info.path],
      ["Type", "Group"],
      ["Zarr format", String(info.zarrFormat)],
      ["Consolidated", info.consolidated ? "yes" : "no"],
      ["Arrays", info.arrays.join(", ") || "-"],
      ["Groups", info.groups.join(", ") || "-"],
      ["Attributes", String(Object.keys(info.attributes).length)],
    ];
  }
  const r: [string, string][] = [
    ["Name", info.path],
    ["Type", "Array"],
    ["Zarr format", String(info.zarrFormat)],
    ["Data type", info.dtype],
    ["Shape", tuple(info.shape)],
    ["Chunk shape", tuple(info.chunks)],
  ];
  if (info.innerChunks) r.push(["Inner chunks", tuple(info.innerChunks)]);
  r.push(
    ["Order", info.order],
    ["Codecs", info.codecs.join(" + ") || "none"],
    ["Fill value", info.fillValue],
    ["Dimensions", info.dimensions ? tuple(info.dimensions.map((d) => d ?? "?")) : "-"],
    ["No. bytes", `${info.bytes} (${humanBytes(info.bytes)})`],
  );
  if (info.storedBytes !== null) {
    r.push(["No. bytes stored", `${info.storedBytes} (${humanBytes(info.storedBytes)})`]);
    // Variable-length strings have no decoded size before they are read (nodeInfo gives the stored one).
    if (info.storedBytes > 0 && info.dtype !== "string")
      r.push(["Storage ratio", (info.bytes / info.storedBytes).toFixed(1)]);
  }
  r.push(["Chunks initialized", `${info.chunksStored}/${info.chunksTotal}`]);
  for (const [k, v] of Object.entries(info.attributes)) r.push([`  ${k}`, JSON.stringify(v).slice(0, 100)]);
  if (Object.keys(info.attributes).length)
    r.splice(r.length - Object.keys(info.attributes).length, 0, ["Attributes", ""]);
  return r;
}

export const info: Command = {
  spec,
  async run({ positionals, values }, io) {
    const h = await openStore(positionals[0]!, remoteOptions(values));
    warnOpened(io, h);
    const node = positionals[1];
    if (values.json) {
      io.json(node === undefined ? consolidatedDocument(h) : nodeDocuments(h, node));
      return 0;
    }
    const r = rows(await nodeInfo(h, node ?? "/"));
    const w = Math.max(...r.map(([k]) => k.length));
    io.out(r.map(([k, v]) => `${io.color.bold(k.padEnd(w))} : ${v}`).join("\n"));
    return 0;
  },
};
