#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite. Idempotent; safe to run as root on a
# fresh machine (CI runs exactly this through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund
npm test
