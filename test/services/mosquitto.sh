#!/usr/bin/env bash
# Makes a Mosquitto broker listen on 127.0.0.1:$AGENTMESH_TEST_MQTT_PORT (default 18830):
# installs Debian's mosquitto when missing and starts a broker with a minimal config when nothing
# listens on that port. Does not use systemd (none runs here) and does not touch the packaged
# broker on port 1883.
#
# Env: AGENTMESH_TEST_MQTT_PORT (default 18830), AGENTMESH_MOSQUITTO_DIR (config, pid and log;
#      default /var/tmp/agentmesh-test-mosquitto), AGENTMESH_MOSQUITTO_WAIT_S (default 20).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

MQTT_PORT=${AGENTMESH_TEST_MQTT_PORT:-18830}
STATE_DIR=${AGENTMESH_MOSQUITTO_DIR:-/var/tmp/agentmesh-test-mosquitto}
WAIT_S=${AGENTMESH_MOSQUITTO_WAIT_S:-20}

# bash's /dev/tcp: a TCP connect without needing netcat.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$MQTT_PORT") 2>/dev/null; }

if port_open; then
  log "something already listens on 127.0.0.1:$MQTT_PORT; assuming it is the test broker"
  exit 0
fi

command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)

mkdir -p "$STATE_DIR"
conf="$STATE_DIR/mosquitto.conf"
# Loopback only, anonymous, no persistence: a throwaway broker for tests.
cat >"$conf" <<CONF
# Written by test/services/mosquitto.sh; rewritten on every start.
per_listener_settings false
allow_anonymous true
persistence false
listener $MQTT_PORT 127.0.0.1
log_dest file $STATE_DIR/mosquitto.log
pid_file $STATE_DIR/mosquitto.pid
CONF
# Debian's broker drops privileges to the `mosquitto` user when started as root; that user must
# be able to write the log.
if id mosquitto >/dev/null 2>&1; then chown -R mosquitto "$STATE_DIR"; fi

log "starting mosquitto on 127.0.0.1:$MQTT_PORT (config: $conf)"
setsid "$MOSQUITTO" -c "$conf" >>"$STATE_DIR/mosquitto.stdout" 2>&1 </dev/null 9>&- &

if ! wait_for "$WAIT_S" "mosquitto on 127.0.0.1:$MQTT_PORT" port_open; then
  tail -n 20 "$STATE_DIR/mosquitto.log" "$STATE_DIR/mosquitto.stdout" >&2 2>/dev/null || true
  die "mosquitto did not listen within ${WAIT_S}s"
fi
