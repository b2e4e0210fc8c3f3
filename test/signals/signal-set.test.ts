// The push signal, the SignalSet behind the daemon's port, and the shared parsing rules.

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createSignal } from '../../node/signals/index.js'
import { createPushSignal } from '../../node/signals/push-signal.js'
import { SignalSet } from '../../node/signals/signal-set.js'
import { SIGNAL_DEFAULTS, SignalError, SignalErrorCode, parseFieldPath, parseNumber } from '../../node/signals/signal-source.js'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { assert.ok(err instanceof SignalError, String(err)); return err.code }
  return 'none'
}

describe('push signals and the signal set', () => {
  it('a pushed value is sampled with the age since the push, and a bad push changes nothing but the error count', () => {
    let now = 1_000
    const set = new SignalSet({ signals: [createPushSignal({ service: 'ingest' }), createPushSignal({ service: 'broker', upstream: true })] }, { clock: () => now })
    assert.deepEqual(set.sample(), { signals: [] }, 'nothing before the first push')
    set.push('ingest', 12)
    set.push('broker', 0.95, true)
    now = 4_000
    assert.deepEqual(set.sample().signals, [
      { service: 'ingest', value: 12, ageMs: 3_000, upstream: false },
      { service: 'broker', value: 0.95, ageMs: 3_000, upstream: true },
    ])
    assert.equal(code(() => set.push('ingest', Number.NaN)), SignalErrorCode.ValueInvalid)
    assert.equal(code(() => set.push('ingest', -1)), SignalErrorCode.ValueInvalid)
    assert.equal(code(() => set.push('nobody', 1)), SignalErrorCode.NotFound)
    assert.equal(code(() => set.push('broker', 1)), SignalErrorCode.NotFound, 'the upstream flag is part of the address')
    const [ingest] = set.statuses()
    assert.equal(ingest.value, 12)
    assert.equal(ingest.errorsCount, 2)
    assert.equal(ingest.lastError?.code, SignalErrorCode.ValueInvalid)
    assert.equal(set.name, 'push')
  })

  it('calls change listeners on every push, until unsubscribed', () => {
    const set = new SignalSet({ signals: [createPushSignal({ service: 'a' })] }, { clock: () => 0 })
    let calls = 0
    const off = set.onChange(() => { calls++ })
    set.push('a', 1)
    off()
    set.push('a', 2)
    assert.equal(calls, 1)
  })

  it('refuses more signals than the limit', () => {
    const many = Array.from({ length: SIGNAL_DEFAULTS.signalsMax + 1 }, (_, i) => createPushSignal({ service: `s${i}` }))
    assert.equal(code(() => new SignalSet({ signals: many }, { clock: () => 0 })), SignalErrorCode.ConfigInvalid)
  })

  it('builds each kind from a config entry', () => {
    assert.equal(createSignal({ kind: 'push', service: 'a' }).kind, 'push')
    assert.equal(createSignal({ kind: 'mqtt-backlog', service: 'a', url: 'mqtt://127.0.0.1:1', topic: 't' }).kind, 'mqtt-backlog')
    assert.equal(createSignal({ kind: 'mqtt-rate', service: 'a', url: 'mqtt://127.0.0.1:1', topic: 't/#' }).kind, 'mqtt-rate')
    assert.equal(createSignal({ kind: 'prometheus', service: 'a', url: 'http://127.0.0.1:1', query: 'up' }).kind, 'prometheus')
  })
})

describe('payload parsing', () => {
  it('reads plain numbers and JSON fields, refusing everything else with a typed error', () => {
    assert.equal(parseNumber(' 42 \n', undefined, 't'), 42)
    assert.equal(parseNumber('1e3', undefined, 't'), 1000)
    assert.equal(parseNumber('{"a":{"b":[5,{"c":"7"}]}}', parseFieldPath('$.a.b.1.c'), 't'), 7)
    assert.equal(code(() => parseNumber('', undefined, 't')), SignalErrorCode.Parse)
    assert.equal(code(() => parseNumber('12abc', undefined, 't')), SignalErrorCode.Parse)
    assert.equal(code(() => parseNumber('Infinity', undefined, 't')), SignalErrorCode.ValueInvalid)
    assert.equal(code(() => parseNumber('{"a":1}', ['b'], 't')), SignalErrorCode.Parse)
    assert.equal(code(() => parseNumber('{"a":true}', ['a'], 't')), SignalErrorCode.Parse)
    assert.equal(code(() => parseNumber('{"a":', ['a'], 't')), SignalErrorCode.Parse)
    assert.equal(code(() => parseNumber('{"__proto__":{}}', ['__proto__', 'x'], 't')), SignalErrorCode.Parse)
    assert.equal(code(() => parseFieldPath('a..b')), SignalErrorCode.ConfigInvalid)
    assert.equal(code(() => parseFieldPath(Array(SIGNAL_DEFAULTS.fieldPathSegmentsMax + 1).fill('x').join('.'))), SignalErrorCode.ConfigInvalid)
  })

  it('every error code is an E_SIGNAL_ string, and codes are unique', () => {
    const codes = Object.values(SignalErrorCode)
    assert.ok(codes.every(c => /^E_SIGNAL_[A-Z_]+$/.test(c)))
    assert.equal(new Set(codes).size, codes.length)
  })
})
