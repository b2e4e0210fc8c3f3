/**
 * Load forecasting in the simulator: the same models, through onnxruntime-node, as the daemon
 * runs, one ForecastRunner per simulated supervisor (simulation.ts), so a policy with and
 * without forecasting can be compared on the same seed (`agentmesh sim --forecast on|off`).
 * Models are loaded once per run set and shared by every simulated host: a session holds no
 * state between evaluations, and evaluations are awaited one at a time.
 */
import { dirname, isAbsolute, resolve } from 'node:path'
import { FORECAST_DEFAULTS } from '../node/core/forecast-limits.js'
import { loadForecastModel, type ForecastModel } from '../node/forecast/onnx-model.js'
import type { Scenario } from './scenario.js'

export interface SimForecast {
  load: (model: string) => Promise<ForecastModel>
}

/** `scenario`: as each service's `forecast` block says; `on`: the builtin model for every service without one; `off`: none. */
export type ForecastMode = 'scenario' | 'on' | 'off'
export const FORECAST_MODES: readonly ForecastMode[] = ['scenario', 'on', 'off']

export function withForecast (scenario: Scenario, mode: ForecastMode): Scenario {
  if (mode === 'scenario') return scenario
  return {
    ...scenario,
    services: scenario.services.map(s => {
      const spec = { ...s.spec }
      if (mode === 'off') delete spec.forecast
      else spec.forecast ??= { model: 'builtin', stepMs: FORECAST_DEFAULTS.stepMs, peakMultipleMax: FORECAST_DEFAULTS.peakMultipleMax }
      return { ...s, spec }
    }),
  }
}

export function forecasts (scenario: Scenario): boolean {
  return scenario.services.some(s => s.spec.forecast !== undefined)
}

/** Shared models for a scenario's runs; paths are relative to the scenario file. */
export function simForecast (scenario: Scenario): SimForecast & { close: () => Promise<void> } {
  const models = new Map<string, Promise<ForecastModel>>()
  const base = scenario.file === '' ? process.cwd() : dirname(scenario.file)
  return {
    load: async (model) => {
      const file = model === 'builtin' || isAbsolute(model) ? model : resolve(base, model)
      let p = models.get(file)
      if (p === undefined) { p = loadForecastModel(file); models.set(file, p) }
      return await p
    },
    close: async () => {
      for (const p of models.values()) await p.then(m => m.close(), () => undefined)
    },
  }
}
