import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { checkForecast, forecastReplicas } from '../../node/core/forecast-check.js'
import { RateHistory } from '../../node/core/forecast-history.js'
import type { LoadReading } from '../../node/core/load-reading.js'
import { RateScaler } from '../../node/core/rate-scaler.js'
import { serviceSpec, DEFAULT_RATE_RULES } from '../../node/core/service-spec.js'
import { readServiceSpec } from '../../node/core/service-spec-reader.js'

const fresh = (total: number): LoadReading => ({ status: 'fresh', total, reporters: 1, staleReporters: 0 })

describe('forecast helpers in the core', () => {
  it('closes a step on the first observation of the next, and restarts after a missing step', () => {
    const h = new RateHistory(1000, 2)
    assert.equal(h.observe(10, 0), false)
    assert.equal(h.observe(20, 500), false)
    assert.equal(h.observe(30, 1000), false, 'one closed step of two')
    assert.equal(h.observe(30, 2000), true)
    assert.deepEqual(h.values(), [15, 30])
    assert.equal(h.observe(5, 4000), false, 'step 3 had no observation')
    assert.equal(h.length, 0)
  })

  it('refuses NaN, negative and absurd forecasts', () => {
    assert.equal(checkForecast(NaN, 10, 4, 1), 'nan')
    assert.equal(checkForecast(-0.5, 10, 4, 1), 'negative')
    assert.equal(checkForecast(41, 10, 4, 1), 'absurd')
    assert.equal(checkForecast(Infinity, 10, 4, 1), 'absurd')
    assert.equal(checkForecast(40, 10, 4, 1), undefined)
    assert.equal(checkForecast(3, 0, 4, 1), undefined, 'a trickle after an idle window is not absurd')
  })

  it('converts a rate into the replicas that drain it', () => {
    assert.equal(forecastReplicas(250, 100), 3)
    assert.equal(forecastReplicas(300, 100), 3)
    assert.equal(forecastReplicas(0, 100), 0)
  })

  it('scales up to a forecast floor, and never down because of one', () => {
    const spec = serviceSpec('web', { minReplicas: 1, maxReplicas: 20, rate: { ...DEFAULT_RATE_RULES, drainPerReplica: 100 } })
    const s = new RateScaler(spec, 2, 0)
    const d0 = s.decide(fresh(0), undefined, 1000, { rate: fresh(150), ready: 2 })
    assert.equal(d0.desired, 2, 'the rate alone needs 2')
    const d1 = s.decide(fresh(0), undefined, 2000, { rate: fresh(150), ready: 2, forecastFloor: 6 })
    assert.equal(d1.desired, 6, 'the forecast needs 6')
    const d2 = s.decide(fresh(0), undefined, 3000, { rate: fresh(150), ready: 6, forecastFloor: 1 })
    assert.equal(d2.desired, 6, 'a low forecast does not bring it down')
  })

  it('reads a forecast block, and names a bad field', () => {
    const problems: string[] = [] as string[]
    const where = (path: ReadonlyArray<string | number>, message: string): undefined => { problems.push(`${path.join('.')}: ${message}`); return undefined }
    const spec = readServiceSpec({ name: 'web', forecast: { model: 'builtin', step: '1m', peakMultipleMax: 3 } }, ['services', 0], where)
    assert.deepEqual(spec?.forecast, { model: 'builtin', stepMs: 60_000, peakMultipleMax: 3 })
    assert.deepEqual(problems, [])
    readServiceSpec({ name: 'web', forecast: { step: '10ms', peakMultipleMax: 0, horizon: 1 } }, ['services', 0], where)
    assert.equal(problems.length, 3)
    assert.ok((problems as string[]).some(p => p.startsWith('services.0.forecast.step: must be a duration')))
    assert.ok((problems as string[]).some(p => p.startsWith('services.0.forecast.peakMultipleMax')))
    assert.ok((problems as string[]).some(p => p.startsWith('services.0.forecast.horizon: unknown field')))
  })
})
