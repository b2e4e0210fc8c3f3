/**
 * The simulated container runtime of every host (a stand-in for Docker: containers are
 * records, not processes). Starting takes a log-normal latency drawn per site kind, and may
 * fail (the container exits when its start would have finished); a running container may
 * crash (exponential, mean crashMtbf). Stopping is applied at once: the real shell stops a
 * container and waits for it before it performs the next action, so a stop never overlaps the
 * start that follows it. A stopped Docker engine keeps its containers running (live-restore)
 * but cannot start or stop any. A machine crash loses every container of the host.
 *
 * Containers are immutable records: a state change replaces the record, so the lists a core
 * was handed keep describing what it observed.
 */
import { OWNER_LABELS, type ContainerState, type ObservedContainer } from '../node/core/reconcile.js'
import type { Rng } from '../node/core/rng.js'
import type { StartLatencySpec } from './scenario.js'

export interface SimContainer extends ObservedContainer {
  /** Load pair (site, service) the container serves. */
  readonly pair: number
  readonly slots: number
}

/** 99th percentile of the standard normal. */
const Z99 = 2.3263

/** Log-normal draw with the given median and 99th percentile (Box–Muller from the seeded rng). */
export function logNormalMs (spec: StartLatencySpec, rng: Rng): number {
  const sigma = Math.log(Math.max(spec.p99Ms, spec.medianMs) / spec.medianMs) / Z99
  const u1 = Math.max(1e-12, rng.next())
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next())
  return Math.max(1, Math.round(spec.medianMs * Math.exp(sigma * z)))
}

export function ownerLabels (service: string, site: string, hostId: string, term: number): Record<string, string> {
  return { [OWNER_LABELS.service]: service, [OWNER_LABELS.site]: site, [OWNER_LABELS.host]: hostId, [OWNER_LABELS.term]: String(term) }
}

export function withState (c: SimContainer, state: ContainerState): SimContainer {
  return { ...c, state }
}

/** Fleet-wide counters the load model and the figures read. */
export class ContainerLedger {
  /** Running replicas per load pair (serving load). */
  readonly running: Int32Array
  /** Containers that exist (starting or running) anywhere: what costs money. */
  live = 0
  private lastMs = 0
  /** Integral of `live` over time, in container-milliseconds. */
  containerMs = 0

  constructor (pairs: number) {
    this.running = new Int32Array(pairs)
  }

  /** Call before any change of `live`, with the time of the change. */
  accrue (nowMs: number): void {
    this.containerMs += this.live * (nowMs - this.lastMs)
    this.lastMs = nowMs
  }

  /** Bookkeeping for one container changing state (undefined = did not exist / no longer exists). */
  change (c: SimContainer, from: ContainerState | undefined, to: ContainerState | undefined, nowMs: number): void {
    const wasLive = from === 'starting' || from === 'running'
    const isLive = to === 'starting' || to === 'running'
    if (wasLive !== isLive) {
      this.accrue(nowMs)
      this.live += isLive ? 1 : -1
    }
    if (from === 'running') this.running[c.pair]--
    if (to === 'running') this.running[c.pair]++
  }
}
