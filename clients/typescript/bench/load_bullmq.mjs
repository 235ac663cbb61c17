// Loads BullMQ (and, on request, ioredis) from the scratch directory
// that BULLMQ_DIR names, where `npm install bullmq` ran: BullMQ is not a
// dependency of the TypeScript client, only of its comparisons
// (bullmq_bench.mjs here, scripts/peers/bullmq_w3.mjs for bench-peers).
// Exits with status 2 and a one-line hint when BULLMQ_DIR is unset.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dir = process.env.BULLMQ_DIR;
if (!dir) {
  process.stderr.write("set BULLMQ_DIR to a directory where `npm install bullmq` ran\n");
  process.exit(2);
}
const require = createRequire(join(dir, "package.json"));
const load = async (name) => import(pathToFileURL(require.resolve(name)).href);

export const { Queue, Worker } = await load("bullmq");
export const bullmqVersion = require("bullmq/package.json").version;

/** The ioredis client class (install it next to bullmq: recent BullMQ
 * releases no longer bring it along). */
export const loadIORedis = async () => (await load("ioredis")).default;
