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
 * A sample marked `rate` carries the service's arrival rate (work per second) rather than its
 * backlog; rates are aggregated the same way into a reading of their own.
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
  /** Backlog per service. */
  load: Map<string, LoadReading>
  /** Arrival rate per service (per second), from samples marked `rate`; absent when none reports one. */
  rate: Map<string, LoadReading>
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
  const load = new Totals()
  const rate = new Totals()
  const upstream = new Map<string, UpstreamReading>()
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
      const totals = s.rate === true ? rate : load
      if (s.siteWide === true) totals.siteWide(s.service, s.value, ageMs, fresh)
      else totals.share(s.service, s.value, fresh)
    }
  }
  return { load: load.readings(), rate: rate.readings(), upstream }
}

/** The readings of one kind of sample (backlog or arrival rate), summed per service as above. */
class Totals {
  private readonly shares = new Map<string, LoadReading>()
  /** Per service: the freshest fresh site-wide report, and whether any site-wide report was seen. */
  private readonly wide = new Map<string, { value: number, ageMs: number, fresh: boolean }>()

  share (service: string, value: number, fresh: boolean): void {
    let r = this.shares.get(service)
    if (r === undefined) { r = { status: 'missing', total: 0, reporters: 0, staleReporters: 0 }; this.shares.set(service, r) }
    r.reporters++
    if (fresh) r.total = saturatingAdd(r.total, value)
    else r.staleReporters++
  }

  siteWide (service: string, value: number, ageMs: number, fresh: boolean): void {
    const w = this.wide.get(service)
    if (w === undefined) this.wide.set(service, { value: fresh ? value : 0, ageMs, fresh })
    else if (fresh && (!w.fresh || ageMs < w.ageMs || (ageMs === w.ageMs && value > w.value))) {
      w.value = value; w.ageMs = ageMs; w.fresh = true
    }
  }

  readings (): Map<string, LoadReading> {
    const out = this.shares
    for (const r of out.values()) r.status = statusOf(r)
    for (const [service, w] of this.wide) {
      const r = out.get(service)
      if (r === undefined) {
        out.set(service, { status: w.fresh ? 'fresh' : 'missing', total: w.value, reporters: 1, staleReporters: w.fresh ? 0 : 1 })
        continue
      }
      // Both kinds: the site-wide value counts as one more reporter of the total.
      r.reporters++
      if (w.fresh) r.total = saturatingAdd(r.total, w.value)
      else r.staleReporters++
      r.status = statusOf(r)
    }
    return out
  }
}

function statusOf (r: LoadReading): LoadStatus {
  return r.staleReporters === 0 ? 'fresh' : r.staleReporters < r.reporters ? 'partial' : 'missing'
}
