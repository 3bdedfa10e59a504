#!/usr/bin/env node
// The geozarr command. The implementation is compiled to dist/ by `npm install` (the prepare script).
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
