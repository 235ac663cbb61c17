/**
 * jobqueue-client: a TypeScript producer and worker for jobqueue.
 *
 * Runs the same Lua scripts as the Rust crates (docs/protocol.md) against the
 * same Redis keys, so Rust, Python and TypeScript producers and workers share
 * queues.
 */

export { Client, EnqueueError, uniqueDigest } from "./producer.js";
export type { ClientOptions, Enqueued, JobOptions, JobSpec, JobStatus, UniqueMode } from "./producer.js";
export { InvalidName, QueueKeys } from "./keys.js";
export { Backoff, DEFAULT_BACKOFF, uuid7 } from "./record.js";
export type { Envelope, ErrorEntry } from "./record.js";
export { INCLUDES, Scripts, loadScript, luaDir, sharedScripts } from "./scripts.js";
export type { LuaScript } from "./scripts.js";
export { PermanentError, Worker, describeError } from "./worker.js";
export type { Handler, JobContext, JobTypeOptions, WorkerOptions } from "./worker.js";
export { VERSION } from "./version.js";
export { runWorkerCli } from "./cli.js";
export type { Register } from "./cli.js";
