/**
 * The rule that decides one service's replicas in one site, chosen by the service's `policy`:
 * the rate policy (rate-scaler.ts, the default) or the Kubernetes HPA rule (service-scaler.ts).
 * The site leader builds one when it takes over (leader-round.ts); the simulator's `central`
 * baseline builds the same, so the architecture ablation always compares the same policy.
 */
import type { LoadReading, UpstreamReading } from './load-reading.js'
import { RateScaler, type ScaleContext } from './rate-scaler.js'
import { ServiceScaler, type ScaleDecision } from './service-scaler.js'
import type { ServiceSpec } from './service-spec.js'

export type { ScaleContext } from './rate-scaler.js'

export interface ReplicaRule {
  readonly spec: ServiceSpec
  /** The count in force: the last decision, or the one taken over. */
  readonly replicas: number
  /** Rate policy: what one replica drains per second, as configured or learnt; undefined otherwise. */
  readonly drainPerReplica?: number
  decide: (reading: LoadReading, upstream: UpstreamReading | undefined, nowMs: number, context?: ScaleContext) => ScaleDecision
}

/**
 * The service's rule, starting from `current` replicas at `nowMs` (a new leader passes the plan's
 * count) and, for the rate policy, from `drainPerReplica` when the last leader knew it.
 */
export function scalerFor (spec: ServiceSpec, current: number, nowMs: number, drainPerReplica?: number): ReplicaRule {
  return spec.policy === 'hpa' ? new ServiceScaler(spec, current, nowMs) : new RateScaler(spec, current, nowMs, drainPerReplica)
}
