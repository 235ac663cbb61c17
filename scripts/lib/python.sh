# shellcheck shell=bash
# Makes sure python3 can `import redis`, for the interop test
# (examples/tests/interop.rs runs examples/interop/enqueue.py), and installs
# the Python client (clients/python) that examples/tests/python_client.rs
# and the Python client's own tests use.

ensure_python_redis() {
  if ! command -v python3 >/dev/null 2>&1; then
    if [ "$(id -u)" != "0" ]; then
      echo "python3 is missing; install it (Debian: apt-get install python3 python3-redis) and retry" >&2
      return 1
    fi
    echo "installing python3 and python3-redis (apt-get)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq python3 python3-redis >/dev/null
  fi
  if python3 -c 'import redis' 2>/dev/null; then
    return 0
  fi
  echo "installing the redis package for python3 (pip)…" >&2
  python3 -m pip install --quiet --disable-pip-version-check redis 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages redis 2>/dev/null \
    || { [ "$(id -u)" = "0" ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-redis >/dev/null; } \
    || { echo "could not install the python redis package; run: python3 -m pip install redis" >&2; return 1; }
  python3 -c 'import redis'
}

# Installs (or reinstalls: its copy of the Lua scripts must be current)
# clients/python for python3.
ensure_python_client() {
  ensure_python_redis
  if ! python3 -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" != "0" ]; then
      echo "pip is missing; install it (Debian: apt-get install python3-pip) and retry" >&2
      return 1
    fi
    echo "installing python3-pip (apt-get)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq python3-pip >/dev/null
  fi
  local quiet=(--quiet --disable-pip-version-check --no-warn-script-location)
  python3 -m pip install "${quiet[@]}" --force-reinstall --no-deps ./clients/python 2>/dev/null \
    || python3 -m pip install "${quiet[@]}" --force-reinstall --no-deps --break-system-packages ./clients/python \
    || { echo "could not install clients/python; run: python3 -m pip install ./clients/python" >&2; return 1; }
  rm -rf clients/python/build clients/python/jobqueue_client.egg-info
}
