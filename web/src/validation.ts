/** The validation panel: `geozarr validate`'s findings grouped by node, each linked to its node. */

import type { Finding, Report } from "./api.js";
import { clear, h } from "./dom.js";

export function renderValidation(
  root: HTMLElement,
  report: Report,
  open: (path: string, pointer: string) => void,
): void {
  clear(root);
  const { errors, warnings, infos } = report.summary;
  root.append(
    h(
      "p",
      { class: "summary", id: "validation-summary" },
      h("span", { class: `sev error`, text: `${errors} error${errors === 1 ? "" : "s"}` }),
      h("span", { class: `sev warning`, text: `${warnings} warning${warnings === 1 ? "" : "s"}` }),
      h("span", { class: `sev info`, text: `${infos} info${infos === 1 ? "" : "s"}` }),
      h("span", { class: "dim", text: ` · CF standard name table v${report.cf_standard_name_table}` }),
    ),
  );
  if (report.findings.length === 0) {
    root.append(h("p", { text: "No findings: the store follows every rule checked." }));
    return;
  }
  const byNode = new Map<string, Finding[]>();
  for (const f of report.findings) byNode.set(f.path, [...(byNode.get(f.path) ?? []), f]);
  const list = h("div", { class: "findings" });
  for (const [path, findings] of byNode) {
    const section = h("section", { class: "finding-node" });
    section.append(
      h(
        "h3",
        {},
        h("a", {
          href: "#",
          class: "node-link",
          "data-path": path,
          text: path,
          onclick: ((e: Event) => {
            e.preventDefault();
            open(path, "");
          }) as EventListener,
        }),
      ),
    );
    for (const f of findings) {
      section.append(
        h(
          "div",
          { class: `finding ${f.severity}`, "data-rule": f.rule },
          h("span", { class: `sev ${f.severity}`, text: f.severity }),
          h("code", { class: "rule", text: f.rule }),
          h("a", {
            href: "#",
            class: "message",
            text: f.message,
            title: f.pointer ? `show ${f.pointer}` : "show the node",
            onclick: ((e: Event) => {
              e.preventDefault();
              open(f.path, f.pointer);
            }) as EventListener,
          }),
          f.fix ? h("div", { class: "fix", text: `fix: ${f.fix}` }) : null,
        ),
      );
    }
    list.append(section);
  }
  root.append(list);
}
