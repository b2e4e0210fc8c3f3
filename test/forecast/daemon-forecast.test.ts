/**
 * A real supervisor with two forecasting services: one names a model file that does not exist,
 * one the builtin model. The first falls back to reactive scaling, says why in /v1/status,
 * counts each round in agentmesh_forecast_fallbacks_total and logs the change once; the second
 * loads onnxruntime-node and, fed a pushed rate signal with one-second steps, forecasts.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { StatusResponse } from '../../node/daemon/api-schema.js'
import { renderForecast } from '../../cli/commands/status.js'
import { Cluster, TEST_TOKEN, waitFor, type Supervisor } from '../daemon/harness.js'

describe('a supervisor with forecasting services', () => {
  let cluster: Cluster
  let sup: Supervisor

  before(async () => {
    cluster = await Cluster.create({
      hosts: [{ hostId: 'f1', site: 'F' }],
      common: {
        services: [
          { name: 'api', maxReplicas: 2, forecast: { model: 'builtin', step: '1s' } },
          { name: 'web', maxReplicas: 2, forecast: { model: 'missing.onnx' } },
        ],
        signals: [{ service: 'api', kind: 'push', measures: 'rate' }],
      },
    })
    sup = cluster.sups[0]
    sup.start()
    await waitFor('f1 leads', async () => (await sup.status()).role === 'leader' || undefined, 30_000)
  })
  after(async () => { await cluster?.stopAll() })

  it('shows a model that cannot load as a fallback, with the error and the resolved path', async () => {
    const web = await waitFor('web falls back', async () => {
      const f = (await sup.get<StatusResponse>('/v1/status')).forecast?.find(x => x.service === 'web')
      return f?.state === 'fallback' && f.fallbacks['load-failed'] > 0 ? f : undefined
    }, 10_000)
    assert.equal(web.reason, 'load-failed')
    assert.match(web.detail ?? '', /^E_FORECAST_MODEL_MISSING: forecast model .*missing\.onnx cannot be read/)
    assert.ok((web.detail ?? '').includes(join(cluster.dir)), 'resolved relative to the config file, in the test\'s folder')
    const rows = renderForecast([web])
    assert.deepEqual(rows[1].slice(0, 3), ['web', web.model, 'fallback: load-failed'])
  })

  it('loads the builtin model, takes the pushed rate step by step, and forecasts it', async () => {
    const loaded = await waitFor('api loaded', async () => {
      const f = (await sup.get<StatusResponse>('/v1/status')).forecast?.find(x => x.service === 'api')
      return f !== undefined && f.window > 0 ? f : undefined
    }, 10_000)
    assert.equal(loaded.window, 16)
    // A steady 50/s, pushed more often than the 1 s step: after 16 closed steps the model runs.
    const api = await waitFor('a forecast in use', async () => {
      const res = await sup.post('/v1/signals', { service: 'api', value: 50 }, TEST_TOKEN)
      assert.equal(res.status, 200, await res.text())
      const f = (await sup.get<StatusResponse>('/v1/status')).forecast?.find(x => x.service === 'api')
      return f?.state === 'ok' ? f : undefined
    }, 60_000, 250)
    assert.equal(api.historySteps, 16)
    assert.equal(api.ratePerS, 50)
    assert.ok(Math.abs(api.forecastPerS! - 50) < 5, `a steady 50/s forecast as ${api.forecastPerS}`)
    await waitFor('the forecast gauge', async () => await sup.metric('agentmesh_forecast_arrival_rate', 'service="api"') > 0 || undefined, 10_000)
  })

  it('counts the fallback rounds and logs the change once', async () => {
    await waitFor('the fallback counter', async () => await sup.metric('agentmesh_forecast_fallbacks_total', 'service="web",reason="load-failed"') > 0 || undefined, 10_000)
    const logged = sup.lines.filter(l => l.includes('forecast ignored') && l.includes('"service":"web"'))
    assert.equal(logged.length, 1, logged.join('\n'))
  })
})
