/**
 * The inspector's JSON API: thin over the library (inspect/, validate/, map layers).
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { GeoZarrError } from "../errors.js";
import { consolidatedDocument, nodeDocuments, nodeInfo, nonStandardPointers } from "../inspect/info.js";
import { buildTree } from "../inspect/tree.js";
import type { WorkerPool } from "../parallel/pool.js";
import { type Report, validateStore } from "../validate/validate.js";
import { type Hierarchy, openHierarchy } from "../zarr/hierarchy.js";
import { FileSystemStore } from "../zarr/store/fs.js";
import type { Store } from "../zarr/store/types.js";
import { sendJson } from "./http-util.js";
import { Layers, type LayersOptions, type OverviewRef } from "./layers.js";

function required(q: URLSearchParams, name: string): string {
  const v = q.get(name);
  if (v === null || v === "") throw new GeoZarrError("Usage", `missing query parameter ${name}`);
  return v;
}

function number(q: URLSearchParams, name: string): number {
  const v = Number(required(q, name));
  if (!Number.isFinite(v)) throw new GeoZarrError("Usage", `query parameter ${name} must be a number`);
  return v;
}

/** Plane selection "sel=time:3,depth:0" (dimension name : index). */
function selection(q: URLSearchParams): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (q.get("sel") ?? "").split(",").filter(Boolean)) {
    const m = /^([^:]+):(-?\d+)$/.exec(part);
    if (!m) throw new GeoZarrError("Usage", `sel: expected dimension:index, got ${JSON.stringify(part)}`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export class Api {
  #report: Promise<Report> | undefined;

  private constructor(
    readonly store: Store,
    readonly name: string,
    readonly h: Hierarchy,
    readonly layers: Layers,
  ) {}

  static async open(store: Store, name: string, pool: WorkerPool, opts: LayersOptions): Promise<Api> {
    const h = await openHierarchy(store, { name });
    // Fingerprints name the store by its real path, or its URL.
    return new Api(
      store,
      name,
      h,
      new Layers(h, pool, opts, store instanceof FileSystemStore ? store.root : name),
    );
  }

  /** Stop the overview builds (and remove their partial output). */
  close(): Promise<void> {
    return this.layers.close();
  }

  report(): Promise<Report> {
    this.#report ??= validateStore(this.store, this.name);
    return this.#report;
  }

  async handle(route: string, q: URLSearchParams, res: ServerResponse): Promise<void> {
    switch (route) {
      case "store":
        return sendJson(res, {
          name: this.name,
          zarrFormat: this.h.zarrFormat,
          consolidated: this.h.source === "consolidated",
          nonStandardJson: this.h.nonStandardJson,
        });
      case "tree":
        return sendJson(res, buildTree(this.h));
      case "node": {
        const path = q.get("path") ?? "/";
        return sendJson(res, {
          info: await nodeInfo(this.h, path),
          documents: nodeDocuments(this.h, path),
          // Bare NaN/Infinity tokens (non-standard JSON), so the page can tell them from the
          // strings "NaN" the specs write; strict JSON carries both as "NaN".
          nonStandard: nonStandardPointers(this.h, path),
        });
      }
      case "consolidated":
        return sendJson(res, consolidatedDocument(this.h));
      case "validate":
        return sendJson(res, await this.report());
      case "layers":
        return sendJson(res, await this.layers.list());
      case "overview": {
        const layer = await this.layers.layer(required(q, "path"));
        return sendJson(res, await this.layers.overview(layer.path, Layers.index(layer, selection(q))));
      }
      case "value": {
        const layer = await this.layers.layer(required(q, "path"));
        const index = Layers.index(layer, selection(q));
        return sendJson(res, await this.layers.value(layer.path, index, number(q, "x"), number(q, "y")));
      }
      default:
        throw new GeoZarrError("NotFound", `no API route ${JSON.stringify(route)}`);
    }
  }

  /** Build (or load) the overview the page shows first: the first layer, first plane. */
  async warmUp(): Promise<OverviewRef | null> {
    const first = (await this.layers.list()).layers[0];
    return first
      ? this.layers.overview(
          first.path,
          first.shape.map(() => 0),
        )
      : null;
  }

  serveOverview(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.layers.serve(path, req, res);
  }
}
