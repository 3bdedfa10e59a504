#!/usr/bin/env node
// The geozarr command. The implementation is compiled to dist/ by `npm install` (the prepare script).
import { main } from "../dist/cli/main.js";

const code = await main(process.argv.slice(2));
// Interrupted (130) or terminated (143): leave now, whatever handles a stopped command left open.
if (code === 130 || code === 143) process.exit(code);
process.exitCode = code;
