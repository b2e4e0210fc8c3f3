/**
 * Desired replicas of one service in one site from a queueing view of its load, rather than a
 * fixed backlog per replica (service-scaler.ts, the HPA rule):
 *
 *   replicas = ceil( (λ / utilization + backlog / drainWithin) / μ )
 *
 * where λ is the arrival rate (work per second) and μ what one replica drains per second. The
 * first term keeps up with arrivals with some headroom; the second drains what has queued within
 * `drainWithinMs` (Little's law: a backlog B served at a surplus of B / T is gone in T).
 *
 * - λ comes from rate signals (samples marked `rate`: a broker's publish rate, an agent's own
 *   counter). Without one it is inferred from the backlog: λ ≈ Δbacklog/Δt + ready × μ, exact
 *   only while the backlog is above zero; while it is empty the estimate halves every
 *   `idleHalfLifeMs`, so the count probes down.
 * - μ is `drainPerReplica` when configured, and learnt while ready replicas are busy (work
 *   queued throughout a window with the same ready count, and a rate signal; 10 s for the first
 *   estimate, 20 s after): μ ≈ (arrivals − Δbacklog) / (ready × window). Until μ is known the
 *   HPA rule decides.
 * - A rising rate is projected `startLatencyMs` ahead along its fitted trend, so a site whose
 *   containers take seconds to start scales a little early.
 * - Scale-up is immediate, bounded by maxReplicas and by the upstream's headroom: with the
 *   upstream at saturation s < saturatedAt, at most ready × saturatedAt / s replicas (more
 *   would only queue at a saturated broker); at or above saturatedAt, none are added.
 * - Scale-down goes to the most needed over the last `scaleDownHoldMs` (hysteresis), never below
 *   what the current rate and backlog need, and never on a partial reading.
 * - As in the HPA rule: from zero only once the backlog is above activationThreshold, to zero
 *   only when nothing arrives and the backlog is at or below it; fail static when the backlog
 *   reading is missing; a new leader starts from the count in force and waits a full hold before
 *   scaling down.
 */
import type { LoadReading, UpstreamReading } from './load-reading.js'
import { ServiceScaler, type ScaleDecision } from './service-scaler.js'
import type { ServiceSpec } from './service-spec.js'

/** What a rule needs beyond the backlog reading (all optional: older peers and the HPA rule give none). */
export interface ScaleContext {
  /** The service's arrival-rate reading over the site, when any host reports one. */
  rate?: LoadReading
  /** Replicas of the service running (not starting) over the site. */
  ready?: number
  /**
   * Replicas a load forecast says the coming step needs (forecast-port.ts): a floor for
   * scale-up only. It never brings the count down, and is ignored when failing static.
   */
  forecastFloor?: number
  /**
   * Replicas in other sites drain this site's queue now (spill.ts): the drain rate is not
   * learnt meanwhile (the backlog falls faster than the site's own ready replicas drain it).
   */
  spilling?: boolean
}

interface Stamped { atMs: number, value: number }

/** Learning rate of μ: the weight of each new observation. */
const DRAIN_LEARNING_WEIGHT = 0.3
/**
 * μ is measured over windows this long, with work queued throughout:
 * a sample read a round late then errs by a round over the window, not over one round. The
 * first estimate comes from a short window (until μ is known the HPA rule decides, slowly);
 * later ones from longer windows, which err less.
 */
const FIRST_DRAIN_WINDOW_MS = 10_000
const DRAIN_WINDOW_MS = 20_000
/** Seconds of the ready replicas' work a backlog must hold at every read of a learning window. */
const BUSY_S = 1
/** Fewest points, and the least share of the window they must span, to trust a fitted trend. */
const TREND_MIN_POINTS = 3
const TREND_MIN_SPAN = 0.5
/** Slack on ceil() so that an exact whole need is not rounded up by floating-point noise. */
const CEIL_EPSILON = 1e-9

export class RateScaler {
  readonly spec: ServiceSpec
  private current: number
  /** Need per round (and takeover seeds), for the scale-down hold. */
  private readonly needs: Stamped[] = []
  private readonly rates: Stamped[] = []
  private last: { atMs: number, backlog: number, ready: number } | undefined
  /** The drain-learning window open now: its start, and the arrivals summed over it. */
  private window: { atMs: number, backlog: number, ready: number, lastMs: number, lastRate: number, arrived: number } | undefined
  private drain: number | undefined
  private inferredRate = 0
  private hpa: ServiceScaler | undefined

  /** `drainPerReplica`: what the last leader knew (from the plan), before what is configured. */
  constructor (spec: ServiceSpec, current: number, nowMs: number, drainPerReplica?: number) {
    this.spec = spec
    this.current = current
    this.drain = drainPerReplica ?? spec.rate.drainPerReplica
    this.needs.push({ atMs: nowMs, value: current })
  }

  get replicas (): number {
    return this.current
  }

  /** What one replica drains per second, as configured or learnt; undefined until known. */
  get drainPerReplica (): number | undefined {
    return this.drain
  }

  decide (reading: LoadReading, upstream: UpstreamReading | undefined, nowMs: number, context: ScaleContext = {}): ScaleDecision {
    const spec = this.spec
    const rules = spec.rate
    forget(this.needs, nowMs - rules.scaleDownHoldMs)
    forget(this.rates, nowMs - rules.trendWindowMs)
    if (reading.status === 'missing') {
      const held = clamp(this.current, spec.minReplicas, spec.maxReplicas)
      this.needs.push({ atMs: nowMs, value: held })
      this.last = undefined
      return this.commit(held, { failingStatic: true, upstreamCapped: false, recommended: held, rule: 'rate' })
    }
    const backlog = reading.total
    const ready = context.ready ?? this.current
    const measured = context.rate !== undefined && context.rate.status !== 'missing' ? context.rate : undefined
    if (context.spilling === true) this.window = undefined
    else this.learnDrain(backlog, ready, measured, nowMs)
    const drain = this.drain
    if (drain === undefined) return this.decideByHpa(reading, upstream, nowMs, ready)
    const rate = measured?.total ?? this.inferRate(backlog, ready, drain, nowMs)
    this.last = { atMs: nowMs, backlog, ready }
    this.rates.push({ atMs: nowMs, value: rate })
    const ahead = Math.max(rate, this.trendAt(nowMs + rules.startLatencyMs))
    let need = Math.ceil((ahead / rules.utilization + backlog / (rules.drainWithinMs / 1000)) / drain - CEIL_EPSILON)
    if (this.current === 0 && backlog <= spec.activationThreshold) need = 0
    else if (rate <= 0 && backlog <= spec.activationThreshold) need = 0
    need = Math.max(need, context.forecastFloor ?? 0)
    const wanted = Math.max(need, spec.minReplicas)
    need = clamp(need, spec.minReplicas, spec.maxReplicas)
    this.needs.push({ atMs: nowMs, value: need })

    let desired = this.current
    let failingStatic = false
    let upstreamCapped = false
    if (need > this.current) {
      desired = need
      const saturation = spec.upstream !== undefined ? upstream?.saturation : undefined
      if (saturation !== undefined && saturation > 0) {
        const cap = saturation >= spec.upstream!.saturatedAt
          ? this.current
          : Math.max(this.current, Math.floor(Math.max(ready, 1) * spec.upstream!.saturatedAt / saturation))
        if (cap < desired) { desired = Math.max(cap, spec.minReplicas); upstreamCapped = true }
      }
    } else if (need < this.current) {
      if (reading.status === 'partial' || measured?.status === 'partial') failingStatic = true
      else desired = Math.min(this.current, Math.max(...this.needs.map(n => n.value)))
    }
    return this.commit(clamp(desired, spec.minReplicas, spec.maxReplicas), { failingStatic, upstreamCapped, recommended: need, rule: 'rate', arrivalRate: rate, drainPerReplica: drain, wanted })
  }

  /**
   * μ from a window with work queued throughout and the same ready replicas: they drained all
   * they could, the arrivals less the backlog's growth over the window. (A window across a change
   * of the ready count is dropped: replicas that just became ready find the backlog draining
   * away, which makes μ look lower than it is.) A backlog above zero only when read may also have
   * run dry between reads; once μ is known, a window counts only while the backlog holds at least
   * BUSY_S seconds of the ready replicas' work at every read.
   */
  private learnDrain (backlog: number, ready: number, rate: LoadReading | undefined, nowMs: number): void {
    const busy = this.drain === undefined ? 0 : ready * this.drain * BUSY_S
    if (rate?.status !== 'fresh' || ready <= 0 || !(backlog > busy)) { this.window = undefined; return }
    const w = this.window
    if (w === undefined || w.ready !== ready || nowMs <= w.lastMs) {
      this.window = { atMs: nowMs, backlog, ready, lastMs: nowMs, lastRate: rate.total, arrived: 0 }
      return
    }
    w.arrived += (w.lastRate + rate.total) / 2 * (nowMs - w.lastMs) / 1000
    w.lastMs = nowMs
    w.lastRate = rate.total
    if (nowMs - w.atMs < (this.drain === undefined ? FIRST_DRAIN_WINDOW_MS : DRAIN_WINDOW_MS)) return
    const observed = (w.arrived - (backlog - w.backlog)) / (ready * (nowMs - w.atMs) / 1000)
    this.window = { atMs: nowMs, backlog, ready, lastMs: nowMs, lastRate: rate.total, arrived: 0 }
    if (!(observed > 0) || !Number.isFinite(observed)) return
    this.drain = this.drain === undefined ? observed : this.drain + DRAIN_LEARNING_WEIGHT * (observed - this.drain)
  }

  /** λ without a rate signal: from the backlog's slope while it is above zero, else decaying. */
  private inferRate (backlog: number, ready: number, drain: number, nowMs: number): number {
    const last = this.last
    if (last !== undefined && nowMs > last.atMs) {
      if (backlog > 0) {
        this.inferredRate = Math.max(0, (backlog - last.backlog) * 1000 / (nowMs - last.atMs) + ready * drain)
      } else {
        const decay = Math.pow(0.5, (nowMs - last.atMs) / this.spec.rate.idleHalfLifeMs)
        this.inferredRate = Math.min(this.inferredRate, ready * drain) * decay
      }
    } else if (backlog > 0) {
      this.inferredRate = ready * drain
    }
    return this.inferredRate
  }

  /** The rate's least-squares line over the trend window, at `atMs`; −Infinity without enough points. */
  private trendAt (atMs: number): number {
    const r = this.rates
    if (r.length < TREND_MIN_POINTS || r[r.length - 1].atMs - r[0].atMs < this.spec.rate.trendWindowMs * TREND_MIN_SPAN) return -Infinity
    const t0 = r[0].atMs
    let st = 0, sv = 0, stt = 0, stv = 0
    for (const p of r) { const t = p.atMs - t0; st += t; sv += p.value; stt += t * t; stv += t * p.value }
    const n = r.length
    const den = n * stt - st * st
    if (den <= 0) return -Infinity
    const slope = (n * stv - st * sv) / den
    if (slope <= 0) return -Infinity
    return (sv - slope * st) / n + slope * (atMs - t0)
  }

  /** Until μ is known: the HPA rule on the backlog, from the count in force. */
  private decideByHpa (reading: LoadReading, upstream: UpstreamReading | undefined, nowMs: number, ready: number): ScaleDecision {
    if (this.hpa === undefined || this.hpa.replicas !== this.current) this.hpa = new ServiceScaler(this.spec, this.current, nowMs)
    this.last = { atMs: nowMs, backlog: reading.total, ready }
    const d = this.hpa.decide(reading, upstream, nowMs)
    this.needs.push({ atMs: nowMs, value: d.desired })
    this.current = d.desired
    return { ...d, rule: 'hpa' }
  }

  private commit (desired: number, info: Omit<ScaleDecision, 'desired'>): ScaleDecision {
    this.current = desired
    return { desired, ...info }
  }
}

function clamp (n: number, min: number, max: number): number {
  return Math.min(Math.max(n, min), max)
}

function forget (list: Stamped[], beforeMs: number): void {
  let i = 0
  while (i < list.length && list[i].atMs <= beforeMs) i++
  if (i > 0) list.splice(0, i)
}
