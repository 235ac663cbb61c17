// The scripts exist once: the package's `lua` directory must be the
// repository's jobqueue-core/src/lua byte for byte, its include sets must be
// docs/protocol.md's table (which a Rust test keeps equal to the Rust
// registry), and Redis must compute the SHA1 the package computes.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { INCLUDES, Scripts, VERSION, luaDir } from "../dist/index.js";
import { isolated } from "./support.mjs";

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), "..");
const REPO = join(PACKAGE, "..", "..");
const SOURCE = join(REPO, "jobqueue-core", "src", "lua");

function luaFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".lua")) out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

test("the package reads the repository's single copy of the scripts", { skip: !existsSync(SOURCE) }, () => {
  const used = luaDir();
  assert.equal(realpathSync(used), realpathSync(SOURCE), `${used} is not a link to ${SOURCE}`);
  const names = luaFiles(SOURCE);
  assert.deepEqual(luaFiles(used), names);
  const drifted = names.filter((n) => !readFileSync(join(used, n)).equals(readFileSync(join(SOURCE, n))));
  assert.deepEqual(drifted, []);
});

test("the copy in dist/lua (for a packed package) is the repository's, byte for byte", { skip: !existsSync(SOURCE) }, () => {
  const copy = join(PACKAGE, "dist", "lua");
  const names = luaFiles(SOURCE);
  assert.deepEqual(luaFiles(copy), names, "run npm run build");
  const drifted = names.filter((n) => !readFileSync(join(copy, n)).equals(readFileSync(join(SOURCE, n))));
  assert.deepEqual(drifted, [], "dist/lua drifted from jobqueue-core/src/lua: run npm run build");
});

test("the include sets are the ones docs/protocol.md lists", { skip: !existsSync(SOURCE) }, () => {
  const doc = readFileSync(join(REPO, "docs", "protocol.md"), "utf8");
  const rows = doc.split("| includes | scripts |")[1].split("\n").slice(2);
  const documented = new Map();
  for (const row of rows) {
    if (!row.startsWith("|")) break;
    const [includesCell, scriptsCell] = row.replace(/^\||\|$/g, "").split("|");
    const includes = [...includesCell.matchAll(/`(\w+)\.lua`/g)].map((m) => m[1]);
    for (const m of scriptsCell.matchAll(/`(\w+)`/g)) documented.set(m[1], includes);
  }
  for (const [name, includes] of Object.entries(INCLUDES)) {
    assert.deepEqual(documented.get(name), [...includes], name);
  }
});

test("Redis computes the same SHA1 for every script", async () => {
  const t = isolated("scripts");
  try {
    for (const script of new Scripts().all()) {
      assert.equal(await t.redis.script("LOAD", script.source), script.sha, script.name);
    }
  } finally {
    await t.cleanup();
  }
});

test("the version constant is package.json's", () => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8"));
  assert.equal(VERSION, pkg.version);
});
