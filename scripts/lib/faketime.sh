# shellcheck shell=bash
# Installs Debian's faketime (libfaketime) when missing: the clock-skew
# chaos test runs a worker process under it (LD_PRELOAD) to shift its clock.
ensure_faketime_installed() {
  if ls /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1 >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" != "0" ]; then
    echo "libfaketime is not installed; install it (Debian: apt-get install faketime) and retry" >&2
    return 1
  fi
  echo "installing faketime (apt-get)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq faketime >/dev/null
}
