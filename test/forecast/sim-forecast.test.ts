import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { simForecast, withForecast } from '../../sim/forecast-sim.js'
import { runScenarioAsync } from '../../sim/run-scenario.js'
import { loadScenario } from '../../sim/scenario-parse.js'
import { Simulation } from '../../sim/simulation.js'
import { ROOT } from '../sim/sim-helpers.js'

const SCENARIO = 'sim/scenarios/trace-replay.yaml'
/** Long enough for the builtin model's 16 one-minute steps of history and a few forecasts. */
const DURATION_MS = 25 * 60_000

describe('the simulator with a forecast model', () => {
  it('gives a byte-identical summary for the same seed', async () => {
    const scenario = withForecast(loadScenario(join(ROOT, SCENARIO)), 'on')
    const forecast = simForecast(scenario)
    try {
      const run = async (): Promise<string> => JSON.stringify((await runScenarioAsync({ scenario, policies: ['agentmesh'], seed: 3, durationMs: DURATION_MS, version: 'test', reportPoints: 0 }, forecast)).summary)
      const a = await run()
      assert.equal(await run(), a)
      assert.ok(JSON.parse(a).ok, 'every invariant held')
    } finally {
      await forecast.close()
    }
  })

  it('runs the model in the leaders, which then forecast every service', async () => {
    const scenario = withForecast(loadScenario(join(ROOT, SCENARIO)), 'on')
    const forecast = simForecast(scenario)
    try {
      const sim = new Simulation(scenario, { policy: 'agentmesh', seed: 3, durationMs: DURATION_MS, reportPoints: 0, forecast })
      await sim.runAsync()
      const forecasting = sim.hosts.flatMap(h => h.forecaster?.statuses() ?? []).filter(s => s.forecastPerS !== undefined)
      assert.ok(forecasting.length >= scenario.sites.length, `a forecast in each site, got ${forecasting.length}`)
      for (const s of forecasting) assert.ok(s.forecastPerS! >= 0 && Number.isFinite(s.forecastPerS))
    } finally {
      await forecast.close()
    }
  })

  it('does not forecast with --forecast off', () => {
    const scenario = withForecast(withForecast(loadScenario(join(ROOT, SCENARIO)), 'on'), 'off')
    assert.ok(scenario.services.every(s => s.spec.forecast === undefined))
  })
})
