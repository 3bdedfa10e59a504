/** The colormap legend: gradient bar, min/mid/max labels in the variable's units. */

import { cssGradient } from "./colormaps.js";
import { clear, h } from "./dom.js";

export function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return Number(v.toPrecision(6)).toString();
}

export function renderLegend(
  el: HTMLElement,
  colormap: string,
  min: number,
  max: number,
  units: string | null,
  title: string,
): void {
  clear(el);
  el.append(
    h(
      "div",
      { class: "legend-title" },
      h("span", { text: title }),
      units ? h("span", { class: "units", text: ` (${units})` }) : null,
    ),
    h("div", { class: "legend-bar", style: `background: ${cssGradient(colormap)}` }),
    h(
      "div",
      { class: "legend-ticks" },
      h("span", { text: formatValue(min) }),
      h("span", { text: formatValue((min + max) / 2) }),
      h("span", { text: formatValue(max) }),
    ),
  );
}
