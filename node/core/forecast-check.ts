import type { ForecastPort } from './forecast-port.js'
import type { LoadReading } from './load-reading.js'
import type { ServiceSpec } from './service-spec.js'

/**
 * The fail-safe checks a forecast passes before the scaler may use it, and the conversion of a
 * forecast rate into replicas. Pure: the shells run the model, these decide.
 */

/** Why a forecast was not used this round: the label of agentmesh_forecast_fallbacks_total. */
export const FORECAST_FALLBACK_REASONS = ['load-failed', 'threw', 'nan', 'negative', 'absurd', 'stale'] as const
export type ForecastFallbackReason = typeof FORECAST_FALLBACK_REASONS[number]

/**
 * undefined when the value may be used; otherwise why not. `absurd`: above `peakMultipleMax`
 * times the window's peak (or `peakFloorPerS`, whichever is higher).
 */
export function checkForecast (value: number, windowPeakPerS: number, peakMultipleMax: number, peakFloorPerS: number): ForecastFallbackReason | undefined {
  if (Number.isNaN(value)) return 'nan'
  if (value < 0) return 'negative'
  if (!Number.isFinite(value) || value > peakMultipleMax * Math.max(windowPeakPerS, peakFloorPerS)) return 'absurd'
  return undefined
}

/** Replicas that drain `ratePerS` at `drainPerReplicaPerS` each (the slack only absorbs float error). */
export function forecastReplicas (ratePerS: number, drainPerReplicaPerS: number): number {
  return Math.max(0, Math.ceil(ratePerS / drainPerReplicaPerS - 1e-9))
}

/**
 * One round of forecasting for one service, as the leader runs it: hands the port the site's
 * fresh arrival rate, and turns the latest usable forecast into a replica floor with the
 * service's drain rate (configured, else learnt by the rate rule). No utilization headroom on
 * top: measured on the real-trace set it bought no SLA and cost 1.3 % more container-seconds
 * (the rule keeps its own headroom for the current rate). undefined: no floor this round
 * (no `forecast` block, no usable forecast, or no drain rate known yet).
 */
export function forecastFloor (port: ForecastPort, spec: ServiceSpec, learntDrainPerS: number | undefined, rate: LoadReading | undefined, nowMs: number): number | undefined {
  if (spec.forecast === undefined) return undefined
  if (rate?.status === 'fresh' && rate.total >= 0 && Number.isFinite(rate.total)) port.observe(spec.name, rate.total, nowMs)
  const forecast = port.latest(spec.name, nowMs)
  const drain = spec.rate.drainPerReplica ?? learntDrainPerS
  if (forecast === undefined || drain === undefined || !(drain > 0)) return undefined
  return forecastReplicas(forecast, drain)
}
