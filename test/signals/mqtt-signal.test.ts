// MQTT signals against real Mosquitto: the shared test broker (unique topics per run) for
// readings, and a broker of this test's own, killed and restarted, for staleness and reconnects.

import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import mqtt, { type MqttClient } from 'mqtt'
import { createMqttBacklogSignal, createMqttRateSignal } from '../../node/signals/mqtt-signal.js'
import { SignalErrorCode, type ServiceSignal } from '../../node/signals/signal-source.js'
import { MQTT_URL, ensureServices, newRunId } from '../services/services.js'
import { TestBroker, freePort, waitForStatus } from './helpers.js'

const RUN = newRunId('signals-mqtt')
const BOUND_MS = 15_000

async function connect (url: string): Promise<MqttClient> {
  return await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000 })
}

describe('mqtt signals (real Mosquitto)', { timeout: 120_000 }, () => {
  let pub: MqttClient
  const signals: ServiceSignal[] = []
  const track = <S extends ServiceSignal>(s: S): S => { signals.push(s); return s }

  before(async () => {
    await ensureServices()
    pub = await connect(MQTT_URL)
  })
  after(async () => {
    for (const s of signals) await s.stop()
    await pub.endAsync()
  })

  async function subscribed (s: ServiceSignal): Promise<void> {
    await s.start()
    await waitForStatus(s, st => st.connected === true, BOUND_MS, `${s.service} subscribed`)
  }

  it('reads a backlog from plain numbers, and keeps the last good value through bad, oversize and negative payloads', async () => {
    const topic = `backlog/${RUN}/plain`
    const s = track(createMqttBacklogSignal({ service: 'ingest', url: MQTT_URL, topic, maxPayloadBytes: 64 }))
    assert.equal(s.sample(Date.now()), undefined, 'no sample before the first reading')
    await subscribed(s)
    await pub.publishAsync(topic, '42')
    const st = await waitForStatus(s, x => x.value === 42, BOUND_MS, 'value 42')
    assert.ok(st.ageMs! < 5_000)
    const sample = s.sample(Date.now() + 1_000)!
    assert.equal(sample.service, 'ingest')
    assert.equal(sample.value, 42)
    assert.equal(sample.upstream, false)
    assert.ok(sample.ageMs >= 1_000, 'the age is that of the reading')

    for (const [payload, code] of [['not a number', SignalErrorCode.Parse], ['x'.repeat(65), SignalErrorCode.TooLarge], ['-3', SignalErrorCode.ValueInvalid]] as const) {
      const before = s.status(Date.now()).errorsCount
      await pub.publishAsync(topic, payload)
      const after = await waitForStatus(s, x => x.errorsCount === before + 1, BOUND_MS, `error for ${payload.slice(0, 10)}`)
      assert.equal(after.lastError?.code, code)
      assert.equal(after.value, 42, 'the last good value stands')
    }
  })

  it('reads a JSON field, and sums the latest value of each topic under a wildcard up to maxTopics', async () => {
    const field = track(createMqttBacklogSignal({ service: 'detect', url: MQTT_URL, topic: `backlog/${RUN}/json`, field: '$.queue.depth' }))
    await subscribed(field)
    await pub.publishAsync(`backlog/${RUN}/json`, JSON.stringify({ queue: { depth: 7, other: 1 } }))
    await waitForStatus(field, x => x.value === 7, BOUND_MS, 'field value')
    await pub.publishAsync(`backlog/${RUN}/json`, JSON.stringify({ queue: { depth: '9' } }))
    await waitForStatus(field, x => x.value === 9, BOUND_MS, 'numeric string field')
    await pub.publishAsync(`backlog/${RUN}/json`, JSON.stringify({ queue: {} }))
    const missing = await waitForStatus(field, x => x.errorsCount === 1, BOUND_MS, 'missing field')
    assert.equal(missing.lastError?.code, SignalErrorCode.Parse)

    const sum = track(createMqttBacklogSignal({ service: 'sum', url: MQTT_URL, topic: `backlog/${RUN}/parts/+`, maxTopics: 2 }))
    await subscribed(sum)
    await pub.publishAsync(`backlog/${RUN}/parts/a`, '3')
    await pub.publishAsync(`backlog/${RUN}/parts/b`, '4')
    await waitForStatus(sum, x => x.value === 7, BOUND_MS, 'sum of two topics')
    await pub.publishAsync(`backlog/${RUN}/parts/a`, '10')
    await waitForStatus(sum, x => x.value === 14, BOUND_MS, 'latest per topic')
    await pub.publishAsync(`backlog/${RUN}/parts/c`, '100')
    const limited = await waitForStatus(sum, x => x.errorsCount === 1, BOUND_MS, 'third topic refused')
    assert.equal(limited.lastError?.code, SignalErrorCode.Limit)
    assert.equal(limited.value, 14)
    // An empty (retained-clearing) payload removes its topic from the sum.
    await pub.publishAsync(`backlog/${RUN}/parts/b`, '')
    await waitForStatus(sum, x => x.value === 10, BOUND_MS, 'topic removed')
  })

  it('measures the rate of messages over a sliding window', async () => {
    const T0 = 1_000_000_000
    let now = T0
    const clock = (): number => now
    const topic = `rate/${RUN}`
    const s = track(createMqttRateSignal({ service: 'rate', url: MQTT_URL, topic, windowMs: 10_000, buckets: 10 }, { clock }))
    await s.start()
    await waitForStatus(s, x => x.connected === true, BOUND_MS, 'subscribed', clock)
    assert.equal(s.sample(now)?.value, 0, 'a live subscription with no messages: rate 0, current')
    // One message per 1 s bucket, each announced by the bucket's change event.
    for (let i = 0; i < 5; i++) {
      now = T0 + i * 1_000 + 1
      const changed = new Promise<void>((resolve) => { const off = s.onChange(() => { off(); resolve() }) })
      await pub.publishAsync(topic, 'x')
      await changed
    }
    const at5 = s.sample(T0 + 5_000)!
    assert.equal(at5.value, 1, 'five messages in five seconds')
    assert.equal(at5.ageMs, 0)
    const slid = s.sample(T0 + 13_500)!
    assert.ok(Math.abs(slid.value - 1 / 9.5) < 1e-9, `only the last message is still in the window: ${slid.value}`)
  })

  it('goes stale when the broker dies (value kept, age growing, error counted), and reconnects when it is back', async () => {
    const broker = new TestBroker(await freePort())
    await broker.start()
    try {
      const topic = `stale/${RUN}`
      const backlog = track(createMqttBacklogSignal({ service: 'stale', url: broker.url, topic, reconnectMs: 100, connectTimeoutMs: 1_000 }))
      const rate = track(createMqttRateSignal({ service: 'stale-rate', url: broker.url, topic, reconnectMs: 100, connectTimeoutMs: 1_000 }))
      await subscribed(backlog)
      await subscribed(rate)
      const local = await connect(broker.url)
      await local.publishAsync(topic, '42')
      await waitForStatus(backlog, x => x.value === 42, BOUND_MS, 'first value')
      local.end(true)

      await broker.stop()
      const down = await waitForStatus(backlog, x => x.connected === false, BOUND_MS, 'disconnect seen')
      assert.equal(down.lastError?.code, SignalErrorCode.Unavailable)
      await waitForStatus(rate, x => x.connected === false, BOUND_MS, 'rate disconnect seen')
      const later = Date.now() + 10_000
      const stale = backlog.sample(later)!
      assert.equal(stale.value, 42, 'the last value is kept')
      assert.ok(stale.ageMs >= 10_000, 'and ages')
      assert.ok(rate.sample(later)!.ageMs >= 9_000, 'a rate stops being current when the connection goes')

      await broker.start()
      await waitForStatus(backlog, x => x.connected === true, BOUND_MS, 'reconnected')
      await waitForStatus(rate, x => x.connected === true, BOUND_MS, 'rate reconnected')
      const again = await connect(broker.url)
      await again.publishAsync(topic, '43')
      const fresh = await waitForStatus(backlog, x => x.value === 43, BOUND_MS, 'fresh value after reconnect')
      assert.ok(fresh.ageMs! < 5_000)
      assert.equal(rate.sample(Date.now())!.ageMs, 0)
      await again.endAsync()
    } finally {
      await broker.dispose()
    }
  })

  it('refuses a bad configuration naming every problem', () => {
    assert.throws(() => createMqttBacklogSignal({ service: '', url: 'http://x', topic: 'a/#/b', field: 'a..b', maxTopics: -1 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, SignalErrorCode.ConfigInvalid)
      for (const word of ['service', 'scheme', 'topic', 'field path', 'maxTopics']) assert.match(err.message, new RegExp(word))
      return true
    })
  })
})
