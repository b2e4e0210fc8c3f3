#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite. Idempotent; safe to run as root on a
# fresh machine (CI runs exactly this through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests call as binaries, installed only when missing: `promtool` (package
# prometheus) checks the daemon's /metrics, `chromium` runs the dashboard test, `tmux` the demo's
# terminal test. The tests fail,
# not skip, when one is missing.
apt_install_missing() {
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}"); done
  ((${#missing[@]} == 0)) && return 0
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
apt_install_missing promtool:prometheus chromium:chromium tmux:tmux

# Services the integration tests use (each script installs and starts only what is missing):
# a Docker engine without its bridge network, a Mosquitto broker on 127.0.0.1:18830, the
# locally built agent images, and Prometheus.
bash test/services/docker.sh
bash test/services/mosquitto.sh
bash test/services/images.sh
# Debian's Prometheus server and promtool (the Prometheus signal test runs its own server).
bash test/services/prometheus.sh
# The fault suite's tools (iproute2, iptables, nsenter, libfaketime) and the removal of what a
# crashed fault run left (namespaces, per-host engines, mounts).
bash test/services/faults.sh
# Containers left by an earlier run that crashed before its cleanup.
bash test/services/clean.sh
npm ci --no-audit --no-fund
npm test
