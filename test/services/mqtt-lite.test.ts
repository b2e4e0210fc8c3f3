// The test agent's MQTT 3.1.1 subset (agent/mqtt-lite.mjs): golden encodings from the spec's
// layouts, decoding fed whole and one byte at a time, limits, and arbitrary bytes.

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { pathToFileURL } from 'node:url'
import { REPO_ROOT } from './services.js'

// agent/ is plain JS outside the TypeScript build (it ships as-is in the agent image), so it is
// loaded at run time and given the type it has.
type Packet =
  | { type: 'connack'; sessionPresent: boolean; returnCode: number }
  | { type: 'suback'; packetId: number; returnCodes: number[] }
  | { type: 'publish'; topic: string; payload: Buffer; qos: number; retain: boolean; dup: boolean; packetId: number | undefined }
  | { type: 'pingresp' }
  | { type: 'other'; packetType: number }
interface MqttLite {
  encodeConnect(o: { clientId: string; keepAliveS: number }): Buffer
  encodeSubscribe(o: { packetId: number; topicFilter: string }): Buffer
  encodePublish(o: { topic: string; payload: Buffer | string }): Buffer
  PINGREQ: Buffer
  DISCONNECT: Buffer
  PacketReader: new (o?: { packetBytesMax?: number }) => { push(chunk: Buffer): Packet[] }
  MqttProtocolError: new (...args: never[]) => Error & { code: string }
}
const lite = (await import(pathToFileURL(`${REPO_ROOT}agent/mqtt-lite.mjs`).href)) as MqttLite

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex')

function readWhole(bytes: Buffer): Packet[] {
  return new lite.PacketReader().push(bytes)
}

function readByteByByte(bytes: Buffer): Packet[] {
  const reader = new lite.PacketReader()
  const out: Packet[] = []
  for (const b of bytes) out.push(...reader.push(Buffer.from([b])))
  return out
}

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => err instanceof lite.MqttProtocolError && err.code === code)
}

describe('mqtt-lite encoding', () => {
  it('encodes CONNECT as MQTT 3.1.1 with a clean session and the keep-alive', () => {
    assert.deepEqual(
      lite.encodeConnect({ clientId: 'a', keepAliveS: 30 }),
      hex('10 0d 0004 4d515454 04 02 001e 0001 61'),
    )
  })

  it('encodes SUBSCRIBE with flags 0b0010, the packet id and QoS 0', () => {
    assert.deepEqual(
      lite.encodeSubscribe({ packetId: 1, topicFilter: '$share/g/t' }),
      hex('82 0f 0001 000a 247368617265 2f 67 2f 74 00'),
    )
  })

  it('encodes a QoS 0 PUBLISH, PINGREQ and DISCONNECT', () => {
    assert.deepEqual(lite.encodePublish({ topic: 't', payload: 'hi' }), hex('30 05 0001 74 6869'))
    assert.deepEqual(lite.PINGREQ, hex('c0 00'))
    assert.deepEqual(lite.DISCONNECT, hex('e0 00'))
  })

  it('refuses a packet id or keep-alive out of range', () => {
    assert.throws(() => lite.encodeSubscribe({ packetId: 0, topicFilter: 't' }), RangeError)
    assert.throws(() => lite.encodeConnect({ clientId: 'a', keepAliveS: 70_000 }), RangeError)
  })
})

describe('mqtt-lite reading', () => {
  const stream = Buffer.concat([
    hex('20 02 00 00'), // CONNACK accepted
    hex('90 03 0001 00'), // SUBACK, QoS 0 granted
    lite.encodePublish({ topic: 'work', payload: 'x'.repeat(300) }), // 2-byte remaining length
    hex('32 07 0001 74 0007 6f6b'), // QoS 1 PUBLISH with packet id 7
    hex('d0 00'), // PINGRESP
  ])

  it('decodes the same packets fed whole or one byte at a time', () => {
    const whole = readWhole(stream)
    assert.deepEqual(readByteByByte(stream), whole)
    assert.deepEqual(whole.map((p) => p.type), ['connack', 'suback', 'publish', 'publish', 'pingresp'])
    assert.deepEqual(whole[0], { type: 'connack', sessionPresent: false, returnCode: 0 })
    assert.deepEqual(whole[1], { type: 'suback', packetId: 1, returnCodes: [0] })
    const big = whole[2]
    assert.ok(big.type === 'publish' && big.topic === 'work' && big.payload.length === 300 && big.qos === 0)
    const q1 = whole[3]
    assert.ok(q1.type === 'publish' && q1.qos === 1 && q1.packetId === 7 && q1.payload.toString() === 'ok')
  })

  it('keeps an incomplete packet until the rest arrives', () => {
    const reader = new lite.PacketReader()
    assert.deepEqual(reader.push(hex('30 05 0001')), [])
    assert.equal(reader.push(hex('74 6869 d0')).length, 1)
    assert.deepEqual(reader.push(hex('00')), [{ type: 'pingresp' }])
  })

  it('refuses an oversize packet from its header, before its body arrives', () => {
    const reader = new lite.PacketReader({ packetBytesMax: 1024 })
    assertCode(() => reader.push(hex('30 80 80 40')), 'E_MQTT_TOO_LARGE') // 1 MiB announced
  })

  it('refuses a remaining length longer than four bytes', () => {
    assertCode(() => readWhole(hex('30 ff ff ff ff 01')), 'E_MQTT_MALFORMED')
  })

  it('refuses malformed bodies', () => {
    assertCode(() => readWhole(hex('20 03 00 00 00')), 'E_MQTT_MALFORMED') // CONNACK of 3 bytes
    assertCode(() => readWhole(hex('30 03 0005 74')), 'E_MQTT_MALFORMED') // topic past the end
    assertCode(() => readWhole(hex('36 03 0001 74')), 'E_MQTT_MALFORMED') // QoS 3
  })

  it('turns arbitrary bytes into packets or an MqttProtocolError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 8 }), (bytes, chunkBytes) => {
        const reader = new lite.PacketReader({ packetBytesMax: 4096 })
        try {
          for (let i = 0; i < bytes.length; i += chunkBytes) {
            reader.push(Buffer.from(bytes.subarray(i, i + chunkBytes)))
          }
        } catch (err) {
          if (!(err instanceof lite.MqttProtocolError)) throw err
        }
      }),
      { numRuns: 2000 },
    )
  })
})
