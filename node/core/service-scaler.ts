/**
 * Desired replicas of one service in one site: the Kubernetes HPA rule (ratio with a tolerance
 * band, stabilisation windows, rate-limit policies) fed with the site's total load, plus KEDA's
 * activation threshold for scaling from and to zero, an upstream cap, and failing static.
 */
import type { LoadReading, UpstreamReading } from './load-reading.js'
import type { PolicyKind, ScalingRules, ServiceSpec } from './service-spec.js'

export interface ScaleDecision {
  desired: number
  /** True when the leader kept the count because data was stale or missing. */
  failingStatic: boolean
  /** True when scale-up was held back because the upstream is saturated. */
  upstreamCapped: boolean
  /** What the rule alone asked for, before stabilisation and rate limits. */
  recommended: number
  /** The rule that decided: the HPA rule, or the rate policy (rate-scaler.ts). */
  rule: PolicyKind
  /** Rate policy: the arrival rate it planned for (work per second). */
  arrivalRate?: number
  /** Rate policy: what one replica drains per second, as configured or learnt. */
  drainPerReplica?: number
  /** Rate policy: the replicas the rule asks for without maxReplicas (the rest can spill to other sites, spill.ts). */
  wanted?: number
}

interface Stamped { atMs: number, value: number }

export interface Recommendation extends Stamped {
  /** A takeover seed: it holds scale-down back but never holds scale-up back. */
  downOnly: boolean
}

export class ServiceScaler {
  readonly spec: ServiceSpec
  private current: number
  private readonly recommendations: Recommendation[] = []
  private readonly changes: Stamped[] = []
  private readonly historyMs: number

  /**
   * `current` is where the service stands when this scaler takes over (a new leader passes the
   * last plan's count). It is recorded as a recommendation made now, so a new leader waits a
   * full scale-down window before scaling down: failover never shortens stabilisation.
   */
  constructor (spec: ServiceSpec, current: number, nowMs: number) {
    this.spec = spec
    this.current = current
    this.recommendations.push({ atMs: nowMs, value: current, downOnly: true })
    const periods = [...spec.scaleUp.policies, ...spec.scaleDown.policies].map(p => p.periodMs)
    this.historyMs = Math.max(spec.scaleUp.stabilizationMs, spec.scaleDown.stabilizationMs, ...periods)
  }

  get replicas (): number {
    return this.current
  }

  decide (reading: LoadReading, upstream: UpstreamReading | undefined, nowMs: number, context: { forecastFloor?: number } = {}): ScaleDecision {
    this.forget(nowMs)
    const spec = this.spec
    if (reading.status === 'missing') {
      // Fail static: keep what runs, only pulled into the configured bounds.
      const held = clamp(this.current, spec.minReplicas, spec.maxReplicas)
      // Recorded like a takeover seed, so that when data comes back after a silence longer
      // than the scale-down window, the count held through it still waits a full window
      // before coming down (as after a partial reading); it never holds scale-up back.
      this.recommendations.push({ atMs: nowMs, value: held, downOnly: true })
      return this.commit(held, nowMs, { failingStatic: true, upstreamCapped: false, recommended: held, rule: 'hpa' })
    }
    // A forecast only ever raises the recommendation (forecast-port.ts).
    let recommended = clamp(Math.max(rawRecommendation(spec, reading.total, this.current), context.forecastFloor ?? 0), spec.minReplicas, spec.maxReplicas)
    let failingStatic = false
    if (reading.status === 'partial' && recommended < this.current) {
      recommended = this.current
      failingStatic = true
    }
    let upstreamCapped = false
    const saturation = spec.upstream !== undefined ? upstream?.saturation : undefined
    if (saturation !== undefined && saturation >= spec.upstream!.saturatedAt && recommended > this.current) {
      recommended = Math.max(this.current, spec.minReplicas)
      upstreamCapped = true
    }
    let desired = stabilizeRecommendation(this.recommendations, this.current, recommended, nowMs, spec.scaleUp.stabilizationMs, spec.scaleDown.stabilizationMs)
    this.recommendations.push({ atMs: nowMs, value: recommended, downOnly: false })
    if (desired > this.current) desired = Math.min(desired, this.scaleUpLimit(nowMs))
    else if (desired < this.current) desired = Math.max(desired, this.scaleDownLimit(nowMs))
    // Bounds beat rate limits, as in the HPA (a count below minReplicas goes straight to it).
    desired = clamp(desired, spec.minReplicas, spec.maxReplicas)
    return this.commit(desired, nowMs, { failingStatic, upstreamCapped, recommended, rule: 'hpa' })
  }

  private commit (desired: number, nowMs: number, info: Omit<ScaleDecision, 'desired'>): ScaleDecision {
    if (desired !== this.current) {
      this.changes.push({ atMs: nowMs, value: desired - this.current })
      this.current = desired
    }
    return { desired, ...info }
  }

  private changeWithin (nowMs: number, periodMs: number, sign: 1 | -1): number {
    let sum = 0
    for (const c of this.changes) {
      if (c.atMs > nowMs - periodMs && Math.sign(c.value) === sign) sum += Math.abs(c.value)
    }
    return sum
  }

  private scaleUpLimit (nowMs: number): number {
    const limit = policyLimit(this.spec.scaleUp, p => {
      const start = this.current - this.changeWithin(nowMs, p.periodMs, 1) + this.changeWithin(nowMs, p.periodMs, -1)
      return p.type === 'pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100))
    }, 'up')
    // A percentage of zero is zero: starting from zero is always allowed one replica.
    return Math.max(limit, this.current === 0 && this.spec.scaleUp.selectPolicy !== 'disabled' ? 1 : limit, this.current)
  }

  private scaleDownLimit (nowMs: number): number {
    const limit = policyLimit(this.spec.scaleDown, p => {
      const start = this.current + this.changeWithin(nowMs, p.periodMs, -1) - this.changeWithin(nowMs, p.periodMs, 1)
      return p.type === 'pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100))
    }, 'down')
    return Math.min(limit, this.current)
  }

  private forget (nowMs: number): void {
    const from = nowMs - this.historyMs
    dropBefore(this.recommendations, from)
    dropBefore(this.changes, from)
  }
}

/**
 * The HPA's stabilisation, as Kubernetes' stabilizeRecommendationWithBehaviors
 * (pkg/controller/podautoscaler/horizontal.go): the recommendation made now always counts; an
 * earlier one counts only while it is strictly younger than the window (`timestamp.After(cutoff)`),
 * so one made exactly a window ago has left it. The least recommendation in the scale-up window
 * bounds the count from below, the most in the scale-down window from above. Takeover seeds
 * (downOnly) count for scale-down only. `history` holds the earlier recommendations.
 *
 * Until this was translated from Kubernetes' table tests the window was inclusive (`>=`), so
 * with decisions on a fixed period every window held one decision longer than Kubernetes does.
 */
export function stabilizeRecommendation (history: readonly Recommendation[], current: number, recommended: number, nowMs: number, upWindowMs: number, downWindowMs: number): number {
  const upCutoffMs = nowMs - upWindowMs
  const downCutoffMs = nowMs - downWindowMs
  let upRec = recommended
  let downRec = recommended
  for (const r of history) {
    if (r.atMs > upCutoffMs && !r.downOnly) upRec = Math.min(upRec, r.value)
    if (r.atMs > downCutoffMs) downRec = Math.max(downRec, r.value)
  }
  let desired = current
  if (desired < upRec) desired = upRec
  if (desired > downRec) desired = downRec
  return desired
}

/** Floating-point slack on the tolerance band's edges; far below any tolerance worth setting. */
const TOLERANCE_EPSILON = 1e-9

function rawRecommendation (spec: ServiceSpec, total: number, current: number): number {
  if (total <= spec.activationThreshold) return 0
  const wanted = Math.ceil(total / spec.targetPerReplica)
  if (current === 0) return Math.max(1, wanted)
  const ratio = total / (current * spec.targetPerReplica)
  // The band is inclusive; without the epsilon, 110 / 100 − 1 rounds to just above 0.1.
  if (Math.abs(ratio - 1) <= spec.tolerance + TOLERANCE_EPSILON) return current
  return wanted
}

/**
 * `selectPolicy: max` picks the policy allowing the biggest change (the highest limit going up,
 * the lowest going down); `min` the smallest; `disabled` allows no change.
 */
function policyLimit (rules: ScalingRules, proposal: (p: ScalingRules['policies'][number]) => number, direction: 'up' | 'down'): number {
  if (rules.selectPolicy === 'disabled' || rules.policies.length === 0) return direction === 'up' ? -Infinity : Infinity
  const values = rules.policies.map(proposal)
  const biggest = direction === 'up' ? Math.max(...values) : Math.min(...values)
  const smallest = direction === 'up' ? Math.min(...values) : Math.max(...values)
  return rules.selectPolicy === 'max' ? biggest : smallest
}

function clamp (n: number, min: number, max: number): number {
  return Math.min(Math.max(n, min), max)
}

function dropBefore<T extends Stamped> (list: T[], fromMs: number): void {
  let i = 0
  while (i < list.length && list[i].atMs < fromMs) i++
  if (i > 0) list.splice(0, i)
}
