# Shared helpers for the test-service scripts. Sourced, not run.
# Every script that sources this is idempotent: it installs only what is missing and starts only
# what is not already answering, so CI (a fresh Debian machine, root, no systemd) and a developer's
# re-run take the same path.

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# apt_install PKG...: installs the Debian packages that are not installed yet, non-interactively.
# `apt-get update` runs at most once per script run, and only when something is missing.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt run (a parallel test setup, say) holds the dpkg lock: wait for it, bounded.
  local wait_lock=(-o DPkg::Lock::Timeout=300)
  apt-get "${wait_lock[@]}" update -qq >/dev/null || die "apt-get update"
  # No init system runs here, so postinst scripts that try to start daemons only warn;
  # --no-install-recommends keeps the install small.
  apt-get "${wait_lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]}"
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s until it succeeds or the
# bound passes. Polling is the only way to wait for a daemon started in the background that has
# no readiness notification.
wait_for() {
  local bound_s=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + bound_s ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  log "$what is ready"
}

# take_lock: serialises the service scripts, which test files running in parallel may call at
# once (two dockerd or two apt-get runs would fight). Held until the script exits; daemons the
# scripts start must close fd 9 (`9>&-`) or they would hold it for ever.
take_lock() {
  local lock_file=${AGENTMESH_SERVICES_LOCK:-/tmp/agentmesh-test-services.lock}
  exec 9>"$lock_file"
  flock -w 600 9 || die "could not take $lock_file within 600s"
}
