/** The hierarchy as a collapsible tree; selecting a node calls `onSelect(path)`. */

import type { TreeNode } from "./api.js";
import { clear, formatShape, h } from "./dom.js";

export class TreeView {
  #selected: string | null = null;

  constructor(
    readonly root: HTMLElement,
    readonly onSelect: (path: string) => void,
  ) {}

  /** Items the user expanded or collapsed, kept when the tree is drawn again (findings arriving). */
  #expanded = new Map<string, string>();

  render(tree: TreeNode, findings: Map<string, "error" | "warning" | "info">): void {
    for (const li of this.root.querySelectorAll("li[data-path][aria-expanded]"))
      this.#expanded.set(li.getAttribute("data-path")!, li.getAttribute("aria-expanded")!);
    clear(this.root);
    const list = h("ul", { role: "tree", class: "tree" });
    list.append(this.#item(tree, findings, 0));
    this.root.append(list);
  }

  #item(node: TreeNode, findings: Map<string, string>, depth: number): HTMLElement {
    const isGroup = node.kind === "group";
    const expandable = isGroup ? (node.children?.length ?? 0) > 0 : true;
    const li = h("li", {
      role: "treeitem",
      "data-path": node.path,
      "data-kind": node.kind,
      "aria-expanded": expandable
        ? (this.#expanded.get(node.path) ?? String(isGroup && depth < 2))
        : undefined,
    });
    const toggle = h("button", {
      class: "toggle",
      type: "button",
      "aria-label": `${isGroup ? "expand group" : "show details of"} ${node.name}`,
      hidden: !expandable,
      onclick: ((e: Event) => {
        e.stopPropagation();
        li.setAttribute("aria-expanded", String(li.getAttribute("aria-expanded") !== "true"));
      }) as EventListener,
    });
    const mark = findings.get(node.path);
    const label = h(
      "button",
      { class: "label", type: "button", onclick: (() => this.select(node.path)) as EventListener },
      h("span", { class: `icon ${node.kind}`, "aria-hidden": "true" }),
      h("span", { class: "name", text: node.name }),
      node.kind === "array"
        ? h("span", {
            class: "dim",
            text: node.unsupported
              ? ` not readable: ${node.unsupported}`
              : ` ${node.dtype} ${formatShape(node.shape)}`,
          })
        : null,
      mark ? h("span", { class: `dot ${mark}`, title: `${mark} findings` }) : null,
    );
    li.append(h("div", { class: "row" }, toggle, label));
    if (isGroup) {
      const ul = h("ul", { role: "group" });
      for (const c of node.children ?? []) ul.append(this.#item(c, findings, depth + 1));
      li.append(ul);
    } else {
      const facts: [string, string][] = [
        ["shape", formatShape(node.shape)],
        ["dtype", node.dtype ?? ""],
        [
          "chunks",
          formatShape(node.chunks) + (node.innerChunks ? ` (inner ${formatShape(node.innerChunks)})` : ""),
        ],
        ["codecs", (node.codecs ?? []).join(", ") || "none"],
        ["fill value", node.fillValue ?? ""],
        ["dimensions", (node.dimensions ?? []).map((d) => d ?? "?").join(", ") || "(unnamed)"],
      ];
      li.append(
        h(
          "dl",
          { class: "facts" },
          ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
        ),
      );
    }
    return li;
  }

  select(path: string): void {
    this.#selected = path;
    for (const el of this.root.querySelectorAll("li[aria-selected]")) el.removeAttribute("aria-selected");
    const li = this.root.querySelector(`li[data-path="${CSS.escape(path)}"]`);
    if (li) {
      li.setAttribute("aria-selected", "true");
      // Open the groups above it.
      for (let p = li.parentElement?.closest("li"); p; p = p.parentElement?.closest("li"))
        p.setAttribute("aria-expanded", "true");
      li.querySelector(".label")?.scrollIntoView({ block: "nearest" });
    }
    this.onSelect(path);
  }

  get selected(): string | null {
    return this.#selected;
  }
}
