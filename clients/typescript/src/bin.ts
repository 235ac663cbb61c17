#!/usr/bin/env node
/**
 * `jobqueue-worker-ts` / `node dist/bin.js`: a worker running the handlers
 * of the module named by `--handlers` (see cli.ts).
 */

import { runWorkerCli } from "./cli.js";

runWorkerCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
});
