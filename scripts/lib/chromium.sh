# shellcheck shell=bash
# Helper for scripts/test and scripts/screenshots: make sure Debian's
# chromium and chromium-driver are installed for the real-browser dashboard
# test (integration/tests/dashboard_browser.rs).

# Installs chromium + chromium-driver when missing (needs root, as in CI).
# When they cannot be installed, exports JOBQUEUE_SKIP_BROWSER_TEST with the
# reason and prints a loud warning: the browser test then skips, loudly.
ensure_chromium_installed() {
  if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    return 0
  fi
  local reason=""
  if [ "$(id -u)" != "0" ]; then
    reason="chromium/chromium-driver are missing and this is not root (apt-get install -y chromium chromium-driver)"
  else
    echo "installing chromium and chromium-driver (apt-get)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null; }; then
      reason="apt-get install chromium chromium-driver failed"
    fi
  fi
  if [ -n "$reason" ] || [ ! -x /usr/bin/chromedriver ]; then
    export JOBQUEUE_SKIP_BROWSER_TEST="${reason:-chromedriver still missing after install}"
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! the real-browser dashboard test will be SKIPPED: %s\n' "$JOBQUEUE_SKIP_BROWSER_TEST" >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
  fi
}
