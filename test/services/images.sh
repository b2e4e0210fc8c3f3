#!/usr/bin/env bash
# Builds the test images locally, without pulling anything (this machine reaches no registry):
#   agentmesh/node-base:test  a root filesystem holding only this host's `node` binary, the shared
#                             libraries `ldd` lists for it, a minimal /etc/passwd and /tmp,
#                             turned into an image by `docker import`;
#   agentmesh/agent:test      agent/Dockerfile: FROM the base, with the test agent (agent/*.mjs).
# Each image carries the hash of its inputs in the label agentmesh.inputs-hash and is rebuilt
# only when that hash changes, so a re-run takes well under a second.
#
# Needs a Docker engine (test/services/docker.sh). Env: AGENTMESH_NODE_BIN (default: `node` on
# PATH), AGENTMESH_IMAGES_FORCE=1 to rebuild anyway.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BASE_IMAGE=agentmesh/node-base:test
AGENT_IMAGE=agentmesh/agent:test
HASH_LABEL=agentmesh.inputs-hash
# Bump when the way the base is assembled changes (not covered by the file hashes).
BASE_RECIPE_VERSION=1

NODE_BIN=$(readlink -f "${AGENTMESH_NODE_BIN:-$(command -v node)}")
[ -x "$NODE_BIN" ] || die "no node binary found"

label_of() {
  docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

# The libraries the node binary loads, as the paths the dynamic loader will look for them at
# (ldd's right-hand side, or the left one for the loader itself, which ldd prints alone).
node_libs() {
  ldd "$NODE_BIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u
}

# Hash of file contents and their in-image paths: a changed library or node upgrade rebuilds.
hash_files() {
  local f
  for f in "$@"; do printf '%s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"; done | sha256sum | cut -d' ' -f1
}

build_base() {
  local -a libs
  mapfile -t libs < <(node_libs)
  [ "${#libs[@]}" -gt 0 ] || die "ldd listed no libraries for $NODE_BIN"
  local hash
  hash=$( { echo "recipe $BASE_RECIPE_VERSION"; hash_files "$NODE_BIN" "${libs[@]}"; } | sha256sum | cut -d' ' -f1)
  if [ "${AGENTMESH_IMAGES_FORCE:-0}" != 1 ] && [ "$(label_of "$BASE_IMAGE")" = "$hash" ]; then
    log "$BASE_IMAGE is up to date"
    return
  fi
  rebuilt=1
  log "assembling $BASE_IMAGE from $NODE_BIN and ${#libs[@]} libraries"
  rootfs=$(mktemp -d /tmp/agentmesh-rootfs.XXXXXX)
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/home/agent" \
    "$rootfs/proc" "$rootfs/sys" "$rootfs/dev"
  chmod 1777 "$rootfs/tmp"
  cp "$NODE_BIN" "$rootfs/usr/local/bin/node"
  local lib
  for lib in "${libs[@]}"; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib" # -L: the image holds the file, not the host's symlink
  done
  # uid 1000 runs the agent; root stays for debugging. No shell exists in the image.
  printf 'root:x:0:0:root:/root:/nonexistent\nagent:x:1000:1000:agent:/home/agent:/nonexistent\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nagent:x:1000:\n' >"$rootfs/etc/group"
  chown 1000:1000 "$rootfs/home/agent"
  # Docker mounts /etc/hosts, /etc/hostname and /etc/resolv.conf itself. glibc >= 2.34 has the
  # files and dns NSS modules built in, so no libnss_* is needed. No TLS: no CA certificates.
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change "LABEL $HASH_LABEL=$hash" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'WORKDIR /home/agent' \
    --change 'CMD ["node"]' \
    --message "agentmesh test base: $NODE_BIN ($("$NODE_BIN" --version))" \
    - "$BASE_IMAGE" >/dev/null || die "docker import of $BASE_IMAGE"
  rm -rf "$rootfs"
}

build_agent() {
  local base_id hash
  base_id=$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")
  hash=$( { echo "$base_id"; (cd "$ROOT/agent" && hash_files Dockerfile agent.mjs mqtt-lite.mjs); } | sha256sum | cut -d' ' -f1)
  if [ "${AGENTMESH_IMAGES_FORCE:-0}" != 1 ] && [ "$(label_of "$AGENT_IMAGE")" = "$hash" ]; then
    log "$AGENT_IMAGE is up to date"
    return
  fi
  rebuilt=1
  log "building $AGENT_IMAGE"
  # The classic builder: it uses the local base and never pulls, and needs no buildx plugin
  # (which Docker clients >= 23 otherwise want and Debian's docker.io does not ship).
  DOCKER_BUILDKIT=0 docker build --quiet --network none --label "$HASH_LABEL=$hash" \
    -t "$AGENT_IMAGE" "$ROOT/agent" >/dev/null 2>"$build_log" || {
    cat "$build_log" >&2
    die "docker build of $AGENT_IMAGE"
  }
}

rootfs=""
build_log=$(mktemp /tmp/agentmesh-agent-build.XXXXXX)
trap 'rm -rf "$rootfs" "$build_log"' EXIT

docker info >/dev/null 2>&1 || die "no Docker engine answers (run test/services/docker.sh first)"
rebuilt=0
build_base
build_agent
# A rebuild leaves the previous image untagged; drop those so re-runs do not pile up ~100 MB each.
# Only after a rebuild: the intermediate images of a build running meanwhile on the base (the
# supervisor image test's) carry the same label and are untagged too, and pruning them mid-build
# fails that build ("unknown parent image ID").
if [ "$rebuilt" = 1 ]; then
  docker image prune --force --filter "label=$HASH_LABEL" >/dev/null
fi
