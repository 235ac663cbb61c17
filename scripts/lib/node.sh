# shellcheck shell=bash
# Builds the TypeScript client (clients/typescript) that its own tests
# (`npm test`), examples/tests/typescript_client.rs and the conformance
# adapter (conformance/adapters/typescript) use: `npm ci` then `npm run build`
# (dist/, never committed). Needs Node ≥ 20 and npm.

# True when node ≥ 20 and npm are on the PATH.
node_is_usable() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || return 1
  [ "${major:-0}" -ge 20 ]
}

# Installs the client's locked dependencies and builds it. Without node ≥ 20
# it prints a loud warning and exports JOBQUEUE_SKIP_TYPESCRIPT with the
# reason (scripts/test then skips the TypeScript steps, loudly).
ensure_typescript_client() {
  if ! node_is_usable; then
    export JOBQUEUE_SKIP_TYPESCRIPT="node >= 20 and npm are needed (found: $(node --version 2>/dev/null || echo none))"
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! the TypeScript client will NOT be built or tested: %s\n' "$JOBQUEUE_SKIP_TYPESCRIPT" >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
    return 0
  fi
  echo "building the TypeScript client (npm ci, npm run build in clients/typescript)…" >&2
  (
    cd clients/typescript
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    rm -rf dist
    npm run build --silent
  )
}
