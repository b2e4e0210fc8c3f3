import type { StatusResponse } from '../../node/daemon/api-schema.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { HttpApi, type ApiSource } from '../../node/daemon/http-api.js'
import { EventLog } from '../../node/daemon/event-log.js'
import { DaemonMetrics } from '../../node/daemon/metrics.js'
import { HttpErrorCode } from '../../node/daemon/errors.js'
import { defaultHttpConfig } from '../../node/daemon/config.js'
import { ScopedSignalSet } from '../../node/daemon/workload.js'
import { createPushSignal, SignalError } from '../../node/signals/index.js'

const TOKEN = 'a-token-of-enough-length'

describe('HTTP API', () => {
  let api: HttpApi
  let base: string
  const events = new EventLog(8)
  let partitioned: boolean | undefined
  let nowMs = 1000
  const signals = new ScopedSignalSet([
    { signal: createPushSignal({ service: 'detector' }), scope: 'host' },
    { signal: createPushSignal({ service: 'broker', upstream: true }), scope: 'site' },
  ], () => nowMs)
  const source: ApiSource = {
    pushSignals: (body) => {
      const b = body as { service: string, value: number, upstream?: boolean }
      if (typeof b.value !== 'number') throw new SignalError('E_SIGNAL_VALUE_INVALID', 'value must be a number')
      signals.push(b.service, b.value, b.upstream)
      return { accepted: 1 }
    },
    status: () => ({ hostId: 'h1' }) as unknown as StatusResponse,
    sites: () => ({ sites: [] }),
    plan: () => ({ site: 's', plan: null, leader: null }),
    openApi: async () => ({}),
    ready: () => ({ ready: false, reason: 'no site leader known yet' }),
    healthy: () => ({ healthy: true, reason: 'ok' }),
    setPartitioned: (on) => { partitioned = on },
  }

  before(async () => {
    api = new HttpApi({
      http: defaultHttpConfig({ tokenFile: 'x', maxBodyBytes: 64, requestsPerSecond: 5, requestBurst: 20, connectionRequestsPerSecond: 5, connectionRequestBurst: 20, maxSseClients: 1, eventHistory: 8 }),
      token: TOKEN,
    }, { source, events, metrics: new DaemonMetrics(), log: pino({ level: 'silent' }), clock: () => Date.now() })
    const a = await api.start()
    base = `http://127.0.0.1:${a.port}`
  })
  after(async () => { await api.stop() })

  const code = async (res: Response): Promise<string> => ((await res.json()) as { error: { code: string } }).error.code

  it('answers JSON routes and refuses unknown ones with a coded error', async () => {
    assert.deepEqual(await (await fetch(base + '/v1/status')).json(), { hostId: 'h1' })
    const ready = await fetch(base + '/readyz')
    assert.equal(ready.status, 503)
    const missing = await fetch(base + '/v1/nope')
    assert.equal(missing.status, 404)
    assert.equal(await code(missing), HttpErrorCode.NotFound)
    const post = await fetch(base + '/v1/status', { method: 'POST' })
    assert.equal(post.status, 405)
  })

  it('guards mutating routes with the bearer token and caps the body', async () => {
    const url = base + '/v1/debug/partition'
    const noAuth = await fetch(url, { method: 'POST', body: '{"partitioned":true}' })
    assert.equal(noAuth.status, 401)
    assert.equal(await code(noAuth), HttpErrorCode.Unauthorized)
    const headers = { authorization: `Bearer ${TOKEN}` }
    const big = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ partitioned: true, pad: 'x'.repeat(100) }) })
    assert.equal(big.status, 413)
    const bad = await fetch(url, { method: 'POST', headers, body: '{"partitioned":"yes"}' })
    assert.equal(await code(bad), HttpErrorCode.BadRequest)
    const ok = await fetch(url, { method: 'POST', headers, body: '{"partitioned":true}' })
    assert.equal(ok.status, 200)
    assert.equal(partitioned, true)
  })

  it('streams events and replays what it kept after Last-Event-ID, one stream at most', async () => {
    events.push('leader', 1, { leaderId: 'h1' })
    events.push('plan', 2, { version: 3 })
    const ctrl = new AbortController()
    const res = await fetch(base + '/v1/events', { headers: { 'last-event-id': String(events.lastId - 1) }, signal: ctrl.signal })
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    while (!text.includes('event: plan')) text += new TextDecoder().decode((await reader.read()).value)
    assert.ok(!text.includes('event: leader'), 'only events after Last-Event-ID are replayed')
    const second = await fetch(base + '/v1/events')
    assert.equal(second.status, 503)
    assert.equal(await code(second), HttpErrorCode.TooManyStreams)
    ctrl.abort()
  })

  it('takes pushed signals with the token: the value is sampled, a site-wide one marked, an unknown service refused', async () => {
    const url = base + '/v1/signals'
    const headers = { authorization: `Bearer ${TOKEN}` }
    assert.equal((await fetch(url, { method: 'POST', body: '{"service":"detector","value":5}' })).status, 401)
    assert.equal((await fetch(url, { method: 'GET', headers })).status, 405)
    const ok = await fetch(url, { method: 'POST', headers, body: '{"service":"detector","value":42}' })
    assert.equal(ok.status, 200)
    assert.deepEqual(await ok.json(), { accepted: 1 })
    assert.equal((await fetch(url, { method: 'POST', headers, body: '{"service":"broker","value":0.5,"upstream":true}' })).status, 200)
    nowMs += 250
    assert.deepEqual(signals.sample().signals, [
      { service: 'detector', value: 42, ageMs: 250, upstream: false },
      { service: 'broker', value: 0.5, ageMs: 250, upstream: true, siteWide: true },
    ])
    const unknown = await fetch(url, { method: 'POST', headers, body: '{"service":"nope","value":1}' })
    assert.equal(unknown.status, 404)
    assert.equal(await code(unknown), HttpErrorCode.NotFound)
    const negative = await fetch(url, { method: 'POST', headers, body: '{"service":"detector","value":-1}' })
    assert.equal(negative.status, 400)
    assert.equal(await code(negative), HttpErrorCode.BadRequest)
    assert.equal(signals.statuses()[0]!.errorsCount, 1)
    assert.equal(signals.statuses()[1]!.scope, 'site')
  })

  it('rate limits a client past its burst', async () => {
    let limited = 0
    for (let i = 0; i < 40; i++) if ((await fetch(base + '/v1/status')).status === 429) limited++
    assert.ok(limited > 0)
  })

})
