#!/usr/bin/env bash
# Tears down what the fault suite (test/faults/) builds for one run: network namespaces
# `amf-RUN-*` and every process in them (supervisors, the per-host Docker engines, their
# containerd, shims and containers), the root-side management links `amfRUNm*`, mounts and
# cgroups the engines left, and the run's folder under $AGENTMESH_FAULTS_DIR.
#
#   faults-clean.sh               every run whose owner process is gone (leftovers of a crash)
#   faults-clean.sh --run RUN     that run, whatever its owner (the suite's own teardown)
#
# Idempotent: whatever is already gone is skipped. A run's owner is the pid in RUN_DIR/owner;
# a run whose owner still lives (a test or benchmark running meanwhile) is never touched.
# The suite stops its engines gracefully before calling this; here every process left in a
# run's namespaces gets SIGKILL.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAULTS_DIR=${AGENTMESH_FAULTS_DIR:-/var/tmp/agentmesh-faults}
# The naming scheme, shared with test/faults/net-hosts.ts: 6 hex digits per run.
RUN_RE='^[0-9a-f]{6}$'
# Bound on waiting for killed processes to be gone.
KILL_WAIT_S=10

owner_alive() {
  local run=$1 pid
  pid=$(cat "$FAULTS_DIR/$run/owner" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A reused pid is not our owner: owners are node processes.
  grep -q node "/proc/$pid/cmdline" 2>/dev/null
}

# Runs known from any trace: namespaces, root links, folders.
known_runs() {
  {
    ip netns list 2>/dev/null | awk '{print $1}' | sed -n 's/^amf-\([0-9a-f]\{6\}\)-.*/\1/p'
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed -n 's/^amf\([0-9a-f]\{6\}\)m[0-9]*.*/\1/p'
    if [ -d "$FAULTS_DIR" ]; then ls "$FAULTS_DIR" | grep -E "$RUN_RE" || true; fi
  } | sort -u
}

# Overlay, shm and nsfs mounts of a killed engine stay in the root mount namespace (the engines
# share it; only their network is separate). Deepest first.
unmount_under() {
  [ -d "$1" ] || return 0
  awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

clean_run() {
  local run=$1 ns pids link dir
  dir="$FAULTS_DIR/$run"
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^amf-$run-" || true); do
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null || true
      local deadline=$(( $(date +%s) + KILL_WAIT_S ))
      while [ -n "$(ip netns pids "$ns" 2>/dev/null)" ]; do
        if [ "$(date +%s)" -ge "$deadline" ]; then log "processes still in $ns after ${KILL_WAIT_S}s"; break; fi
        sleep 0.1
      done
    fi
    ip netns delete "$ns" 2>/dev/null || true
  done
  # A link whose peer namespace is gone is gone too; these are the ones a failed setup left.
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep "^amf${run}m" || true); do
    ip link delete "$link" 2>/dev/null || true
  done
  unmount_under "$dir"
  # The engines' cgroup parent (dockerd --cgroup-parent /amf-RUN-hN): empty once the processes
  # are gone; rmdir leaves a busy one alone.
  find /sys/fs/cgroup -maxdepth 3 -type d -name "amf-$run-*" 2>/dev/null | while read -r cg; do
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  # A mount that appeared meanwhile (an engine still stopping) makes rm fail: once more.
  rm -rf "$dir" 2>/dev/null || { unmount_under "$dir"; rm -rf "$dir"; }
  rm -rf "$FAULTS_DIR"/.claim-"$run"-*
  # Management subnet claims held by this run (see net-hosts.ts).
  grep -lx "$run" "$FAULTS_DIR"/subnet-*/run 2>/dev/null | xargs -r -n1 dirname | xargs -r rm -rf
  log "cleaned fault run $run"
}

if [ "${1:-}" = "--run" ]; then
  [[ "${2:-}" =~ $RUN_RE ]] || die "usage: $0 [--run RUN] (RUN: 6 hex digits)"
  clean_run "$2"
  exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--run RUN]"
for run in $(known_runs); do
  owner_alive "$run" && continue
  clean_run "$run"
done
# Subnet claims whose run folder is gone (a crash between claiming and writing the owner).
for claim in "$FAULTS_DIR"/subnet-*; do
  [ -d "$claim" ] || continue
  run=$(cat "$claim/run" 2>/dev/null || true)
  # Claims are made atomically, with their run file, after the run's folder (net-hosts.ts).
  if [ -z "$run" ] || [ ! -d "$FAULTS_DIR/$run" ]; then rm -rf "$claim"; fi
done
