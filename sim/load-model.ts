/**
 * Backlog per (site, service) pair, as a fluid: every load step, arrivals come in at the
 * shapes' rate; the pair's running replicas drain up to drainPerReplica each; a service that
 * names an upstream (an MQTT broker, say) cannot push more than the upstream accepts, shared in
 * proportion to demand by every service of the site that names it. Backlog above the
 * service's SLA counts as violation time.
 *
 * The model keeps a short history of backlog and arrival rate, so signals can be read with a delay (what a
 * supervisor, a Prometheus scrape or a KEDA poll sees is the backlog of a moment ago).
 */
import { rateAt, stepUpTimes } from './load-shapes.js'
import type { LoadShape, Scenario } from './scenario.js'

/** Steps of backlog history kept for delayed reads. */
const HISTORY_STEPS = 128

export interface Pair {
  index: number
  site: number
  service: number
  shapes: LoadShape[]
  drainPerReplicaPerS: number
  slaBacklog: number
  upstream: number | undefined
  minReplicas: number
  maxReplicas: number
}

export class LoadModel {
  readonly pairs: Pair[] = []
  /** Pair index by site * services + service; -1 where the service is not configured in the site. */
  readonly pairAt: Int32Array
  readonly backlog: Float64Array
  readonly arrivalRate: Float64Array
  readonly slaViolationMs: Float64Array
  /**
   * A clairvoyant lower bound on container-time (replica-ms) per pair: every step, just enough
   * replicas to drain that step's arrivals (no start latency, no backlog carried), within the
   * service's bounds and no more than its upstream can feed.
   */
  readonly clairvoyantMs: Float64Array
  /** Time during which at least one pair was above its SLA. */
  anySlaViolationMs = 0
  /**
   * One site's model (onlySite): the start of every step with a pair above its SLA, so that
   * a sharded run can count the time any pair of any site was (the union over sites).
   */
  readonly violatingStepsMs: number[] | undefined
  /** Saturation (0–1) per upstream instance, as of the last step. */
  readonly upstreamSaturation: Float64Array
  readonly upstreamKeys: { name: string, site: number }[] = []
  private readonly history: Float64Array
  /** Arrivals per pair since the start (a broker's publish counter), and their history. */
  private readonly arrived: Float64Array
  private readonly rateHistory: Float64Array
  private stepIndex = -1
  private readonly serviceCount: number

  /**
   * `onlySite`: the model of one site's pairs and upstreams (a sharded run: each site its own
   * model), in the order the whole scenario's model lists them; pair indices are then that
   * site's own.
   */
  constructor (private readonly scenario: Scenario, onlySite?: number) {
    const sites = scenario.sites.map(s => s.name)
    const services = scenario.services.map(s => s.spec.name)
    this.serviceCount = services.length
    this.pairAt = new Int32Array(sites.length * services.length).fill(-1)
    this.violatingStepsMs = onlySite === undefined ? undefined : []
    const mine = (site: number): boolean => onlySite === undefined || site === onlySite
    for (const up of scenario.upstreams) for (const site of up.sites) if (mine(sites.indexOf(site))) this.upstreamKeys.push({ name: up.name, site: sites.indexOf(site) })
    scenario.services.forEach((svc, v) => {
      for (const siteName of svc.sites) {
        const site = sites.indexOf(siteName)
        if (!mine(site)) continue
        const upName = svc.spec.upstream?.name
        const upstream = upName === undefined ? -1 : this.upstreamKeys.findIndex(u => u.name === upName && u.site === site)
        const pair: Pair = {
          index: this.pairs.length, site, service: v, shapes: [], drainPerReplicaPerS: svc.drainPerReplicaPerS,
          slaBacklog: svc.slaBacklog, upstream: upstream >= 0 ? upstream : undefined,
          minReplicas: svc.spec.minReplicas, maxReplicas: svc.spec.maxReplicas,
        }
        this.pairAt[site * services.length + v] = pair.index
        this.pairs.push(pair)
      }
    })
    for (const load of scenario.load) {
      const v = services.indexOf(load.service)
      for (const siteName of load.sites) {
        if (!mine(sites.indexOf(siteName))) continue
        const p = this.pairAt[sites.indexOf(siteName) * services.length + v]
        if (p >= 0) this.pairs[p].shapes.push(load.shape)
      }
    }
    const n = this.pairs.length
    this.backlog = new Float64Array(n)
    this.arrivalRate = new Float64Array(n)
    this.slaViolationMs = new Float64Array(n)
    this.clairvoyantMs = new Float64Array(n)
    this.upstreamSaturation = new Float64Array(this.upstreamKeys.length)
    this.history = new Float64Array(n * HISTORY_STEPS)
    this.arrived = new Float64Array(n)
    this.rateHistory = new Float64Array(n * HISTORY_STEPS)
  }

  pair (site: number, service: number): number {
    return this.pairAt[site * this.serviceCount + service]
  }

  /** (pair, time) of every step up in load, for reaction-time figures. */
  stepUps (): { pair: number, atMs: number }[] {
    const out: { pair: number, atMs: number }[] = []
    for (const p of this.pairs) for (const s of p.shapes) for (const atMs of stepUpTimes(s)) out.push({ pair: p.index, atMs })
    return out.sort((a, b) => a.atMs - b.atMs || a.pair - b.pair)
  }

  /** Advances one step from `tMs`; `running(pair)` is the replicas serving at the step's start. */
  step (tMs: number, dtMs: number, running: (pair: number) => number): void {
    const dt = dtMs / 1000
    const n = this.pairs.length
    const demand = new Float64Array(n)
    const upDemand = new Float64Array(this.upstreamKeys.length)
    for (let i = 0; i < n; i++) {
      const p = this.pairs[i]
      let rate = 0
      for (const s of p.shapes) rate += rateAt(s, tMs)
      this.arrivalRate[i] = rate
      this.clairvoyantMs[i] += this.clairvoyantReplicas(p, rate) * dtMs
      demand[i] = Math.min(this.backlog[i] / dt + rate, running(i) * p.drainPerReplicaPerS)
      if (p.upstream !== undefined) upDemand[p.upstream] += demand[i]
    }
    for (let u = 0; u < this.upstreamKeys.length; u++) {
      const cap = this.scenario.upstreams.find(x => x.name === this.upstreamKeys[u].name)!.capacityPerS
      this.upstreamSaturation[u] = Math.min(1, upDemand[u] / cap)
      upDemand[u] = upDemand[u] > cap ? cap / upDemand[u] : 1
    }
    let anyViolation = false
    this.stepIndex = Math.floor(tMs / dtMs)
    const slot = (this.stepIndex % HISTORY_STEPS) * n
    for (let i = 0; i < n; i++) {
      const p = this.pairs[i]
      const drained = demand[i] * (p.upstream !== undefined ? upDemand[p.upstream] : 1)
      this.backlog[i] = Math.max(0, this.backlog[i] + (this.arrivalRate[i] - drained) * dt)
      if (this.backlog[i] > p.slaBacklog) { this.slaViolationMs[i] += dtMs; anyViolation = true }
      this.history[slot + i] = this.backlog[i]
      this.arrived[i] += this.arrivalRate[i] * dt
      this.rateHistory[slot + i] = this.arrived[i]
    }
    if (anyViolation) {
      this.anySlaViolationMs += dtMs
      this.violatingStepsMs?.push(tMs)
    }
  }

  private clairvoyantReplicas (p: Pair, rate: number): number {
    let need = Math.ceil(rate / p.drainPerReplicaPerS - 1e-9)
    if (p.upstream !== undefined) {
      const cap = this.scenario.upstreams.find(x => x.name === this.upstreamKeys[p.upstream!].name)!.capacityPerS
      need = Math.min(need, Math.ceil(cap / p.drainPerReplicaPerS - 1e-9))
    }
    return Math.min(Math.max(need, p.minReplicas), p.maxReplicas)
  }

  /** Backlog as it was `delayMs` before the current step (as far back as the history goes). */
  delayedBacklog (pair: number, delayMs: number, dtMs: number): number {
    return this.delayed(this.history, pair, delayMs, dtMs)
  }

  /**
   * Arrival rate (per second) as a counter-based signal shows it `delayMs` late: the arrivals
   * over the `windowMs` before that, divided by the window (what a broker's publish counter read
   * every windowMs, or Prometheus' rate(), gives).
   */
  delayedArrivalRate (pair: number, delayMs: number, windowMs: number, dtMs: number): number {
    if (this.stepIndex < 0) return 0
    const end = Math.min(HISTORY_STEPS - 1, this.stepIndex, Math.round(delayMs / dtMs))
    const start = Math.min(HISTORY_STEPS - 1, this.stepIndex + 1, Math.round((delayMs + windowMs) / dtMs))
    if (start <= end) return this.arrivalRate[pair]
    const before = start > this.stepIndex ? 0 : this.delayed(this.rateHistory, pair, (start * dtMs), dtMs)
    return (this.delayed(this.rateHistory, pair, end * dtMs, dtMs) - before) / ((start - end) * dtMs / 1000)
  }

  private delayed (history: Float64Array, pair: number, delayMs: number, dtMs: number): number {
    if (this.stepIndex < 0) return 0
    const back = Math.min(HISTORY_STEPS - 1, this.stepIndex, Math.round(delayMs / dtMs))
    return history[((this.stepIndex - back) % HISTORY_STEPS) * this.pairs.length + pair]
  }
}
