/**
 * The V8 options a supervisor process runs with: `NODE_OPTIONS` in the image (Dockerfile), in
 * the systemd unit of docs/operations.md, and for every supervisor the test harness and the
 * benchmarks start, so that what they measure is the process an operator runs.
 *
 * `--max-semi-space-size=2` (MB): V8's young generation grows to 16 MB semi-spaces (about 48 MB
 * of memory) after a burst of allocation and gives it back slowly; a supervisor at rest then
 * sat at 113–117 MB resident instead of 85–90 MB, at random. Capped at 2 MB, ten supervisors
 * of a 10-host site measured 88–95 MB each (2026-11-29), for one scavenge every few seconds
 * more: idle CPU moved within the measurement noise (±0.2 % of a core). The simulator is not
 * started with it: it allocates hard and is faster with the default.
 */
export const SUPERVISOR_NODE_OPTIONS = '--max-semi-space-size=2'

/** `NODE_OPTIONS` for a supervisor process: the inherited value with SUPERVISOR_NODE_OPTIONS added. */
export function supervisorNodeOptions (inherited: string | undefined): string {
  return inherited === undefined || inherited === '' ? SUPERVISOR_NODE_OPTIONS : `${inherited} ${SUPERVISOR_NODE_OPTIONS}`
}
