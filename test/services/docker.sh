#!/usr/bin/env bash
# Makes a Docker engine answer on /var/run/docker.sock: installs Debian's docker.io when dockerd is
# missing and starts dockerd in the background when the socket does not answer.
#
# The engine runs with its bridge network off (--bridge=none, no iptables): this machine allows
# only loopback, so containers use network mode `host` or `none`, never the default bridge.
#
# Env: AGENTMESH_DOCKERD_LOG (default /var/log/agentmesh-test-dockerd.log),
#      AGENTMESH_DOCKERD_WAIT_S (default 60).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

DOCKERD_LOG=${AGENTMESH_DOCKERD_LOG:-/var/log/agentmesh-test-dockerd.log}
DOCKERD_WAIT_S=${AGENTMESH_DOCKERD_WAIT_S:-60}

if docker info >/dev/null 2>&1; then
  log "engine already answering"
  exit 0
fi

command -v dockerd >/dev/null 2>&1 || apt_install docker.io
command -v docker >/dev/null 2>&1 || die "docker client missing after install"

# dockerd replaces a stale socket itself, but refuses to start over a pid file left by an engine
# that died; remove that file only when the pid in it is not alive.
pidfile=/var/run/docker.pid
if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  rm -f "$pidfile"
fi

if ! pgrep -x dockerd >/dev/null; then
  log "starting dockerd (logs: $DOCKERD_LOG)"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  # setsid: the engine must outlive this script and not get the test runner's signals.
  setsid dockerd --bridge=none --iptables=false --ip-masq=false --ip6tables=false \
    >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
fi

if ! wait_for "$DOCKERD_WAIT_S" "docker engine" docker info; then
  log "dockerd did not answer within ${DOCKERD_WAIT_S}s; last lines of $DOCKERD_LOG:"
  tail -n 30 "$DOCKERD_LOG" >&2 || true
  die "docker engine not available"
fi
