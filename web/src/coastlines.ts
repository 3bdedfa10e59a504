/**
 * Natural Earth land outlines (world-atlas land-50m TopoJSON, bundled) as a line layer. Rings that
 * cross the antimeridian jump from +180 to -180 between two points; drawn as they are, that jump
 * is a line across the whole map, so outlines are split there.
 */

import Feature from "ol/Feature.js";
import TopoJSON from "ol/format/TopoJSON.js";
import MultiLineString from "ol/geom/MultiLineString.js";
import type MultiPolygon from "ol/geom/MultiPolygon.js";
import type Polygon from "ol/geom/Polygon.js";
import VectorLayer from "ol/layer/Vector.js";
import VectorSource from "ol/source/Vector.js";
import Stroke from "ol/style/Stroke.js";
import Style from "ol/style/Style.js";
import landUrl from "world-atlas/land-50m.json?url";

/** Split a ring (lon/lat) wherever consecutive points are more than 180 degrees apart in longitude. */
export function splitAtAntimeridian(ring: number[][]): number[][][] {
  const parts: number[][][] = [];
  let cur: number[][] = [];
  for (const p of ring) {
    const prev = cur[cur.length - 1];
    if (prev && Math.abs(p[0]! - prev[0]!) > 180) {
      if (cur.length > 1) parts.push(cur);
      cur = [];
    }
    cur.push(p);
  }
  if (cur.length > 1) parts.push(cur);
  return parts;
}

export function coastlineLayer(): VectorLayer {
  const source = new VectorSource({
    loader: (_extent, _resolution, projection) => {
      void load(projection);
    },
  });
  async function load(projection: import("ol/proj/Projection.js").default): Promise<void> {
    try {
      const topo = await (await fetch(landUrl)).json();
      const polygons = new TopoJSON({ layers: ["land"] }).readFeatures(topo);
      const lines: number[][][] = [];
      for (const f of polygons) {
        const g = f.getGeometry() as Polygon | MultiPolygon;
        const rings =
          g.getType() === "Polygon"
            ? (g as Polygon).getCoordinates()
            : (g as MultiPolygon).getCoordinates().flat();
        for (const r of rings) lines.push(...splitAtAntimeridian(r));
      }
      const feature = new Feature(new MultiLineString(lines).transform("EPSG:4326", projection));
      source.addFeature(feature);
    } catch {
      // No coastlines is not worth an error: the map still shows the data and the graticule.
    }
  }
  return new VectorLayer({
    source,
    style: new Style({ stroke: new Stroke({ color: "rgba(20, 20, 20, 0.85)", width: 0.8 }) }),
    zIndex: 2,
  });
}
