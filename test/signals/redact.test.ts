// Issue 11: an MQTT or Prometheus URL with credentials must not show them in /v1/status
// (`lastError`), in logs, in `--check` output or in config errors.

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createMqttBacklogSignal, createMqttRateSignal } from '../../node/signals/mqtt-signal.js'
import { createPrometheusSignal } from '../../node/signals/prometheus-signal.js'
import { redactCredentials } from '../../node/signals/redact.js'
import { SignalError, SignalErrorCode } from '../../node/signals/signal-source.js'
import { redactSignals } from '../../node/daemon/config-workload.js'
import { freePort, waitForStatus } from './helpers.js'

const SECRET = 's3cr3t-pass'

function captureLog (): { log: pino.Logger, text: () => string } {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  return { log: pino({ level: 'trace' }, stream), text: () => lines.join('') }
}

describe('credentials in signal URLs', () => {
  it('are replaced in any text, up to the last @ of the authority', () => {
    assert.equal(redactCredentials(`mqtt://user:${SECRET}@broker:1883: connect ECONNREFUSED`), 'mqtt://***@broker:1883: connect ECONNREFUSED')
    assert.equal(redactCredentials('see wss://a:b@c@host/x and http://u@h'), 'see wss://***@host/x and http://***@h')
    assert.equal(redactCredentials('mqtt://broker:1883 user@example.com'), 'mqtt://broker:1883 user@example.com')
    assert.equal(redactCredentials('"url":"mqtt://u:p@h"'), '"url":"mqtt://***@h"')
  })

  for (const make of [createMqttBacklogSignal, createMqttRateSignal]) {
    it(`stay out of ${make.name}'s lastError and log when the broker cannot be reached`, async () => {
      const port = await freePort()
      const { log, text } = captureLog()
      const s = make({ service: 'a', url: `mqtt://agent:${SECRET}@127.0.0.1:${port}`, topic: 't', reconnectMs: 100, connectTimeoutMs: 500 }, { log })
      await s.start()
      try {
        const st = await waitForStatus(s, x => x.lastError !== undefined, 10_000, 'a connection error')
        assert.equal(st.lastError!.code, SignalErrorCode.Unavailable)
        assert.ok(!st.lastError!.message.includes(SECRET), st.lastError!.message)
        assert.match(st.lastError!.message, /mqtt:\/\/\*\*\*@127\.0\.0\.1/)
        assert.ok(!JSON.stringify(st).includes(SECRET))
        assert.ok(!text().includes(SECRET), text())
      } finally {
        await s.stop()
      }
    })
  }

  it('stay out of a config error about the URL', () => {
    assert.throws(() => createMqttBacklogSignal({ service: 'a', url: `http://agent:${SECRET}@broker`, topic: 't' }), (err: unknown) => {
      assert.ok(err instanceof SignalError && err.code === SignalErrorCode.ConfigInvalid)
      assert.ok(!err.message.includes(SECRET), err.message)
      return true
    })
    assert.throws(() => createPrometheusSignal({ service: 'a', url: `http://agent:${SECRET}@prom:9090`, query: 'up' }), (err: unknown) => {
      assert.ok(err instanceof SignalError && /user info in the URL is not supported/.test(err.message), String(err))
      assert.ok(!err.message.includes(SECRET), err.message)
      return true
    })
  })

  it('stay out of a Prometheus signal\'s lastError when a library quotes the URL', async () => {
    const s = createPrometheusSignal({ service: 'a', url: 'http://127.0.0.1:1', query: 'up' }, {
      fetch: async () => { throw new TypeError(`Request cannot be constructed from a URL that includes credentials: http://u:${SECRET}@127.0.0.1:1/api/v1/query`) },
    })
    await s.queryNow()
    const st = s.status(Date.now())
    assert.ok(st.lastError !== undefined && !st.lastError.message.includes(SECRET), st.lastError?.message)
  })

  it('stay out of what --check prints', () => {
    const shown = JSON.stringify(redactSignals([{ scope: 'site', config: { kind: 'mqtt-backlog', service: 'a', url: `mqtts://agent:${SECRET}@broker:8883`, topic: 't' } } as never]))
    assert.ok(!shown.includes(SECRET), shown)
    assert.match(shown, /mqtts:\/\/\*\*\*@broker:8883/)
  })
})
