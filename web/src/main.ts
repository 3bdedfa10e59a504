/**
 * geozarr inspector: the store's tree, node metadata, validation findings and a map, over the
 * JSON API of `geozarr serve` (src/server/). Read-only.
 */

import { api, type NodeDetails, type Report, type StoreSummary } from "./api.js";
import { registerCodecs } from "./codecs.js";
import { clear, copyText, formatBytes, formatShape, h } from "./dom.js";
import { renderJson, reveal, search } from "./json-view.js";
import { MapPanel } from "./map.js";
import { TreeView } from "./tree.js";
import { renderValidation } from "./validation.js";
import "./style.css";

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

type Tab = "map" | "metadata" | "validation" | "consolidated";

const $ = <T extends HTMLElement>(sel: string) => document.querySelector<T>(sel)!;

const inspector = {
  store: null as StoreSummary | null,
  selected: null as string | null,
  report: null as Report | null,
  map: null as MapPanel | null,
  errors: [] as string[],
};
(window as unknown as { __inspector: typeof inspector }).__inspector = inspector;
registerCodecs();

function showTab(tab: Tab): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("[role=tab]"))
    b.setAttribute("aria-selected", String(b.dataset.tab === tab));
  for (const p of document.querySelectorAll<HTMLElement>(".pane")) p.hidden = p.id !== `pane-${tab}`;
  if (tab === "map") inspector.map?.start();
  if (tab === "consolidated") void showConsolidated();
}

async function showNode(path: string, pointer = ""): Promise<void> {
  inspector.selected = path;
  const pane = $("#pane-metadata");
  showTab("metadata");
  clear(pane);
  pane.append(h("p", { class: "dim", text: `Loading ${path}…` }));
  let d: NodeDetails;
  try {
    d = await api.node(path);
  } catch (err) {
    clear(pane);
    pane.append(h("p", { class: "error", text: (err as Error).message }));
    return;
  }
  if (inspector.selected !== path) return;
  clear(pane);
  const info = d.info;
  const facts: [string, string][] =
    info.kind === "array"
      ? [
          ["shape", formatShape(info.shape)],
          ["dtype", info.dtype],
          [
            "chunks",
            formatShape(info.chunks) + (info.innerChunks ? ` (inner ${formatShape(info.innerChunks)})` : ""),
          ],
          ["codecs", info.codecs.join(", ") || "none"],
          ["fill value", info.fillValue],
          ["order", info.order],
          [
            "size",
            `${formatBytes(info.bytes)} in memory, ${info.storedBytes === null ? "?" : formatBytes(info.storedBytes)} stored`,
          ],
          ["chunks stored", `${info.chunksStored} of ${info.chunksTotal}`],
        ]
      : [
          ["arrays", info.arrays.join(", ") || "none"],
          ["groups", info.groups.join(", ") || "none"],
        ];
  // Values that were bare NaN/Infinity tokens (non-standard JSON), shown as such.
  const nonStandard = new Set(d.nonStandard);
  const text = JSON.stringify(d.documents, null, 2);
  const jsonEl = h("div", { id: "node-json" });
  const count = h("span", { class: "dim", id: "search-count" });
  const box = h("input", {
    type: "search",
    id: "json-search",
    placeholder: "Search keys and values",
    "aria-label": "Search the metadata",
  });
  box.addEventListener("input", () => {
    const n = search(jsonEl, box.value);
    count.textContent = box.value ? `${n} match${n === 1 ? "" : "es"}` : "";
  });
  pane.append(
    h(
      "div",
      { class: "node-head" },
      h("h2", { id: "node-path", text: path }),
      h("span", { class: "kind", text: info.kind }),
      h("button", {
        type: "button",
        id: "copy-path",
        text: "Copy path",
        onclick: (() => void copyText(path)) as EventListener,
      }),
      h("button", {
        type: "button",
        id: "copy-json",
        text: "Copy JSON",
        onclick: (() => void copyText(text)) as EventListener,
      }),
    ),
    h(
      "dl",
      { class: "facts wide" },
      ...facts.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
    ),
    h("div", { class: "search" }, box, count),
    jsonEl,
  );
  renderJson(jsonEl, d.documents, { nonStandard, highlight: pointer || undefined });
}

async function showConsolidated(): Promise<void> {
  const pane = $("#pane-consolidated");
  if (pane.dataset.loaded) return;
  pane.dataset.loaded = "1";
  const doc = await api.consolidated();
  const jsonEl = h("div", { id: "consolidated-json" });
  const box = h("input", {
    type: "search",
    placeholder: "Search keys and values",
    "aria-label": "Search the consolidated metadata",
  });
  const count = h("span", { class: "dim" });
  box.addEventListener("input", () => {
    const n = search(jsonEl, box.value);
    count.textContent = box.value ? `${n} matches` : "";
  });
  pane.append(
    h(
      "div",
      { class: "node-head" },
      h("h2", { text: "Consolidated metadata" }),
      h("button", {
        type: "button",
        text: "Copy JSON",
        onclick: (() => void copyText(JSON.stringify(doc, null, 2))) as EventListener,
      }),
    ),
    h("p", {
      class: "dim",
      text: inspector.store?.consolidated
        ? "As stored in the store."
        : "The store has none; this is what consolidating it would write.",
    }),
    h("div", { class: "search" }, box, count),
    jsonEl,
  );
  renderJson(jsonEl, doc);
}

async function main(): Promise<void> {
  // A tab the user picked while the page loads stays picked (the first tab is chosen only after
  // the layer list arrives, which can take a while on a busy server).
  let picked = false;
  for (const b of document.querySelectorAll<HTMLButtonElement>("[role=tab]"))
    b.addEventListener("click", () => {
      picked = true;
      showTab(b.dataset.tab as Tab);
    });
  const [store, tree] = await Promise.all([api.store(), api.tree()]);
  inspector.store = store;
  document.title = `${store.name} · geozarr inspector`;
  $("#store-name").textContent = store.name;
  $("#store-badges").append(
    h("span", { class: "badge", text: `Zarr v${store.zarrFormat}` }),
    h("span", {
      class: `badge ${store.consolidated ? "" : "warn"}`,
      text: store.consolidated ? "consolidated" : "not consolidated",
    }),
  );
  if (store.nonStandardJson.length)
    $("#store-badges").append(
      h("span", { class: "badge warn", text: `${store.nonStandardJson.length} non-standard JSON tokens` }),
    );
  const treeView = new TreeView($("#tree"), (path) => void showNode(path));
  treeView.render(tree, new Map());

  // Validation runs on the server while the map loads.
  void api.validate().then(
    (report) => {
      inspector.report = report;
      const worst = new Map<string, "error" | "warning" | "info">();
      const rank = { error: 3, warning: 2, info: 1 };
      for (const f of report.findings) {
        const cur = worst.get(f.path);
        if (!cur || rank[f.severity] > rank[cur]) worst.set(f.path, f.severity);
      }
      treeView.render(tree, worst);
      if (inspector.selected) treeView.select(inspector.selected);
      renderValidation($("#pane-validation"), report, (path, pointer) => {
        treeView.select(path);
        void showNode(path, pointer).then(() => pointer && reveal($("#node-json"), pointer));
      });
      const badge = $<HTMLButtonElement>("#findings-badge");
      const { errors, warnings } = report.summary;
      badge.hidden = false;
      badge.className = `badge ${errors ? "error" : warnings ? "warn" : "ok"}`;
      badge.textContent =
        errors || warnings ? `${plural(errors, "error")}, ${plural(warnings, "warning")}` : "valid";
      badge.onclick = () => {
        picked = true;
        showTab("validation");
      };
    },
    (err: Error) => {
      inspector.errors.push(`validate: ${err.message}`);
      $("#pane-validation").textContent = `Validation failed: ${err.message}`;
    },
  );

  const layers = await api.layers();
  inspector.map = new MapPanel($("#pane-map"), layers);
  if (picked || inspector.selected !== null) {
    if (!$("#pane-map").hidden) inspector.map.start();
  } else if (layers.layers.length > 0) showTab("map");
  else void showNode("/");
}

main().catch((err: Error) => {
  inspector.errors.push(err.message);
  document.body.prepend(h("p", { class: "fatal", text: `The inspector could not start: ${err.message}` }));
});
