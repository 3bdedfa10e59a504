#!/usr/bin/env node
// `npm run docs`: regenerate the docs that come from code: docs/rules.md (the validation rule
// catalogue) and docs/cli.md (every command's --help). Tests fail when the committed files are stale.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cliMarkdown } from "../dist/cli/docs.js";
import { rulesMarkdown } from "../dist/node.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
writeFileSync(join(root, "docs", "rules.md"), rulesMarkdown());
writeFileSync(join(root, "docs", "cli.md"), cliMarkdown());
console.log("wrote docs/rules.md and docs/cli.md");
