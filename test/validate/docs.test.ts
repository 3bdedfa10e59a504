/**
 * Generated docs are current: docs/rules.md from the rule catalogue, docs/cli.md from the commands.
 * Regenerate with `npm run docs`.
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cliMarkdown } from "../../src/cli/docs.js";
import { RULES } from "../../src/validate/rules/index.js";
import { rulesMarkdown } from "../../src/validate/validate.js";

describe("generated docs", () => {
  it("docs/rules.md lists every rule as the catalogue has it", () => {
    expect(readFileSync("docs/rules.md", "utf8")).toBe(rulesMarkdown());
    for (const r of RULES) expect(rulesMarkdown()).toContain(`| ${r.id} | ${r.severity} |`);
  });

  it("docs/cli.md has every command's help", () => {
    expect(readFileSync("docs/cli.md", "utf8")).toBe(cliMarkdown());
  });
});
