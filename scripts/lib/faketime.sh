# shellcheck shell=bash
# Installs Debian's faketime (libfaketime) when missing: the clock-skew
# chaos test runs a worker process under it (LD_PRELOAD) to shift its clock.
ensure_faketime_installed() {
  local lib
  for lib in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    if [ -e "$lib" ]; then return 0; fi
  done
  if [ "$(id -u)" != "0" ]; then
    echo "libfaketime is not installed; install it (Debian: apt-get install faketime) and retry" >&2
    return 1
  fi
  echo "installing faketime (apt-get)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq faketime >/dev/null
}
