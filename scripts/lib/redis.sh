# shellcheck shell=bash
# Helpers shared by scripts/test and scripts/demo: make sure redis-server is
# installed, and find or start a Redis to talk to.

# Installs Debian's redis-server when it is missing (needs root, as in CI).
ensure_redis_installed() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "redis-server is not installed; install it (Debian: apt-get install redis-server) and retry" >&2
    return 1
  fi
  echo "installing redis-server (apt-get)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server >/dev/null
}

# True when a Redis answers PING at host $1 port $2.
redis_answers() {
  redis-cli -h "$1" -p "$2" ping 2>/dev/null | grep -q PONG
}

# A TCP port nothing listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# Starts a throw-away redis-server on a free port (no persistence), exports
# its URL as the variable named $1, and stops it when the script exits.
start_private_redis() {
  local var=$1 port dir
  port=$(free_port)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/jobqueue-redis.XXXXXX")
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 1 100); do
    redis_answers 127.0.0.1 "$port" && break
    sleep 0.05
  done
  if ! redis_answers 127.0.0.1 "$port"; then
    echo "could not start redis-server on port $port (log: $dir/redis.log)" >&2
    return 1
  fi
  PRIVATE_REDIS_PID=$(cat "$dir/redis.pid")
  PRIVATE_REDIS_DIR=$dir
  trap stop_private_redis EXIT
  export "$var=redis://127.0.0.1:$port"
  echo "started a private redis-server on port $port" >&2
}

# Stops the redis-server start_private_redis started and removes its
# directory. Waits for the process to exit first: removing the directory
# while Redis still writes its log on the way down fails with "Directory not
# empty". Never fails, so it cannot turn a passing run into a failing one.
stop_private_redis() {
  [ -n "${PRIVATE_REDIS_PID:-}" ] || return 0
  kill "$PRIVATE_REDIS_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$PRIVATE_REDIS_PID" 2>/dev/null || break
    sleep 0.05
  done
  rm -rf "$PRIVATE_REDIS_DIR" 2>/dev/null || true
  return 0
}
