#!/usr/bin/env bash
# Makes sure the fault suite (test/faults/) can build its test hosts: `ip` with network
# namespaces, veth and bridges (iproute2), `iptables` (partitions), `nsenter` (util-linux; the
# per-host Docker engines start through it) and libfaketime (one supervisor's wall clock moved,
# not the machine's). Installs only what is missing. Then removes what a crashed fault run left
# (test/services/faults-clean.sh). Needs root: namespaces and firewalls are root's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
take_lock

[ "$(id -u)" -eq 0 ] || die "the fault suite needs root (network namespaces, iptables, dockerd)"
command -v ip >/dev/null 2>&1 || apt_install iproute2
command -v iptables >/dev/null 2>&1 || apt_install iptables
command -v nsenter >/dev/null 2>&1 || apt_install util-linux
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || apt_install libfaketime
ip netns list >/dev/null || die "ip netns does not work here"

# Leftovers of a crashed run; runs whose owner still lives are left alone.
bash "$(dirname "$0")/faults-clean.sh"
