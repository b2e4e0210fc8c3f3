/**
 * What the core needs to know about a service to scale and place it. The daemon's config
 * module validates the operator's file and builds these; the core trusts them.
 */

/** One rate limit: at most `value` pods (or percent of the replicas at the period's start) per period. */
export interface ScalingPolicy {
  type: 'pods' | 'percent'
  value: number
  periodMs: number
}

/** Like the HPA's `behavior.scaleUp` / `behavior.scaleDown`. */
export interface ScalingRules {
  /** Recommendations within this window are considered: the least for scale-up, the most for scale-down. */
  stabilizationMs: number
  policies: ScalingPolicy[]
  /** Which policy wins when several apply: the one allowing the biggest change, or the smallest. */
  selectPolicy: 'max' | 'min' | 'disabled'
}

export interface UpstreamCap {
  /** Name of the upstream signal (a sample with upstream = true and this service name). */
  name: string
  /** Saturation (0–1, 1 = full) at or above which scale-up stops. */
  saturatedAt: number
}

/**
 * The rate-aware policy's settings (rate-scaler.ts). Defaults: DEFAULT_RATE_RULES, chosen by the
 * real-trace evaluation (`npm run bench -- sim`), not by hand on one scenario.
 */
export interface RateRules {
  /**
   * Work one replica drains per second. Absent: learnt from the backlog's slope while replicas
   * are busy (the HPA rule decides until then). Set: the starting estimate, refined the same way.
   */
  drainPerReplica?: number
  /** A backlog is planned to drain within this long: replicas on top of those the rate needs. */
  drainWithinMs: number
  /** The share of a replica's drain rate the rate part plans to use (headroom against noise). */
  utilization: number
  /** How far ahead a rising rate is projected: about the site's container start time. */
  startLatencyMs: number
  /** Scale-down to the most needed over this window: the need must stay low this long (hysteresis). */
  scaleDownHoldMs: number
  /** The rate's trend is fitted over this window. */
  trendWindowMs: number
  /**
   * Without a rate signal, an empty backlog says only that the rate is below what runs: the
   * estimate then halves every this long, so the count probes down.
   */
  idleHalfLifeMs: number
}

/**
 * Predictive scaling (docs/forecast.md): a model forecasts the service's arrival rate over the
 * next step from its recent history at this site; the scaler keeps at least the replicas that
 * rate needs. Needs a rate signal, and a drain rate (`rate.drainPerReplica`, or learnt).
 */
export interface ForecastSpec {
  /** `builtin` (the model shipped in node/forecast/model/), or a path to an `.onnx` file. */
  model: string
  /** One step of the model's history and its horizon, ms (the shipped model's: 60 s). */
  stepMs: number
  /** A forecast above this multiple of the window's peak rate is absurd: ignored that round. */
  peakMultipleMax: number
}

/** `rate`: the rate-aware policy (the default); `hpa`: the Kubernetes HPA rule on the backlog. */
export type PolicyKind = 'rate' | 'hpa'

export interface ServiceSpec {
  name: string
  /** Which rule decides the replica count. */
  policy: PolicyKind
  /** Settings of the rate policy (unused under `hpa`). */
  rate: RateRules
  /**
   * When the site cannot run all the replicas the service needs (at maxReplicas under the rate
   * policy, or out of slots), its leader may ask another site that runs the service to run the
   * rest (spill.ts). False: the service stays in its site.
   */
  spill: boolean
  /** Signal units one replica handles (e.g. backlog messages per replica). */
  targetPerReplica: number
  /** Per site. */
  minReplicas: number
  maxReplicas: number
  /** No change while |load / (replicas × target) − 1| is within this band. */
  tolerance: number
  /**
   * Load at or below which the service needs no replica at all: with minReplicas 0 it scales
   * to zero, and from zero it starts only once load is above it (KEDA's activation threshold).
   */
  activationThreshold: number
  scaleUp: ScalingRules
  scaleDown: ScalingRules
  /** Label equality selectors a host must match to run this service. */
  selector: Record<string, string>
  /** Agent slots one replica takes on a host. */
  slotsPerReplica: number
  upstream?: UpstreamCap
  /** Absent: no forecast, reactive scaling only. */
  forecast?: ForecastSpec
}

/** The HPA's default behaviour: up fast (max of 100% or 4 pods per 15 s), down after 300 s. */
export const DEFAULT_SCALE_UP: ScalingRules = {
  stabilizationMs: 0,
  policies: [
    { type: 'percent', value: 100, periodMs: 15_000 },
    { type: 'pods', value: 4, periodMs: 15_000 },
  ],
  selectPolicy: 'max',
}

export const DEFAULT_SCALE_DOWN: ScalingRules = {
  stabilizationMs: 300_000,
  policies: [{ type: 'percent', value: 100, periodMs: 15_000 }],
  selectPolicy: 'max',
}

/**
 * Chosen by the policy sweep over the real-trace set (`SIM_BENCH_PARTS=sweep npm run bench --
 * sim`, docs/simulator.md): of the settings tried, a 30 s hold with no utilization headroom met
 * the most targets (SLA and cost against hpa, keda and central, with and without faults).
 */
export const DEFAULT_RATE_RULES: RateRules = {
  drainWithinMs: 30_000,
  utilization: 1,
  startLatencyMs: 5_000,
  scaleDownHoldMs: 30_000,
  trendWindowMs: 30_000,
  idleHalfLifeMs: 60_000,
}

export const DEFAULT_POLICY: PolicyKind = 'rate'

export function serviceSpec (name: string, fields: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    name,
    policy: DEFAULT_POLICY,
    rate: DEFAULT_RATE_RULES,
    spill: true,
    targetPerReplica: 10,
    minReplicas: 0,
    maxReplicas: 10,
    tolerance: 0.1,
    activationThreshold: 0,
    scaleUp: DEFAULT_SCALE_UP,
    scaleDown: DEFAULT_SCALE_DOWN,
    selector: {},
    slotsPerReplica: 1,
    ...fields,
  }
}

export function matchesSelector (selector: Record<string, string>, labels: ReadonlyMap<string, string>): boolean {
  for (const key in selector) {
    if (labels.get(key) !== selector[key]) return false
  }
  return true
}
