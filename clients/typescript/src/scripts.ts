/**
 * The Lua scripts of jobqueue, loaded from the files the Rust crates compile in.
 *
 * A script's source is its include files (`lua/include/<name>.lua`) in order,
 * then its own file, concatenated with no separator: exactly what
 * `jobqueue-core/src/store/scripts.rs` builds, so the SHA1 is the same and
 * Rust, Python and TypeScript processes share the loaded scripts. The scripts
 * are never re-implemented here: the package's `lua` directory is a symbolic
 * link to `jobqueue-core/src/lua` (the repository's single copy; `npm run
 * build` copies it into `dist/lua` for a packed package), and
 * `JOBQUEUE_LUA_DIR` may point at another copy of that directory.
 *
 * `node dist/scripts.js` prints `<name> <sha1>` per script (compared with
 * the Rust registry by examples/tests/typescript_client.rs).
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const FLOW = ["lib", "keys", "records", "new_jobs", "flow"] as const;

/**
 * Include sets, as docs/protocol.md's table ("| includes | scripts |") and the
 * Rust registry give them, for the scripts this package calls.
 */
export const INCLUDES: Readonly<Record<string, readonly string[]>> = {
  heartbeat: ["lib"],
  expired_leases: ["lib"],
  fetch: ["lib", "keys", "records", "observe"],
  fetch_limited: [...FLOW, "observe"],
  ack: ["lib", "keys", "observe"],
  ack_keyed: [...FLOW, "observe"],
  wake_waiters: ["lib"],
  retry: [...FLOW, "observe"],
  bury: [...FLOW, "observe"],
  handback: FLOW,
  reclaim: FLOW,
  promote: FLOW,
  expire: [...FLOW, "observe"],
  enqueue_priority: [...FLOW, "tags"],
  schedule: [...FLOW, "tags"],
  enqueue_with_id: [...FLOW, "tags"],
  enqueue_unique: [...FLOW, "tags"],
  enqueue_idempotent: ["lib", "keys", "records", "new_jobs", "tags"],
  parent_open: FLOW,
  ack_parents: [...FLOW, "observe"],
  release_child: [...FLOW, "tags", "deps"],
  link_child: ["lib"],
  enqueue_waiting: [...FLOW, "tags", "deps"],
};

/** The name of a script this package calls. */
export type ScriptName = keyof typeof INCLUDES & string;

/** One script: its name, full source and SHA1 (lowercase hex). */
export interface LuaScript {
  readonly name: string;
  readonly source: Buffer;
  readonly sha: string;
}

/** The package's directory (the parent of `dist/` or `src/`). */
function packageDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..");
}

/**
 * Where the script files are read from: `JOBQUEUE_LUA_DIR`; else, in the
 * repository, the package's `lua` link to `jobqueue-core/src/lua`; else (a
 * packed copy of the package, which has no link) the copy `npm run build`
 * put in `dist/lua`.
 */
export function luaDir(): string {
  const override = process.env.JOBQUEUE_LUA_DIR;
  if (override) return override;
  const linked = join(packageDir(), "lua");
  return existsSync(linked) ? linked : join(packageDir(), "dist", "lua");
}

/** Builds script `name` from its files, as the Rust registry does. */
export function loadScript(name: string, directory: string = luaDir()): LuaScript {
  const includes = INCLUDES[name];
  if (!includes) throw new Error(`unknown script ${name}`);
  const parts = includes.map((include) => readFileSync(join(directory, "include", `${include}.lua`)));
  parts.push(readFileSync(join(directory, `${name}.lua`)));
  const source = Buffer.concat(parts);
  return { name, source, sha: createHash("sha1").update(source).digest("hex") };
}

/** The scripts this package calls, built once per process (or per directory). */
export class Scripts {
  private readonly byName = new Map<string, LuaScript>();

  constructor(directory: string = luaDir()) {
    for (const name of Object.keys(INCLUDES)) this.byName.set(name, loadScript(name, directory));
  }

  /** Script `name`. */
  get(name: string): LuaScript {
    const script = this.byName.get(name);
    if (!script) throw new Error(`unknown script ${name}`);
    return script;
  }

  /** Every script, in the order of {@link INCLUDES}. */
  all(): LuaScript[] {
    return [...this.byName.values()];
  }
}

let shared: Scripts | undefined;

/** The process-wide {@link Scripts} (built on first use). */
export function sharedScripts(): Scripts {
  shared ??= new Scripts();
  return shared;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const script of sharedScripts().all()) process.stdout.write(`${script.name} ${script.sha}\n`);
}
