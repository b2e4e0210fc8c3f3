/**
 * Aggregation of the site's signal samples into one reading per service (and one saturation
 * per upstream), with freshness. The reading says how much to trust the total:
 * - fresh: every host that reports the service has a recent sample;
 * - partial: some reporter's sample is stale (host silent, source dead): the total is a lower
 *   bound, good enough to scale up on, never to scale down on;
 * - missing: no recent sample at all: hold.
 *
 * A sample marked `siteWide` is one value every reporting host reads alike (the depth of one
 * queue the whole site drains, say): summing it would count it once per host, so the freshest
 * fresh report is taken instead, and one fresh reporter is enough (the others are redundancy).
 * A service may have both kinds: its total is the sum of the host shares plus the site-wide value.
 *
 * Totals are always finite. Every sample off the wire is finite (the codec refuses others), but
 * a sum of finite doubles is not: two host shares of 1e308 add up to Infinity, which the site
 * summary cannot carry (the codec refuses it, so the summary would never be sent) and which
 * turns the scaler's arithmetic into NaN. Sums saturate at ±Number.MAX_VALUE instead, a load no
 * replica count can serve, which maxReplicas then bounds. A sample that is not finite (only a
 * bug could make one) counts as stale.
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

/** a + b, saturating at ±Number.MAX_VALUE: finite whenever a and b are. */
export function saturatingAdd (a: number, b: number): number {
  const sum = a + b
  return sum === Infinity ? Number.MAX_VALUE : sum === -Infinity ? -Number.MAX_VALUE : sum
}

const MISSING: LoadReading = Object.freeze({ status: 'missing', total: 0, reporters: 0, staleReporters: 0 })

export function missingReading (): LoadReading {
  return MISSING
}

export function aggregateReadings (hosts: Iterable<HostSamples>, nowMs: number, sampleMaxAgeMs: number): SiteReadings {
  const load = new Map<string, LoadReading>()
  const upstream = new Map<string, UpstreamReading>()
  /** Per service: the freshest fresh site-wide report, and whether any site-wide report was seen. */
  const siteWide = new Map<string, { value: number, ageMs: number, fresh: boolean }>()
  for (const host of hosts) {
    for (const s of host.signals) {
      const ageMs = nowMs - host.receivedAtMs + s.ageMs
      const fresh = host.reachable && ageMs <= sampleMaxAgeMs && Number.isFinite(s.value)
      if (s.upstream) {
        let u = upstream.get(s.service)
        if (u === undefined) { u = { saturation: undefined }; upstream.set(s.service, u) }
        if (fresh && (u.saturation === undefined || s.value > u.saturation)) u.saturation = s.value
        continue
      }
      if (s.siteWide === true) {
        const w = siteWide.get(s.service)
        if (w === undefined) siteWide.set(s.service, { value: fresh ? s.value : 0, ageMs, fresh })
        else if (fresh && (!w.fresh || ageMs < w.ageMs || (ageMs === w.ageMs && s.value > w.value))) {
          w.value = s.value; w.ageMs = ageMs; w.fresh = true
        }
        continue
      }
      let r = load.get(s.service)
      if (r === undefined) { r = { status: 'missing', total: 0, reporters: 0, staleReporters: 0 }; load.set(s.service, r) }
      r.reporters++
      if (fresh) r.total = saturatingAdd(r.total, s.value)
      else r.staleReporters++
    }
  }
  for (const r of load.values()) {
    r.status = r.staleReporters === 0 ? 'fresh' : r.staleReporters < r.reporters ? 'partial' : 'missing'
  }
  for (const [service, w] of siteWide) {
    const r = load.get(service)
    if (r === undefined) {
      load.set(service, { status: w.fresh ? 'fresh' : 'missing', total: w.value, reporters: 1, staleReporters: w.fresh ? 0 : 1 })
      continue
    }
    // Both kinds: the site-wide value counts as one more reporter of the total.
    r.reporters++
    if (w.fresh) r.total = saturatingAdd(r.total, w.value)
    else r.staleReporters++
    r.status = r.staleReporters === 0 ? 'fresh' : r.staleReporters < r.reporters ? 'partial' : 'missing'
  }
  return { load, upstream }
}
