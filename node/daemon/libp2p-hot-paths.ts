/**
 * Two fixes to js-libp2p's per-message work, applied at runtime to the pinned versions
 * (@libp2p/yamux 8.0.x, @libp2p/crypto 5.x). A CPU profile of an idle supervisor in a 20-host
 * site put both on the hot path of every gossip message:
 *
 * - yamux returns receive-window credit after every data frame it reads: each gossip RPC
 *   received made the receiver write a WindowUpdate frame back, through Noise, pnet and a
 *   syscall, and the sender read it the same way. go-yamux and rust-yamux return credit once
 *   half the window is used; `sendWindowUpdate` here does the same (the SYN/ACK flags of a new
 *   stream and the window doubling of the original are kept).
 * - Ed25519 verification imports the sender's key from JWK on every call, and signing imports
 *   our own private key on every publish. Key objects are cached here: by the public key's
 *   bytes (bounded, see HOT_PATH_LIMITS), and by the private key instance.
 *
 * Each fix checks the shape it replaces first and is skipped, leaving the library as it is, if
 * the shape differs (a different version). `applyHotPathFixes` says which were applied; the
 * daemon logs it at start.
 */
import { createPrivateKey, createPublicKey, diffieHellman, sign, verify, type KeyObject } from 'node:crypto'
import type { PrivateKey } from '@libp2p/interface'
import { defaultCrypto } from '@libp2p/noise/crypto'
import { YamuxStream } from '@libp2p/yamux/stream'

export const HOT_PATH_LIMITS = {
  /** Verification keys cached (one per peer heard from); the cache is emptied when full. */
  maxCachedVerifyKeys: 4096,
  /** Remote X25519 public keys of Noise handshakes cached (noiseCrypto); emptied when full. */
  maxCachedX25519Keys: 256,
} as const

const ED25519_PUBLIC_KEY_BYTES = 32
const ED25519_SIGNATURE_BYTES = 64
/** yamux's StreamState.Paused (stream.js: Init 0 … Finished 4, Paused 5). */
const YAMUX_STATE_PAUSED = 5
const YAMUX_WINDOW_UPDATE = 1

export interface HotPathFixes {
  yamuxWindowUpdate: boolean
  ed25519KeyCache: boolean
}

let yamuxApplied: boolean | undefined
const keyProtosPatched = new WeakSet<object>()

/** Applies both fixes (idempotent). `privateKey` is this host's key: its class is patched. */
export function applyHotPathFixes (privateKey: PrivateKey): HotPathFixes {
  yamuxApplied ??= fixYamuxWindowUpdate()
  return { yamuxWindowUpdate: yamuxApplied, ed25519KeyCache: cacheEd25519Keys(privateKey) }
}

interface YamuxStreamInternals {
  state: number
  recvWindow: number
  recvWindowCapacity: number
  maxStreamWindowSize: number
  epochStart: number
  getRTT: () => number
  getSendFlags: () => number
  sendFrame: (header: { type: number, flag: number, streamID: number, length: number }) => void
  streamId: number
}

function fixYamuxWindowUpdate (): boolean {
  const proto = YamuxStream.prototype as unknown as Record<string, unknown>
  const original = proto.sendWindowUpdate
  // The shape this replaces: credit returned whenever any of the window is used.
  if (typeof original !== 'function' || !original.toString().includes('this.recvWindowCapacity >= this.recvWindow && flags === 0')) return false
  proto.sendWindowUpdate = function sendWindowUpdate (this: YamuxStreamInternals): void {
    if (this.state === YAMUX_STATE_PAUSED) {
      this.epochStart = Date.now()
      return
    }
    const flags = this.getSendFlags()
    const now = Date.now()
    const rtt = this.getRTT()
    // Half a window used within 4 round trips: the reader keeps up, so let the sender go faster.
    if (flags === 0 && rtt > -1 && (now - this.epochStart) <= rtt * 4) {
      this.recvWindow = Math.min(this.recvWindow * 2, this.maxStreamWindowSize)
    }
    if (flags === 0 && this.recvWindowCapacity > this.recvWindow / 2) return
    const delta = this.recvWindow - this.recvWindowCapacity
    this.recvWindowCapacity = this.recvWindow
    this.epochStart = now
    this.sendFrame({ type: YAMUX_WINDOW_UPDATE, flag: flags, streamID: this.streamId, length: delta })
  }
  return true
}

type Verify = (data: Uint8Array | { subarray: () => Uint8Array }, sig: Uint8Array, options?: { signal?: AbortSignal }) => boolean | Promise<boolean>
type Sign = (data: Uint8Array | { subarray: () => Uint8Array }, options?: { signal?: AbortSignal }) => Uint8Array | Promise<Uint8Array>

const verifyKeys = new Map<string, KeyObject>()
const signKeys = new WeakMap<object, KeyObject>()

function cacheEd25519Keys (privateKey: PrivateKey): boolean {
  if (privateKey.type !== 'Ed25519') return false
  const privProto = Object.getPrototypeOf(privateKey) as Record<string, unknown>
  const pubProto = Object.getPrototypeOf(privateKey.publicKey) as Record<string, unknown>
  if (keyProtosPatched.has(privProto) && keyProtosPatched.has(pubProto)) return true
  if (typeof privProto.sign !== 'function' || typeof pubProto.verify !== 'function') return false
  const originalVerify = pubProto.verify as Verify
  const originalSign = privProto.sign as Sign

  pubProto.verify = function (this: { raw: Uint8Array }, data: Parameters<Verify>[0], sig: Uint8Array, options?: { signal?: AbortSignal }): ReturnType<Verify> {
    if (this.raw?.byteLength !== ED25519_PUBLIC_KEY_BYTES || sig?.byteLength !== ED25519_SIGNATURE_BYTES) return originalVerify.call(this, data, sig, options)
    options?.signal?.throwIfAborted()
    const id = Buffer.from(this.raw.buffer, this.raw.byteOffset, this.raw.byteLength).toString('base64')
    let key = verifyKeys.get(id)
    if (key === undefined) {
      if (verifyKeys.size >= HOT_PATH_LIMITS.maxCachedVerifyKeys) verifyKeys.clear()
      key = createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(this.raw).toString('base64url') } })
      verifyKeys.set(id, key)
    }
    return verify(null, data instanceof Uint8Array ? data : data.subarray(), key, sig)
  }

  privProto.sign = function (this: { raw: Uint8Array, publicKey: { raw: Uint8Array } }, data: Parameters<Sign>[0], options?: { signal?: AbortSignal }): ReturnType<Sign> {
    if (this.raw?.byteLength !== 2 * ED25519_PUBLIC_KEY_BYTES) return originalSign.call(this, data, options)
    options?.signal?.throwIfAborted()
    let key = signKeys.get(this)
    if (key === undefined) {
      key = createPrivateKey({
        format: 'jwk',
        key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(this.raw.subarray(0, 32)).toString('base64url'), x: Buffer.from(this.raw.subarray(32)).toString('base64url') },
      })
      signKeys.set(this, key)
    }
    return sign(null, data instanceof Uint8Array ? data : data.subarray(), key)
  }
  keyProtosPatched.add(privProto)
  keyProtosPatched.add(pubProto)
  return true
}

const PKCS8_X25519_PREFIX = Buffer.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const SPKI_X25519_PREFIX = Buffer.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])
const X25519_KEY_BYTES = 32

type NoiseCrypto = typeof defaultCrypto

/**
 * @libp2p/noise's crypto with its X25519 shared-key step cached: the library imports both keys
 * from DER on every Diffie-Hellman (three per handshake on each side), and on this project's
 * machines the private key import cost ten times the exchange itself (0.37 ms against 0.04).
 * A private key is cached by the array that holds it, never by its bytes: the noise instance's
 * static key for as long as the instance, a handshake's ephemeral key (used twice) for as long
 * as the handshake holds it; nothing secret outlives its holder here. Public keys are cached
 * by their bytes (bounded). Passed to `noise({ crypto })`, a documented option: nothing is patched.
 */
export function noiseCrypto (): NoiseCrypto {
  const privateKeys = new WeakMap<Uint8Array, KeyObject>()
  const publicKeys = new Map<string, KeyObject>()
  const privateKeyOf = (raw: Uint8Array): KeyObject => {
    let key = privateKeys.get(raw)
    if (key === undefined) {
      key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, raw]), type: 'pkcs8', format: 'der' })
      privateKeys.set(raw, key)
    }
    return key
  }
  const publicKeyOf = (raw: Uint8Array): KeyObject => {
    const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')
    let key = publicKeys.get(id)
    if (key === undefined) {
      if (publicKeys.size >= HOT_PATH_LIMITS.maxCachedX25519Keys) publicKeys.clear()
      key = createPublicKey({ key: Buffer.concat([SPKI_X25519_PREFIX, raw]), type: 'spki', format: 'der' })
      publicKeys.set(id, key)
    }
    return key
  }
  return {
    ...defaultCrypto,
    generateX25519SharedKey (privateKey, publicKey) {
      // The remote key often arrives as a Uint8ArrayList slice of the handshake message: its
      // bytes are what the public key cache is keyed by anyway.
      const pub = publicKey instanceof Uint8Array ? publicKey : publicKey.subarray()
      if (!(privateKey instanceof Uint8Array) || privateKey.byteLength !== X25519_KEY_BYTES || pub.byteLength !== X25519_KEY_BYTES) return defaultCrypto.generateX25519SharedKey(privateKey, publicKey)
      return diffieHellman({ privateKey: privateKeyOf(privateKey), publicKey: publicKeyOf(pub) })
    },
  }
}
