import type { TreeNode } from "../../node.js";
import { buildTree, openStore } from "../../node.js";
import { type CommandSpec, REMOTE_OPTIONS, remoteOptions } from "../args.js";
import type { Colors } from "../io.js";
import { tuple, warnOpened } from "../io.js";
import type { Command } from "./types.js";

const spec: CommandSpec = {
  name: "tree",
  summary: "Print the hierarchy of a Zarr store, like zarr-python's Group.tree(): shape and dtype per array.",
  positionals: ["STORE"],
  options: {
    verbose: {
      type: "boolean",
      short: "v",
      description: "also show chunks, codecs, fill value and dimension names",
    },
    ...REMOTE_OPTIONS,
  },
};

/** Lines of the tree in zarr-python's layout: " ├── name (shape) dtype". */
export function renderTree(root: TreeNode, verbose: boolean, c: Colors): string[] {
  const lines = [c.bold(root.name)];
  const walk = (node: TreeNode, prefix: string) => {
    const kids = node.children ?? [];
    kids.forEach((child, i) => {
      const last = i === kids.length - 1;
      const head = `${prefix}${last ? "└── " : "├── "}`;
      if (child.kind === "group") lines.push(`${head}${c.bold(child.name)}`);
      else if (child.unsupported)
        lines.push(`${head}${child.name} ${c.yellow(`(not readable: ${child.unsupported})`)}`);
      else lines.push(`${head}${child.name} ${tuple(child.shape!)} ${c.blue(child.dtype!)}`);
      const inner = `${prefix}${last ? "    " : "│   "}`;
      if (verbose && child.kind === "array" && !child.unsupported) {
        const parts = [
          `chunks ${tuple(child.chunks!)}${child.innerChunks ? ` (shards of ${tuple(child.innerChunks)} chunks)` : ""} x${child.chunkCount}`,
          child.codecs!.length ? child.codecs!.join(" + ") : "uncompressed",
          `fill ${child.fillValue}`,
          `dims ${child.dimensions ? tuple(child.dimensions.map((d) => d ?? "?")) : "none"}`,
        ];
        lines.push(`${inner}  ${c.dim(parts.join(" · "))}`);
      }
      walk(child, inner);
    });
  };
  walk(root, " ");
  return lines;
}

export const tree: Command = {
  spec,
  async run({ positionals, values }, io) {
    const h = await openStore(positionals[0]!, remoteOptions(values));
    warnOpened(io, h);
    const root = buildTree(h);
    if (values.json) io.json(root);
    else io.out(renderTree(root, Boolean(values.verbose), io.color).join("\n"));
    return 0;
  },
};
