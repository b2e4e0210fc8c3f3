#!/usr/bin/env bash
# Removes every container a test started (label agentmesh.test=1): the leftovers of a run that
# crashed before its own cleanup. Run before the suite, never during it (parallel test files
# clean up their own containers by their run label).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# What a crashed fault run left (test/faults/: namespaces, per-host engines and their containers).
bash "$(dirname "$0")/faults-clean.sh"

docker info >/dev/null 2>&1 || die "no Docker engine answers (run test/services/docker.sh first)"
mapfile -t ids < <(docker ps -aq --filter label=agentmesh.test=1)
if [ "${#ids[@]}" -gt 0 ]; then
  log "removing ${#ids[@]} leftover test container(s)"
  docker rm -f "${ids[@]}" >/dev/null
fi
