/**
 * A collapsible JSON view with search. Values are shown as they are in the document: strict JSON
 * carries bare NaN/Infinity tokens (non-standard, written by zarr-python for v2 fill values) as the
 * strings "NaN"/"Infinity", so the pointers of the bare ones come separately (`nonStandard`) and
 * are shown as NaN, marked; a string "NaN" (how v3 writes a NaN fill value) stays a string.
 */

import { clear, h } from "./dom.js";

export interface JsonViewOptions {
  /** JSON pointers (within the value) of bare non-standard number tokens. */
  nonStandard?: Set<string>;
  /** Pointer to reveal and highlight. */
  highlight?: string | undefined;
}

const escapePointer = (k: string) => k.replace(/~/g, "~0").replace(/\//g, "~1");

export function renderJson(target: HTMLElement, value: unknown, opts: JsonViewOptions = {}): void {
  clear(target);
  const root = h("div", { class: "json" });
  root.append(node(value, "", null, opts, 0));
  target.append(root);
  if (opts.highlight !== undefined) reveal(root, opts.highlight);
}

function scalar(value: unknown, pointer: string, opts: JsonViewOptions): HTMLElement {
  if (typeof value === "string" && opts.nonStandard?.has(pointer))
    return h("span", { class: "v number nonstd", title: "bare token: non-standard JSON", text: value });
  if (typeof value === "string") return h("span", { class: "v string", text: JSON.stringify(value) });
  if (typeof value === "number") return h("span", { class: "v number", text: String(value) });
  if (typeof value === "boolean") return h("span", { class: "v bool", text: String(value) });
  return h("span", { class: "v null", text: "null" });
}

function node(
  value: unknown,
  pointer: string,
  key: string | null,
  opts: JsonViewOptions,
  depth: number,
): HTMLElement {
  const keyEl = key === null ? null : h("span", { class: "k", text: `${JSON.stringify(key)}: ` });
  if (value === null || typeof value !== "object") {
    return h("div", { class: "line", "data-pointer": pointer }, keyEl, scalar(value, pointer, opts));
  }
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  // Short arrays of scalars stay on one line: shapes, chunks, transforms.
  if (isArray && entries.length <= 12 && entries.every(([, v]) => v === null || typeof v !== "object")) {
    const parts: (HTMLElement | string)[] = ["["];
    entries.forEach(([i, v], n) => {
      if (n > 0) parts.push(", ");
      parts.push(scalar(v, `${pointer}/${i}`, opts));
    });
    parts.push("]");
    return h("div", { class: "line", "data-pointer": pointer }, keyEl, ...parts);
  }
  const details = h("details", { "data-pointer": pointer, open: depth < 3 });
  const open = isArray ? "[" : "{";
  const close = isArray ? "]" : "}";
  details.append(
    h(
      "summary",
      {},
      keyEl,
      h("span", { class: "brace", text: `${open} ` }),
      h("span", { class: "count", text: `${entries.length} ${isArray ? "items" : "keys"}` }),
    ),
  );
  const body = h("div", { class: "children" });
  for (const [k, v] of entries)
    body.append(node(v, `${pointer}/${escapePointer(k)}`, isArray ? null : k, opts, depth + 1));
  details.append(body, h("div", { class: "brace", text: close }));
  return details;
}

/** Open the path to `pointer` and mark it. */
export function reveal(root: HTMLElement, pointer: string): HTMLElement | null {
  const el =
    [...root.querySelectorAll<HTMLElement>("[data-pointer]")].find((e) => e.dataset.pointer === pointer) ??
    null;
  if (!el) return null;
  for (let p: HTMLElement | null = el; p && p !== root; p = p.parentElement)
    if (p instanceof HTMLDetailsElement) p.open = true;
  el.classList.add("hl");
  el.scrollIntoView({ block: "center" });
  return el;
}

/** Mark the keys and values containing `text` (case-insensitive), open their parents; returns the count. */
export function search(root: HTMLElement, text: string): number {
  for (const el of root.querySelectorAll(".match")) el.classList.remove("match");
  const q = text.trim().toLowerCase();
  if (!q) return 0;
  let n = 0;
  for (const el of root.querySelectorAll<HTMLElement>(".k, .v")) {
    if (!(el.textContent ?? "").toLowerCase().includes(q)) continue;
    el.classList.add("match");
    n++;
    for (let p: HTMLElement | null = el.parentElement; p && p !== root; p = p.parentElement)
      if (p instanceof HTMLDetailsElement) p.open = true;
  }
  root.querySelector(".match")?.scrollIntoView({ block: "center" });
  return n;
}
