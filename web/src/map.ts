/**
 * The map preview: a 2-D plane of a data variable drawn by OpenLayers' `ol/source/GeoZarr` from a
 * GeoZarr multiscale store the server exposes (the display overview, src/pyramid/overview.ts), over
 * a graticule and Natural Earth coastlines bundled with the page (world-atlas, no network).
 * Colormap and stretch are WebGL style variables, so changing them does not reload any data.
 */

import Graticule from "ol/layer/Graticule.js";
import WebGLTileLayer from "ol/layer/WebGLTile.js";
import OlMap from "ol/Map.js";
import { register } from "ol/proj/proj4.js";
import { get as getProjection, transform, transformExtent } from "ol/proj.js";
import GeoZarr from "ol/source/GeoZarr.js";
import Stroke from "ol/style/Stroke.js";
import View from "ol/View.js";
import proj4 from "proj4";
import { api, type LayerInfo, type LayerList, type OverviewRef } from "./api.js";
import { coastlineLayer } from "./coastlines.js";
import { COLORMAPS, rgb } from "./colormaps.js";
import { clear, h } from "./dom.js";
import { formatValue, renderLegend } from "./legend.js";
import "ol/ol.css";

type LayerCrs = LayerInfo["crs"];

/** What end-to-end tests read (window.__inspector.map). */
export interface MapState {
  layer: string | null;
  sel: string;
  ready: boolean;
  rendercomplete: number;
  errors: string[];
  overview: OverviewRef | null;
}

/** The OpenLayers projection code for a layer's CRS, registering it with proj4 when needed. */
function projectionFor(crs: LayerCrs): string {
  if (!crs) return "EPSG:4326";
  const code = crs.code ?? "GEOZARR:DATA";
  if (!getProjection(code)) {
    const def = crs.proj4 ?? crs.wkt;
    if (!def) throw new Error(`no definition for CRS ${crs.name}`);
    proj4.defs(code, def);
    register(proj4);
  }
  return code;
}

/** A free view: it may show the whole globe with margins (showFullExtent), not only fill the screen. */
function newView(projection: string): View {
  return new View({ projection, center: [0, 0], zoom: 1, showFullExtent: true });
}

/** The colormap over [min, max] of the physical value (stored values unpacked with `packing`). */
function colorStyle(colormap: string, packing: OverviewRef["packing"]) {
  const stops = COLORMAPS[colormap]!;
  const value = packing ? ["+", ["*", ["band", 1], packing.scale], packing.offset] : ["band", 1];
  const t = ["clamp", ["/", ["-", value, ["var", "min"]], ["-", ["var", "max"], ["var", "min"]]], 0, 1];
  return {
    variables: { min: 0, max: 1 },
    color: [
      "interpolate",
      ["linear"],
      t,
      ...stops.flatMap((c, i) => [i / (stops.length - 1), [...rgb(c), 1]]),
    ],
  };
}

export class MapPanel {
  olMap(): OlMap | null {
    return this.#map;
  }

  readonly state: MapState = {
    layer: null,
    sel: "",
    ready: false,
    rendercomplete: 0,
    errors: [],
    overview: null,
  };
  #map: OlMap | null = null;
  #data: WebGLTileLayer | null = null;
  #layer: LayerInfo | null = null;
  #colormap = "viridis";
  #stretch = { min: 0, max: 1 };
  #viewProjection = "EPSG:4326";
  readonly #controls = h("div", { class: "map-controls" });
  readonly #mapEl = h("div", { id: "map", class: "map" });
  readonly #legend = h("div", { class: "legend", id: "legend" });
  readonly #status = h("div", { class: "map-status", id: "map-status", "aria-live": "polite" });
  readonly #cursor = h("div", {
    class: "cursor-value",
    id: "cursor-value",
    text: "Move over the map to read values.",
  });

  constructor(
    readonly root: HTMLElement,
    readonly list: LayerList,
  ) {
    clear(root);
    if (list.layers.length === 0) {
      root.append(
        h("p", { class: "empty", text: "No array in this store can be drawn on a map." }),
        ...list.skipped.map((s) => h("p", { class: "dim", text: `${s.path}: ${s.why}` })),
      );
      return;
    }
    root.append(
      this.#controls,
      h("div", { class: "map-wrap" }, this.#mapEl, this.#legend),
      h("div", { class: "map-foot" }, this.#cursor, this.#status),
    );
  }

  /** Create the OpenLayers map (once the pane is visible, so it has a size). */
  start(): void {
    if (this.#map || this.list.layers.length === 0) return;
    const coast = coastlineLayer();
    const graticule = new Graticule({
      strokeStyle: new Stroke({ color: "rgba(60, 60, 60, 0.35)", width: 1, lineDash: [2, 4] }),
      showLabels: true,
      wrapX: false,
      zIndex: 3,
    });
    this.#map = new OlMap({
      target: this.#mapEl,
      layers: [coast, graticule],
      view: newView(this.#viewProjection),
    });
    this.#map.on("rendercomplete", () => {
      if (this.state.ready) this.state.rendercomplete++;
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.#map.on("pointermove", (e) => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.#readValue(e.coordinate), 120);
    });
    void this.show(this.list.layers[0]!, {});
  }

  /** Draw `layer` at the plane `select` (dimension name -> index). */
  async show(layer: LayerInfo, select: Record<string, number>): Promise<void> {
    this.#layer = layer;
    const sel = layer.dims.map((d) => `${d.name}:${select[d.name] ?? 0}`).join(",");
    Object.assign(this.state, { layer: layer.path, sel, ready: false });
    this.#renderControls(layer, select);
    this.#status.textContent = `Preparing the overview of ${layer.name}…`;
    let ov: OverviewRef;
    try {
      ov = await api.overview(layer.path, sel);
    } catch (err) {
      this.#fail(`overview: ${(err as Error).message}`);
      return;
    }
    if (this.state.layer !== layer.path || this.state.sel !== sel) return; // superseded
    this.state.overview = ov;
    const projection = projectionFor(layer.crs);
    // A store with zarr-conventions multiscales is read straight from /store/ (its own levels and
    // packed values); otherwise the server's display overview.
    const source = new GeoZarr({
      url: new URL(ov.url, location.href).href,
      variable: ov.variable,
      ...(ov.source === "store" ? { dimensions: ov.dimensions } : {}),
      projection,
      wrapX: false,
    });
    source.on("change", () => {
      if (source.getState() === "error")
        this.#fail(`map source: ${String((source as unknown as { error_?: unknown }).error_ ?? "error")}`);
    });
    source.on("tileloaderror", () => this.#fail("a tile failed to load"));
    const data = new WebGLTileLayer({
      source,
      style: colorStyle(this.#colormap, ov.packing) as never,
      zIndex: 1,
    });
    if (this.#data) this.#map!.removeLayer(this.#data);
    this.#data = data;
    this.#map!.addLayer(data);
    this.#setStretch(ov.p2 ?? 0, ov.p98 ?? 1);
    this.#fit(layer, projection);
    const levels = ov.levels.map((l) => `${l.shape[1]}×${l.shape[0]}`).join(", ");
    const best =
      ov.levels[0]!.factor === 1 ? "full resolution" : `1/${ov.levels[0]!.factor} of full resolution`;
    this.#status.textContent =
      ov.source === "store"
        ? `The store's own levels ${levels}, read from the store.`
        : `Overview levels ${levels} (finest: ${best}; ${ov.cached ? "cached" : `built in ${ov.buildSeconds.toFixed(1)} s`}).`;
    this.state.ready = true;
  }

  #fail(message: string): void {
    this.state.errors.push(message);
    this.#status.textContent = message;
    this.#status.classList.add("error");
  }

  #fit(layer: LayerInfo, projection: string): void {
    const view = this.#map!.getView();
    let extent = transformExtent(layer.bbox, projection, view.getProjection());
    if (view.getProjection().getCode() === "EPSG:3857") {
      const lim = transformExtent([-180, -85, 180, 85], "EPSG:4326", "EPSG:3857");
      extent = [
        Math.max(extent[0]!, lim[0]!),
        Math.max(extent[1]!, lim[1]!),
        Math.min(extent[2]!, lim[2]!),
        Math.min(extent[3]!, lim[3]!),
      ];
    }
    this.#map!.updateSize();
    view.fit(extent, { size: this.#map!.getSize() });
  }

  #setStretch(min: number, max: number): void {
    if (!(max > min)) max = min + 1;
    this.#stretch = { min, max };
    this.#data?.updateStyleVariables({ min, max });
    const lo = this.#controls.querySelector<HTMLInputElement>("#stretch-min");
    const hi = this.#controls.querySelector<HTMLInputElement>("#stretch-max");
    if (lo) lo.value = formatValue(min);
    if (hi) hi.value = formatValue(max);
    const l = this.#layer!;
    renderLegend(this.#legend, this.#colormap, min, max, l.units, l.longName ?? l.name);
  }

  #renderControls(layer: LayerInfo, select: Record<string, number>): void {
    clear(this.#controls);
    const layerSelect = h("select", { id: "layer-select", "aria-label": "Variable" });
    for (const l of this.list.layers)
      layerSelect.append(h("option", { value: l.path, text: l.path, selected: l.path === layer.path }));
    layerSelect.addEventListener(
      "change",
      () => void this.show(this.list.layers.find((l) => l.path === layerSelect.value)!, {}),
    );

    const dims = layer.dims.map((d) => {
      const i = select[d.name] ?? 0;
      const label = h("span", {
        class: "dim-label",
        id: `dim-label-${d.name}`,
        text: d.labels?.[i] ?? String(i),
      });
      if (d.size === 1) return h("label", {}, `${d.name}: `, label);
      const range = h("input", {
        type: "range",
        min: 0,
        max: d.size - 1,
        value: i,
        id: `dim-${d.name}`,
        "aria-label": d.name,
      });
      range.addEventListener("input", () => {
        label.textContent = d.labels?.[Number(range.value)] ?? range.value;
      });
      range.addEventListener(
        "change",
        () => void this.show(layer, { ...select, [d.name]: Number(range.value) }),
      );
      return h("label", {}, `${d.name}: `, range, label);
    });

    const cmap = h("select", { id: "colormap", "aria-label": "Colormap" });
    for (const name of Object.keys(COLORMAPS))
      cmap.append(h("option", { value: name, text: name, selected: name === this.#colormap }));
    cmap.addEventListener("change", () => {
      this.#colormap = cmap.value;
      this.#data?.setStyle(colorStyle(this.#colormap, this.state.overview?.packing ?? null) as never);
      this.#setStretch(this.#stretch.min, this.#stretch.max);
    });

    const num = (id: string, label: string) => {
      const input = h("input", { type: "number", id, step: "any", "aria-label": label, class: "stretch" });
      input.addEventListener("change", () => {
        const lo = Number((this.#controls.querySelector("#stretch-min") as HTMLInputElement).value);
        const hi = Number((this.#controls.querySelector("#stretch-max") as HTMLInputElement).value);
        if (Number.isFinite(lo) && Number.isFinite(hi)) this.#setStretch(lo, hi);
      });
      return input;
    };
    const reset = (text: string, pick: (o: OverviewRef) => [number | null, number | null]) =>
      h("button", {
        type: "button",
        text,
        onclick: (() => {
          const o = this.state.overview;
          if (!o) return;
          const [lo, hi] = pick(o);
          if (lo !== null && hi !== null) this.#setStretch(lo, hi);
        }) as EventListener,
      });

    const proj = h("select", { id: "view-projection", "aria-label": "Map projection" });
    for (const code of ["EPSG:4326", "EPSG:3857"])
      proj.append(h("option", { value: code, text: code, selected: code === this.#viewProjection }));
    proj.addEventListener("change", () => {
      this.#viewProjection = proj.value;
      this.#map!.setView(newView(proj.value));
      this.#fit(layer, projectionFor(layer.crs));
    });

    this.#controls.append(
      h("label", {}, "Variable ", layerSelect),
      ...dims,
      h("label", {}, "Colormap ", cmap),
      h(
        "span",
        { class: "stretch-group" },
        "Stretch ",
        num("stretch-min", "Stretch minimum"),
        " – ",
        num("stretch-max", "Stretch maximum"),
        " ",
        reset("2–98 %", (o) => [o.p2, o.p98]),
        reset("min–max", (o) => [o.min, o.max]),
      ),
      h("label", {}, "Projection ", proj),
    );
  }

  async #readValue(coordinate: number[]): Promise<void> {
    const layer = this.#layer;
    if (!layer || !this.#map || !this.state.ready) return;
    const [x, y] = transform(coordinate, this.#map.getView().getProjection(), projectionFor(layer.crs));
    const [lon, lat] = transform(coordinate, this.#map.getView().getProjection(), "EPSG:4326");
    const where = `${Math.abs(lat!).toFixed(3)}°${lat! >= 0 ? "N" : "S"} ${Math.abs(lon!).toFixed(3)}°${lon! >= 0 ? "E" : "W"}`;
    try {
      const v = await api.value(layer.path, this.state.sel, x!, y!);
      if (!v) this.#cursor.textContent = `${where}: outside the grid`;
      else if (v.value === null)
        this.#cursor.textContent = `${where} (row ${v.row}, col ${v.col}): ${layer.name} missing`;
      else
        this.#cursor.textContent = `${where} (row ${v.row}, col ${v.col}): ${layer.name} = ${formatValue(v.value)}${layer.units ? ` ${layer.units}` : ""}`;
    } catch (err) {
      this.#cursor.textContent = `${where}: ${(err as Error).message}`;
    }
  }
}
