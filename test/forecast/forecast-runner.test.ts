import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { serviceSpec, type ServiceSpec } from '../../node/core/service-spec.js'
import { FORECAST_DEFAULTS } from '../../node/core/forecast-limits.js'
import { ForecastError, ForecastErrorCode } from '../../node/forecast/errors.js'
import { ForecastRunner, type ForecastStatus } from '../../node/forecast/forecast-runner.js'
import type { ForecastModel } from '../../node/forecast/onnx-model.js'

const STEP_MS = 60_000
const WINDOW = 4
const spec: ServiceSpec = serviceSpec('web', { forecast: { model: 'm.onnx', stepMs: STEP_MS, peakMultipleMax: FORECAST_DEFAULTS.peakMultipleMax } })

function fakeModel (answer: (window: Float32Array) => number): ForecastModel {
  return { window: WINDOW, file: 'm.onnx', evaluate: async (w) => Float32Array.of(answer(w)), close: async () => {} }
}

/** A runner whose asynchronous work is queued and drained by `settle`, as the simulator does. */
function runner (load: () => Promise<ForecastModel>): { r: ForecastRunner, settle: () => Promise<void>, changes: ForecastStatus[] } {
  let work: (() => Promise<void>)[] = []
  const changes: ForecastStatus[] = []
  const r = new ForecastRunner({ services: [spec], load, schedule: (w) => { work.push(w) }, onChange: (s) => changes.push(s) })
  const settle = async (): Promise<void> => { while (work.length > 0) { const w = work; work = []; for (const x of w) await x() } }
  return { r, settle, changes }
}

/** Feeds one observation per step for `steps` steps of a steady `rate`, settling after each round. */
async function feed (t: { r: ForecastRunner, settle: () => Promise<void> }, steps: number, rate: number, from = 0): Promise<number | undefined> {
  let last: number | undefined
  for (let i = from; i <= steps; i++) {
    t.r.observe('web', rate, i * STEP_MS)
    await t.settle()
    last = t.r.latest('web', i * STEP_MS)
  }
  return last
}

describe('the forecast runner', () => {
  it('warms up until the model has a full window, then gives its forecast', async () => {
    const t = runner(async () => fakeModel(w => w[w.length - 1] * 1.5))
    await t.settle()
    assert.equal(t.r.statuses()[0].state, 'warming-up')
    assert.equal(await feed(t, WINDOW - 1, 100), undefined, 'not before a full window')
    assert.equal(await feed(t, WINDOW + 1, 100, WINDOW), 150)
    assert.equal(t.r.statuses()[0].state, 'ok')
  })

  it('ignores a NaN forecast, counts the round and says why', async () => {
    const t = runner(async () => fakeModel(() => NaN))
    await t.settle()
    assert.equal(await feed(t, WINDOW + 2, 100), undefined)
    const s = t.r.statuses()[0]
    assert.equal(s.state, 'fallback')
    assert.equal(s.reason, 'nan')
    assert.ok(s.fallbacks.nan >= 1)
  })

  it('ignores a forecast above the documented multiple of the recent peak', async () => {
    const t = runner(async () => fakeModel(w => w[0] * (FORECAST_DEFAULTS.peakMultipleMax + 1)))
    await t.settle()
    assert.equal(await feed(t, WINDOW + 2, 100), undefined)
    const s = t.r.statuses()[0]
    assert.equal(s.reason, 'absurd')
    assert.ok(s.fallbacks.absurd >= 1)
  })

  it('ignores a negative forecast, and a model that throws', async () => {
    const neg = runner(async () => fakeModel(() => -1))
    await neg.settle()
    await feed(neg, WINDOW + 2, 100)
    assert.equal(neg.r.statuses()[0].reason, 'negative')
    const throws = runner(async () => fakeModel(() => { throw new ForecastError(ForecastErrorCode.InferenceFailed, 'boom') }))
    await throws.settle()
    await feed(throws, WINDOW + 2, 100)
    const s = throws.r.statuses()[0]
    assert.equal(s.reason, 'threw')
    assert.match(s.detail ?? '', /E_FORECAST_INFERENCE_FAILED/)
  })

  it('falls back for good when the model fails to load, and reports the error once', async () => {
    const t = runner(async () => { throw new ForecastError(ForecastErrorCode.ModelMissing, 'no such file') })
    await t.settle()
    assert.equal(await feed(t, WINDOW + 2, 100), undefined)
    const s = t.r.statuses()[0]
    assert.equal(s.reason, 'load-failed')
    assert.equal(s.fallbacks['load-failed'], WINDOW + 3, 'every round counted')
    assert.match(s.detail ?? '', /E_FORECAST_MODEL_MISSING/)
    assert.deepEqual(t.changes.map(c => c.state), ['fallback'], 'one change, one log line')
  })

  it('recovers when the model answers sensibly again', async () => {
    let answer = NaN
    const t = runner(async () => fakeModel(() => answer))
    await t.settle()
    await feed(t, WINDOW + 1, 100)
    answer = 120
    t.r.observe('web', 100, (WINDOW + 2) * STEP_MS)
    await t.settle()
    assert.equal(t.r.latest('web', (WINDOW + 2) * STEP_MS), 120)
    assert.deepEqual(t.changes.map(c => `${c.state}${c.reason === undefined ? '' : ':' + c.reason}`), ['warming-up', 'fallback:nan', 'ok'])
  })

  it('warms up again, without counting old verdicts, when a step passes without a rate', async () => {
    const t = runner(async () => fakeModel(() => NaN))
    await t.settle()
    await feed(t, WINDOW + 1, 100)
    assert.equal(t.r.statuses()[0].reason, 'nan')
    const back = (WINDOW + 4) * STEP_MS
    t.r.observe('web', 100, back)
    assert.equal(t.r.latest('web', back), undefined)
    const s = t.r.statuses()[0]
    assert.equal(s.state, 'warming-up')
    assert.equal(s.historySteps, 0)
  })

  it('lets a forecast go stale when no new step closes', async () => {
    const t = runner(async () => fakeModel(() => 100))
    await t.settle()
    await feed(t, WINDOW + 1, 100)
    const later = (WINDOW + 2 + FORECAST_DEFAULTS.staleAfterSteps) * STEP_MS
    assert.equal(t.r.latest('web', later), undefined)
    assert.equal(t.r.statuses()[0].reason, 'stale')
  })
})
