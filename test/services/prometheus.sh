#!/usr/bin/env bash
# Makes Debian's Prometheus server (and promtool) available: installs the `prometheus` package
# when the binary is missing. Starts nothing: each test that needs a server runs its own on a
# loopback port with a temporary config (test/signals/prometheus-signal.test.ts), so no state
# is shared between runs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  log "prometheus and promtool are installed"
  exit 0
fi
apt_install prometheus
command -v prometheus >/dev/null 2>&1 || die "prometheus is still missing after installing the package"
log "installed $(prometheus --version 2>&1 | head -n 1)"
