/**
 * The forecast port's implementation (node/core/forecast-port.ts), one per supervisor, shared by
 * the daemon and the simulator: per service with a `forecast` block it loads the model, keeps the
 * rate history the leader hands it (RateHistory), evaluates the model when a step of history
 * closes, checks the answer (forecast-check.ts) and keeps the latest usable forecast for the
 * leader's next round. Every way a forecast can fail leaves the service on reactive scaling for
 * that round, counts the round under its reason and changes the service's status (the shell logs
 * each change once).
 *
 * Asynchronous work (loading, evaluating) goes through `schedule`: the daemon starts it at once;
 * the simulator queues it and awaits it before its next event, so every answer lands at the same
 * simulated moment on every run.
 */
import { checkForecast, FORECAST_FALLBACK_REASONS, type ForecastFallbackReason } from '../core/forecast-check.js'
import { RateHistory } from '../core/forecast-history.js'
import { FORECAST_DEFAULTS } from '../core/forecast-limits.js'
import type { ForecastPort } from '../core/forecast-port.js'
import type { ForecastSpec, ServiceSpec } from '../core/service-spec.js'
import { ForecastError } from './errors.js'
import type { ForecastModel } from './onnx-model.js'

/** loading: the model is being loaded; warming-up: less history than the model reads; ok: a forecast is in use; fallback: see reason. */
export type ForecastState = 'loading' | 'warming-up' | 'ok' | 'fallback'

export interface ForecastStatus {
  service: string
  /** As configured (`builtin` or a path). */
  model: string
  state: ForecastState
  /** Why the service falls back (state fallback). */
  reason?: ForecastFallbackReason
  /** The error code and message behind a load-failed or threw fallback. */
  detail?: string
  /** The latest forecast that passed its checks (requests/s), and when it was made. */
  forecastPerS?: number
  forecastAtMs?: number
  /** The site's arrival rate last handed over by the leader (requests/s), and when. */
  ratePerS?: number
  rateAtMs?: number
  /** Steps of history held, of the window the model reads (0 until it loads). */
  historySteps: number
  window: number
  /** Rounds the service fell back to reactive scaling, per reason. */
  fallbacks: Record<ForecastFallbackReason, number>
}

export interface ForecastRunnerInit {
  /** Services of this host; those without a `forecast` block are ignored. */
  services: readonly ServiceSpec[]
  /** Loads a model by its configured name (the shell resolves paths and may share models). */
  load: (model: string) => Promise<ForecastModel>
  /** Runs asynchronous work (see the header). Must not throw. */
  schedule: (work: () => Promise<void>) => void
  /** A service's status changed state or reason (log it). */
  onChange?: (status: ForecastStatus) => void
}

interface ServiceForecast {
  spec: ServiceSpec & { forecast: ForecastSpec }
  status: ForecastStatus
  model: ForecastModel | undefined
  history: RateHistory | undefined
  inFlight: boolean
  /** Why the latest evaluation could not be used, if it could not. */
  rejected: ForecastFallbackReason | undefined
}

export class ForecastRunner implements ForecastPort {
  private readonly services = new Map<string, ServiceForecast>()

  constructor (private readonly init: ForecastRunnerInit) {
    for (const spec of init.services) {
      if (spec.forecast === undefined) continue
      const fallbacks = Object.fromEntries(FORECAST_FALLBACK_REASONS.map(r => [r, 0])) as Record<ForecastFallbackReason, number>
      const s: ServiceForecast = {
        spec: spec as ServiceForecast['spec'],
        status: { service: spec.name, model: spec.forecast.model, state: 'loading', historySteps: 0, window: 0, fallbacks },
        model: undefined, history: undefined, inFlight: false, rejected: undefined,
      }
      this.services.set(spec.name, s)
      init.schedule(async () => { await this.loadModel(s) })
    }
  }

  /** Every forecasting service's status, by name. */
  statuses (): ForecastStatus[] {
    return [...this.services.values()].map(s => ({ ...s.status, fallbacks: { ...s.status.fallbacks } })).sort((a, b) => a.service < b.service ? -1 : 1)
  }

  observe (service: string, ratePerS: number, nowMs: number): void {
    const s = this.services.get(service)
    if (s === undefined) return
    s.status.ratePerS = ratePerS
    s.status.rateAtMs = nowMs
    if (s.history === undefined || s.model === undefined) return
    if (!s.history.observe(ratePerS, nowMs)) {
      s.status.historySteps = s.history.length
      // A history that restarted (a step without a rate) is warming up, whatever the last verdict was.
      if (!s.history.ready) s.rejected = undefined
      return
    }
    s.status.historySteps = s.history.length
    if (s.inFlight) return
    s.inFlight = true
    const window = Float32Array.from(s.history.values())
    const peak = s.history.peak()
    const atMs = s.history.forecastStepStartMs
    this.init.schedule(async () => {
      try {
        await this.evaluate(s, window, peak, atMs)
      } finally {
        s.inFlight = false
      }
    })
  }

  latest (service: string, nowMs: number): number | undefined {
    const s = this.services.get(service)
    if (s === undefined || s.status.state === 'loading') return undefined
    if (s.model === undefined) return this.fallBack(s, 'load-failed')
    if (s.rejected !== undefined) return this.fallBack(s, s.rejected)
    const at = s.status.forecastAtMs
    if (at === undefined || s.history === undefined || !s.history.ready) {
      this.setState(s, 'warming-up', undefined)
      return undefined
    }
    if (nowMs - at > FORECAST_DEFAULTS.staleAfterSteps * s.spec.forecast.stepMs) return this.fallBack(s, 'stale')
    this.setState(s, 'ok', undefined)
    return s.status.forecastPerS
  }

  /** The forecast the leader used at its last round (state ok), without counting anything: for charts. */
  current (service: string): number | undefined {
    const s = this.services.get(service)
    return s?.status.state === 'ok' ? s.status.forecastPerS : undefined
  }

  private async loadModel (s: ServiceForecast): Promise<void> {
    try {
      s.model = await this.init.load(s.spec.forecast.model)
      s.history = new RateHistory(s.spec.forecast.stepMs, s.model.window)
      s.status.window = s.model.window
      this.setState(s, 'warming-up', undefined)
    } catch (err) {
      s.status.detail = describe(err)
      this.setState(s, 'fallback', 'load-failed')
    }
  }

  private async evaluate (s: ServiceForecast, window: Float32Array, peakPerS: number, atMs: number): Promise<void> {
    let value: number
    try {
      value = (await s.model!.evaluate(window, 1))[0]
    } catch (err) {
      s.rejected = 'threw'
      s.status.detail = describe(err)
      return
    }
    s.rejected = checkForecast(value, peakPerS, s.spec.forecast.peakMultipleMax, FORECAST_DEFAULTS.peakFloorPerS)
    if (s.rejected !== undefined) {
      s.status.detail = `the model answered ${value} for a window peaking at ${peakPerS} requests/s`
      return
    }
    s.status.detail = undefined
    s.status.forecastPerS = value
    s.status.forecastAtMs = atMs
  }

  private fallBack (s: ServiceForecast, reason: ForecastFallbackReason): undefined {
    s.status.fallbacks[reason]++
    this.setState(s, 'fallback', reason)
    return undefined
  }

  private setState (s: ServiceForecast, state: ForecastState, reason: ForecastFallbackReason | undefined): void {
    if (s.status.state === state && s.status.reason === reason) return
    s.status.state = state
    if (reason === undefined) delete s.status.reason
    else s.status.reason = reason
    this.init.onChange?.({ ...s.status, fallbacks: { ...s.status.fallbacks } })
  }
}

function describe (err: unknown): string {
  return err instanceof ForecastError ? `${err.code}: ${err.message}` : `${(err as Error).name}: ${(err as Error).message}`
}
