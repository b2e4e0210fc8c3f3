/**
 * Aggregation of the site's signal samples into one reading per service (and one saturation
 * per upstream), with freshness. The reading says how much to trust the total:
 * - fresh: every host that reports the service has a recent sample;
 * - partial: some reporter's sample is stale (host silent, source dead): the total is a lower
 *   bound, good enough to scale up on, never to scale down on;
 * - missing: no recent sample at all: hold.
 */
import type { SignalSample } from '../../protocol/index.js'

export type LoadStatus = 'fresh' | 'partial' | 'missing'

export interface LoadReading {
  status: LoadStatus
  /** Sum of the fresh samples. */
  total: number
  reporters: number
  staleReporters: number
}

export interface UpstreamReading {
  /** Highest fresh saturation reported for the upstream, or undefined when none is fresh. */
  saturation: number | undefined
}

/** Samples of one host as last heard. */
export interface HostSamples {
  signals: readonly SignalSample[]
  /** When the heartbeat carrying them arrived, on the receiver's clock. */
  receivedAtMs: number
  /** False when the host is suspect or dead: its samples are stale whatever their age. */
  reachable: boolean
}

export interface SiteReadings {
  load: Map<string, LoadReading>
  upstream: Map<string, UpstreamReading>
}

const MISSING: LoadReading = Object.freeze({ status: 'missing', total: 0, reporters: 0, staleReporters: 0 })

export function missingReading (): LoadReading {
  return MISSING
}

export function aggregateReadings (hosts: Iterable<HostSamples>, nowMs: number, sampleMaxAgeMs: number): SiteReadings {
  const load = new Map<string, LoadReading>()
  const upstream = new Map<string, UpstreamReading>()
  for (const host of hosts) {
    for (const s of host.signals) {
      const ageMs = nowMs - host.receivedAtMs + s.ageMs
      const fresh = host.reachable && ageMs <= sampleMaxAgeMs
      if (s.upstream) {
        let u = upstream.get(s.service)
        if (u === undefined) { u = { saturation: undefined }; upstream.set(s.service, u) }
        if (fresh && (u.saturation === undefined || s.value > u.saturation)) u.saturation = s.value
        continue
      }
      let r = load.get(s.service)
      if (r === undefined) { r = { status: 'missing', total: 0, reporters: 0, staleReporters: 0 }; load.set(s.service, r) }
      r.reporters++
      if (fresh) r.total += s.value
      else r.staleReporters++
    }
  }
  for (const r of load.values()) {
    r.status = r.staleReporters === 0 ? 'fresh' : r.staleReporters < r.reporters ? 'partial' : 'missing'
  }
  return { load, upstream }
}
