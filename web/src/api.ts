/** The inspector's JSON API (src/server/api.ts), typed with the server's own types. */

import type { ArrayInfo, GroupInfo } from "../../src/inspect/info.js";
import type { TreeNode } from "../../src/inspect/tree.js";
import type { LayerList, OverviewRef } from "../../src/server/layers.js";
import type { Report } from "../../src/validate/validate.js";

export type { LayerInfo } from "../../src/server/layers.js";
export type { Finding } from "../../src/validate/rule.js";
export type { ArrayInfo, GroupInfo, LayerList, OverviewRef, Report, TreeNode };

export interface StoreSummary {
  name: string;
  zarrFormat: 2 | 3;
  consolidated: boolean;
  nonStandardJson: { key: string; pointer: string }[];
}

export interface NodeDetails {
  info: ArrayInfo | GroupInfo;
  documents: Record<string, unknown>;
  /** Pointers into `documents` of values that were bare NaN/Infinity tokens. */
  nonStandard: string[];
}

export interface CellValue {
  row: number;
  col: number;
  raw: number | null;
  value: number | null;
}

export class ApiError extends Error {}

async function get<T>(route: string, params: Record<string, string> = {}): Promise<T> {
  const q = new URLSearchParams(params).toString();
  const res = await fetch(`api/${route}${q ? `?${q}` : ""}`);
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw new ApiError((body as { error?: string }).error ?? `HTTP ${res.status}`);
  return body as T;
}

export const api = {
  store: () => get<StoreSummary>("store"),
  tree: () => get<TreeNode>("tree"),
  node: (path: string) => get<NodeDetails>("node", { path }),
  consolidated: () => get<Record<string, unknown>>("consolidated"),
  validate: () => get<Report>("validate"),
  layers: () => get<LayerList>("layers"),
  overview: (path: string, sel: string) => get<OverviewRef>("overview", { path, sel }),
  value: (path: string, sel: string, x: number, y: number) =>
    get<CellValue | null>("value", { path, sel, x: String(x), y: String(y) }),
};
