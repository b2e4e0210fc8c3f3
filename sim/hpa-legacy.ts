/**
 * The HPA of an object created without `behavior` (`kubectl autoscale`, or a KEDA ScaledObject
 * without `advanced.horizontalPodAutoscalerConfig.behavior`): Kubernetes then takes its legacy
 * path, not the behavior defaults. Translated from pkg/controller/podautoscaler/horizontal.go
 * (https://github.com/kubernetes/kubernetes/blob/master/pkg/controller/podautoscaler/horizontal.go):
 *
 * - reconcileAutoscaler: `if hpa.Spec.Behavior == nil { normalizeDesiredReplicas(...) }`;
 * - stabilizeRecommendation: the most recommendation of the controller-wide downscale window
 *   (--horizontal-pod-autoscaler-downscale-stabilization, 5 min), counting every one that is not
 *   `Before(cutoff)`, so one made exactly a window ago still counts; no scale-up stabilisation;
 * - convertDesiredReplicasWithRules: up to calculateScaleUpLimit(current) =
 *   max(scaleUpLimitFactor × current, scaleUpLimitMinimum) = max(2 × current, 4) per sync, no
 *   scale-down rate limit, then [minReplicas, maxReplicas].
 *
 * That KEDA leaves `behavior` nil unless the ScaledObject sets it: kedacore/keda
 * controllers/keda/hpa.go, newHPAForScaledObject (`behavior = nil`).
 *
 * The replica rule itself (ratio to target with the tolerance band) is the same as the core's
 * ServiceScaler: replica_calculator.go, GetExternalPerPodMetricReplicas (an AverageValue target,
 * as KEDA's metrics are by default).
 */
import type { LoadReading, UpstreamReading } from '../node/core/load-reading.js'
import type { ScaleDecision } from '../node/core/service-scaler.js'
import type { ServiceSpec } from '../node/core/service-spec.js'
import { simAssert } from './errors.js'

/** horizontal.go: scaleUpLimitFactor and scaleUpLimitMinimum. */
export const LEGACY_SCALE_UP_FACTOR = 2
export const LEGACY_SCALE_UP_MINIMUM = 4
/** Slack on the tolerance band's edges, as the core's rule has (service-scaler.ts). */
const TOLERANCE_EPSILON = 1e-9

export interface LegacyRecommendation { atMs: number, value: number }

/** horizontal.go calculateScaleUpLimit. */
export function legacyScaleUpLimit (current: number): number {
  return Math.max(LEGACY_SCALE_UP_FACTOR * current, LEGACY_SCALE_UP_MINIMUM)
}

/** horizontal.go convertDesiredReplicasWithRules: the scale-up limit, then the bounds. */
export function convertDesiredReplicasWithRules (current: number, desired: number, min: number, max: number): number {
  const maximumAllowed = Math.min(max, legacyScaleUpLimit(current))
  if (desired < min) return min
  if (desired > maximumAllowed) return maximumAllowed
  return desired
}

/**
 * horizontal.go stabilizeRecommendation: the most of `recommended` and every recommendation of
 * `history` not older than the window (one exactly a window old still counts: `!Before(cutoff)`).
 */
export function legacyStabilize (history: readonly LegacyRecommendation[], recommended: number, nowMs: number, windowMs: number): number {
  const cutoffMs = nowMs - windowMs
  let most = recommended
  for (const r of history) if (r.atMs >= cutoffMs && r.value > most) most = r.value
  return most
}

/** replica_calculator.go GetExternalPerPodMetricReplicas: ceil(total / target) outside the tolerance band. */
export function hpaReplicaCount (spec: ServiceSpec, total: number, current: number): number {
  const ratio = total / (current * spec.targetPerReplica)
  if (current > 0 && Math.abs(ratio - 1) <= spec.tolerance + TOLERANCE_EPSILON) return current
  return Math.ceil(total / spec.targetPerReplica)
}

/** The legacy HPA for one (site, service), with the same decide() shape as ServiceScaler. */
export class LegacyHpaScaler {
  private current: number
  private readonly history: LegacyRecommendation[] = []

  /** `spec.minReplicas` must be at least 1: the HPA cannot scale to zero. */
  constructor (readonly spec: ServiceSpec, current: number, private readonly downscaleWindowMs: number) {
    simAssert(spec.minReplicas >= 1, 'an HPA has minReplicas ≥ 1')
    this.current = current
  }

  get replicas (): number {
    return this.current
  }

  decide (reading: LoadReading, _upstream: UpstreamReading | undefined, nowMs: number): ScaleDecision {
    const spec = this.spec
    // reconcileAutoscaler: outside the bounds the count goes straight to them, no metric needed.
    if (this.current > spec.maxReplicas) return this.commit(spec.maxReplicas, false, spec.maxReplicas)
    if (this.current < spec.minReplicas) return this.commit(spec.minReplicas, false, spec.minReplicas)
    // A metric that cannot be read: the HPA reports FailedGetExternalMetric and changes nothing.
    if (reading.status !== 'fresh') return this.commit(this.current, true, this.current)
    const recommended = hpaReplicaCount(spec, reading.total, this.current)
    const stabilized = legacyStabilize(this.history, recommended, nowMs, this.downscaleWindowMs)
    this.remember(recommended, nowMs)
    return this.commit(convertDesiredReplicasWithRules(this.current, stabilized, spec.minReplicas, spec.maxReplicas), false, recommended)
  }

  private commit (desired: number, failingStatic: boolean, recommended: number): ScaleDecision {
    this.current = desired
    return { desired, failingStatic, upstreamCapped: false, recommended, rule: 'hpa' }
  }

  /** Kubernetes reuses the slot of a recommendation older than the window; dropping it is the same. */
  private remember (value: number, nowMs: number): void {
    const cutoffMs = nowMs - this.downscaleWindowMs
    let drop = 0
    while (drop < this.history.length && this.history[drop].atMs < cutoffMs) drop++
    if (drop > 0) this.history.splice(0, drop)
    this.history.push({ atMs: nowMs, value })
  }
}
