import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { YamuxStream } from '@libp2p/yamux/stream'
import { defaultCrypto } from '@libp2p/noise/crypto'
import { applyHotPathFixes, noiseCrypto } from '../../node/daemon/libp2p-hot-paths.js'

const WINDOW = 256 * 1024

/** The fields sendWindowUpdate reads, on a stand-in `this` (no muxer or socket needed). */
function fakeStream (capacity: number, over: Partial<{ state: number, flags: number }> = {}): { frames: Array<{ type: number, flag: number, length: number }>, s: Record<string, unknown> } {
  const frames: Array<{ type: number, flag: number, length: number }> = []
  const s = {
    state: over.state ?? 3,
    recvWindow: WINDOW,
    recvWindowCapacity: capacity,
    maxStreamWindowSize: 16 * 1024 * 1024,
    epochStart: 0,
    getRTT: () => -1,
    getSendFlags: () => over.flags ?? 0,
    sendFrame: (f: { type: number, flag: number, length: number }) => { frames.push(f) },
    streamId: 7,
  }
  return { frames, s }
}

describe('libp2p hot-path fixes', () => {
  it('apply to the pinned versions', async () => {
    const key = await generateKeyPair('Ed25519')
    assert.deepEqual(applyHotPathFixes(key), { yamuxWindowUpdate: true, ed25519KeyCache: true })
    assert.deepEqual(applyHotPathFixes(key), { yamuxWindowUpdate: true, ed25519KeyCache: true }, 'idempotent')
  })

  it('signatures made and checked with cached keys are the same Ed25519 signatures', async () => {
    const a = await generateKeyPair('Ed25519')
    const b = await generateKeyPair('Ed25519')
    applyHotPathFixes(a)
    const data = new TextEncoder().encode('heartbeat')
    const sig = await a.sign(data)
    assert.equal(sig.byteLength, 64)
    assert.deepEqual(Buffer.from(await a.sign(data)), Buffer.from(sig), 'Ed25519 is deterministic: the cached key signs the same')
    const pubA = publicKeyFromRaw(a.publicKey.raw)
    assert.equal(await pubA.verify(data, sig), true)
    assert.equal(await pubA.verify(data, sig), true, 'again, from the cache')
    assert.equal(await pubA.verify(new TextEncoder().encode('heartbeaT'), sig), false, 'other data')
    assert.equal(await publicKeyFromRaw(b.publicKey.raw).verify(data, sig), false, 'another key (a cache entry per key)')
    const bad = Uint8Array.from(sig)
    bad[0] ^= 1
    assert.equal(await pubA.verify(data, bad), false, 'a flipped bit')
    await assert.rejects(async () => await pubA.verify(data, sig.subarray(0, 63)), TypeError, 'a short signature goes to the original check, which throws')
  })

  it('derives the same X25519 shared keys as @libp2p/noise, on both sides, with its keys cached', () => {
    const crypto = noiseCrypto()
    const a = defaultCrypto.generateX25519KeyPair()
    const b = defaultCrypto.generateX25519KeyPair()
    const expected = defaultCrypto.generateX25519SharedKey(a.privateKey, b.publicKey)
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(crypto.generateX25519SharedKey(a.privateKey, b.publicKey), expected, `a's side, use ${i + 1}`)
      assert.deepEqual(crypto.generateX25519SharedKey(b.privateKey, a.publicKey), expected, `b's side, use ${i + 1}`)
    }
    const c = defaultCrypto.generateX25519KeyPair()
    assert.notDeepEqual(crypto.generateX25519SharedKey(a.privateKey, c.publicKey), expected, 'another peer, another key')
  })

  it('yamux returns window credit once half the window is used, not after every frame', async () => {
    applyHotPathFixes(await generateKeyPair('Ed25519'))
    const send = (YamuxStream.prototype as unknown as { sendWindowUpdate: (this: unknown) => void }).sendWindowUpdate

    const small = fakeStream(WINDOW - 300)
    send.call(small.s)
    assert.equal(small.frames.length, 0, 'a 300-byte frame leaves most of the window: no update')

    const half = fakeStream(WINDOW / 2 - 1)
    send.call(half.s)
    assert.deepEqual(half.frames.map(f => [f.type, f.flag, f.length]), [[1, 0, WINDOW / 2 + 1]], 'the used half is returned in one update')
    assert.equal(half.s.recvWindowCapacity, WINDOW)

    const opening = fakeStream(WINDOW, { flags: 1 })
    send.call(opening.s)
    assert.deepEqual(opening.frames.map(f => [f.type, f.flag]), [[1, 1]], 'a new stream still sends its SYN')

    const paused = fakeStream(0, { state: 5 })
    send.call(paused.s)
    assert.equal(paused.frames.length, 0, 'a paused stream sends nothing')
  })
})
