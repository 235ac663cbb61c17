/**
 * Sending commands and script calls in one pipelined round trip.
 *
 * A script is called with `EVALSHA`; when Redis does not know it (after a
 * restart or `SCRIPT FLUSH`) the call fails with `NOSCRIPT` without running,
 * so the script is loaded and only the calls that failed are sent again.
 */

import type { Redis } from "ioredis";

import type { LuaScript } from "./scripts.js";

/** One argument of a command. */
export type Arg = string | Buffer | number;

/** One command: its arguments, the script when it is an `EVALSHA`, and whether replies stay bytes. */
export interface Command {
  readonly name: string;
  readonly args: Arg[];
  readonly script?: LuaScript;
  /** Bulk replies as Buffers (records), not strings. */
  readonly buffer?: boolean;
}

/** A plain command. */
export function command(name: string, ...args: Arg[]): Command {
  return { name, args };
}

/** A call of `script` with `keys` and `args`. */
export function evalsha(script: LuaScript, keys: readonly string[], args: readonly Arg[], buffer = false): Command {
  return { name: "EVALSHA", args: [script.sha, keys.length, ...keys, ...args], script, buffer };
}

function isNoScript(result: unknown): boolean {
  return result instanceof Error && result.message.startsWith("NOSCRIPT");
}

async function send(redis: Redis, commands: readonly Command[]): Promise<unknown[]> {
  if (commands.length === 1) {
    const only = commands[0]!;
    try {
      return [await (only.buffer ? redis.callBuffer(only.name, only.args) : redis.call(only.name, only.args))];
    } catch (err) {
      if (err instanceof Error && err.name === "ReplyError") return [err];
      throw err;
    }
  }
  const pipeline = redis.pipeline();
  for (const c of commands) {
    if (c.buffer) pipeline.callBuffer(c.name, c.args);
    else pipeline.call(c.name, c.args);
  }
  const replies = await pipeline.exec();
  if (!replies) throw new Error("the pipeline was not sent");
  return replies.map(([err, value]) => err ?? value);
}

/** Sends `commands` in one pipeline; returns their replies (throws the first error). */
export async function run(redis: Redis, commands: readonly Command[]): Promise<unknown[]> {
  if (commands.length === 0) return [];
  const results = await send(redis, commands);
  const missing = results.flatMap((result, i) => (commands[i]!.script && isNoScript(result) ? [i] : []));
  if (missing.length > 0) {
    const scripts = new Map<string, LuaScript>();
    for (const i of missing) scripts.set(commands[i]!.script!.sha, commands[i]!.script!);
    for (const script of scripts.values()) await redis.call("SCRIPT", ["LOAD", script.source]);
    const again = await send(redis, missing.map((i) => commands[i]!));
    missing.forEach((index, n) => {
      results[index] = again[n];
    });
  }
  for (const result of results) {
    if (result instanceof Error) throw result;
  }
  return results;
}

/** Runs one command; returns its reply. */
export async function runOne(redis: Redis, one: Command): Promise<unknown> {
  return (await run(redis, [one]))[0];
}

/** A reply as text (Buffers decoded as UTF-8). */
export function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}
