/**
 * Seeded mutation fuzzing of the wire decoder. Valid encodings (the golden messages and
 * messages drawn from the fast-check arbitraries with the run's seed) are mutated: bit flips,
 * byte overwrites, truncations, insertions, deletions, duplicated spans, splices of two
 * messages, a new version byte, padding to the size limit, and corrupted protobuf length and
 * varint fields (found by walking the encoding's structure). The invariant, for every case:
 * - `decodeMessage` returns a message that `validateMessage` accepts, or throws a
 *   `ProtocolError` with a known code; nothing else;
 * - a message it returns encodes again (or is refused as too large: re-encoding can grow a
 *   message) and decodes to the same message.
 *
 * One seed decides every case; a case is replayed from the seed and its index. Pure: no I/O,
 * no clock unless a time budget is given.
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { decodeMessage, encodeMessage, validateMessage, type Message } from '../../protocol/codec.js'
import { ProtocolError, ProtocolErrorCode } from '../../protocol/errors.js'
import { PROTOCOL_LIMITS } from '../../protocol/limits.js'
import { Rng } from '../../node/core/rng.js'
import { messageArb } from '../protocol/arbitraries.js'
import { GOLDEN_MESSAGES } from '../protocol/golden-messages.js'

export interface ProtocolFuzzOptions {
  seed: number
  /** Cases to run at most. */
  cases: number
  /** Stop early after this long (ms); undefined: run every case. */
  timeBudgetMs?: number
  /** Valid messages drawn from the arbitraries as the corpus (plus the golden ones). */
  corpusSize?: number
}

export interface ProtocolFuzzFailure {
  seed: number
  caseIndex: number
  mutations: string[]
  /** The input, hex, cut to 256 bytes. */
  hex: string
  error: string
}

export interface ProtocolFuzzResult {
  seed: number
  cases: number
  /** Cases that decoded to a message (and re-encoded). */
  decoded: number
  /** Refusals by ProtocolError code. */
  refused: Record<string, number>
  failures: ProtocolFuzzFailure[]
  elapsedMs: number
}

/** Failures kept in the result; more are counted in `failures.length` only up to this. */
const FAILURES_KEPT_MAX = 20
const KNOWN_CODES = new Set<string>(Object.values(ProtocolErrorCode))
/** Share of cases padded to the size limit. */
const OVERSIZE_RATE = 0.02
const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12]
const INTERESTING_LENGTHS = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0xffff, 0x10000, 0x7fffffff, 0xffffffff, 2 ** 53 - 1]

export function protocolCorpus (seed: number, size: number): Uint8Array[] {
  const drawn = fc.sample(messageArb, { seed, numRuns: size })
  return [...Object.values(GOLDEN_MESSAGES), ...drawn].map(m => encodeMessage(m))
}

export function fuzzProtocol (opts: ProtocolFuzzOptions): ProtocolFuzzResult {
  const started = Date.now()
  const corpus = protocolCorpus(opts.seed, opts.corpusSize ?? 64)
  const result: ProtocolFuzzResult = { seed: opts.seed, cases: 0, decoded: 0, refused: {}, failures: [], elapsedMs: 0 }
  for (let i = 0; i < opts.cases; i++) {
    if (opts.timeBudgetMs !== undefined && (i & 63) === 0 && Date.now() - started > opts.timeBudgetMs) break
    const { bytes, mutations } = fuzzCase(opts.seed, i, corpus)
    const outcome = checkCase(bytes)
    result.cases++
    if (outcome.kind === 'decoded') result.decoded++
    else if (outcome.kind === 'refused') result.refused[outcome.code] = (result.refused[outcome.code] ?? 0) + 1
    else if (result.failures.length < FAILURES_KEPT_MAX) {
      result.failures.push({ seed: opts.seed, caseIndex: i, mutations, hex: Buffer.from(bytes.subarray(0, 256)).toString('hex'), error: outcome.error })
    }
  }
  result.elapsedMs = Date.now() - started
  return result
}

/** The bytes of case `index` of a run: replayable from (seed, index) alone. */
export function fuzzCase (seed: number, index: number, corpus: readonly Uint8Array[]): { bytes: Uint8Array, mutations: string[] } {
  const rng = new Rng(seed).fork(index)
  let bytes = corpus[rng.int(corpus.length)]
  const mutations: string[] = []
  const rounds = 1 + rng.int(4)
  for (let r = 0; r < rounds; r++) {
    const m = MUTATIONS[rng.int(MUTATIONS.length)]
    bytes = m.apply(bytes, rng, corpus)
    mutations.push(m.name)
  }
  // Padding to just under, at or just past the size limit, which is checked before parsing;
  // last and rare, since mutating 64 KiB inputs would slow every other case.
  if (rng.next() < OVERSIZE_RATE) {
    bytes = concat(bytes, new Uint8Array(Math.max(0, PROTOCOL_LIMITS.maxEncodedBytes - bytes.length + rng.int(3) - 1)))
    mutations.push('oversize')
  }
  return { bytes, mutations }
}

type Outcome = { kind: 'decoded' } | { kind: 'refused', code: string } | { kind: 'failure', error: string }

export function checkCase (bytes: Uint8Array): Outcome {
  let message: Message
  try {
    message = decodeMessage(bytes)
  } catch (err) {
    if (!(err instanceof ProtocolError)) return { kind: 'failure', error: `decode threw ${describe(err)}` }
    if (!KNOWN_CODES.has(err.code)) return { kind: 'failure', error: `unknown code ${err.code}` }
    return { kind: 'refused', code: err.code }
  }
  const problem = validateMessage(message)
  if (problem !== undefined) return { kind: 'failure', error: `decoded an invalid message: ${problem.message}` }
  let again: Uint8Array
  try {
    again = encodeMessage(message)
  } catch (err) {
    if (err instanceof ProtocolError && err.code === ProtocolErrorCode.TooLarge) return { kind: 'decoded' }
    return { kind: 'failure', error: `a decoded message does not encode: ${describe(err)}` }
  }
  let back: Message
  try {
    back = decodeMessage(again)
  } catch (err) {
    return { kind: 'failure', error: `a re-encoded message does not decode: ${describe(err)}` }
  }
  if (!isDeepStrictEqual(back, withoutNegativeZero(message))) return { kind: 'failure', error: 'decode(encode(decode(bytes))) differs from decode(bytes)' }
  return { kind: 'decoded' }
}

function describe (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/** proto3 carries -0 as 0. */
function withoutNegativeZero<T> (value: T): T {
  if (Object.is(value, -0)) return 0 as T
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, withoutNegativeZero(v)])) as T
  if (Array.isArray(value)) return value.map(withoutNegativeZero) as T
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)])) as T
}

// ---- mutations ----------------------------------------------------------------------------

interface Mutation { name: string, apply: (b: Uint8Array, rng: Rng, corpus: readonly Uint8Array[]) => Uint8Array }

function concat (...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts))
}

function randomBytes (rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.next() < 0.3 ? INTERESTING_BYTES[rng.int(INTERESTING_BYTES.length)] : rng.int(256)
  return out
}

function varint (n: number): Uint8Array {
  const bytes: number[] = []
  let rest = n
  while (rest >= 0x80) { bytes.push((rest % 0x80) | 0x80); rest = Math.floor(rest / 0x80) }
  bytes.push(rest)
  return Uint8Array.from(bytes)
}

interface Varint { at: number, size: number, value: number, isLength: boolean }

/**
 * Varints of a protobuf encoding (tags excluded): the values of varint fields and the lengths
 * of delimited ones, descending into delimited fields that parse as messages. Stops quietly at
 * the first thing that does not parse (a mutated input).
 */
export function findVarints (b: Uint8Array, from: number, to: number, depth = 0, out: Varint[] = []): Varint[] {
  let at = from
  while (at < to) {
    const tag = readVarint(b, at, to)
    if (tag === undefined) return out
    at += tag.size
    const wireType = tag.value % 8
    if (wireType === 0) {
      const v = readVarint(b, at, to)
      if (v === undefined) return out
      out.push({ at, size: v.size, value: v.value, isLength: false })
      at += v.size
    } else if (wireType === 2) {
      const len = readVarint(b, at, to)
      if (len === undefined || at + len.size + len.value > to) return out
      out.push({ at, size: len.size, value: len.value, isLength: true })
      at += len.size
      if (depth < 6) findVarints(b, at, at + len.value, depth + 1, out)
      at += len.value
    } else if (wireType === 1) at += 8
    else if (wireType === 5) at += 4
    else return out
  }
  return out
}

function readVarint (b: Uint8Array, at: number, to: number): { value: number, size: number } | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < 10 && at + i < to; i++) {
    value += (b[at + i] & 0x7f) * scale
    scale *= 128
    if ((b[at + i] & 0x80) === 0) return { value, size: i + 1 }
  }
  return undefined
}

const MUTATIONS: Mutation[] = [
  {
    name: 'bit-flip',
    apply: (b, rng) => {
      const out = Uint8Array.from(b)
      const n = 1 + rng.int(8)
      for (let i = 0; i < n && out.length > 0; i++) out[rng.int(out.length)] ^= 1 << rng.int(8)
      return out
    },
  },
  {
    name: 'byte-set',
    apply: (b, rng) => {
      if (b.length === 0) return b
      const out = Uint8Array.from(b)
      out[rng.int(out.length)] = rng.next() < 0.5 ? INTERESTING_BYTES[rng.int(INTERESTING_BYTES.length)] : rng.int(256)
      return out
    },
  },
  { name: 'truncate', apply: (b, rng) => b.subarray(0, rng.int(b.length + 1)) },
  {
    name: 'insert',
    apply: (b, rng) => {
      const at = rng.int(b.length + 1)
      return concat(b.subarray(0, at), randomBytes(rng, 1 + rng.int(16)), b.subarray(at))
    },
  },
  {
    name: 'delete',
    apply: (b, rng) => {
      const at = rng.int(b.length + 1)
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(16))))
    },
  },
  {
    name: 'duplicate',
    apply: (b, rng) => {
      const at = rng.int(b.length + 1)
      const end = Math.min(b.length, at + 1 + rng.int(64))
      return concat(b.subarray(0, end), b.subarray(at, end), b.subarray(end))
    },
  },
  {
    name: 'splice',
    apply: (b, rng, corpus) => {
      const other = corpus[rng.int(corpus.length)]
      return concat(b.subarray(0, rng.int(b.length + 1)), other.subarray(rng.int(other.length + 1)))
    },
  },
  {
    name: 'version',
    apply: (b, rng) => {
      if (b.length === 0) return b
      const out = Uint8Array.from(b)
      out[0] = rng.next() < 0.5 ? rng.int(4) : rng.int(256)
      return out
    },
  },
  {
    name: 'length-field',
    apply: (b, rng) => corruptVarint(b, rng, true),
  },
  {
    name: 'varint-field',
    apply: (b, rng) => corruptVarint(b, rng, false),
  },
  {
    name: 'append-field',
    apply: (b, rng) => {
      // An unknown or repeated field at the end: a newer minor, or a peer repeating a field.
      const fieldNo = rng.next() < 0.5 ? 1 + rng.int(20) : 1 + rng.int(536_870_911)
      const wireType = [0, 1, 2, 5][rng.int(4)]
      const payload = wireType === 0 ? varint(rng.int(2 ** 31)) : wireType === 1 ? randomBytes(rng, 8) : wireType === 5 ? randomBytes(rng, 4) : (() => { const p = randomBytes(rng, rng.int(32)); return concat(varint(p.length), p) })()
      return concat(b, varint(fieldNo * 8 + wireType), payload)
    },
  },
]

/** Replaces one length (or varint value) with another, possibly of a different size. */
function corruptVarint (b: Uint8Array, rng: Rng, lengths: boolean): Uint8Array {
  const found = findVarints(b, 1, b.length).filter(v => v.isLength === lengths)
  if (found.length === 0) return b
  const v = found[rng.int(found.length)]
  const pick = rng.next()
  const value = pick < 0.4
    ? Math.max(0, v.value + rng.int(5) - 2)
    : pick < 0.8
      ? INTERESTING_LENGTHS[rng.int(INTERESTING_LENGTHS.length)]
      : rng.int(2 ** 32)
  let encoded = varint(value)
  // Now and then an over-long encoding of the same value (10 bytes, non-minimal).
  if (rng.next() < 0.1) encoded = overlong(encoded)
  return concat(b.subarray(0, v.at), encoded, b.subarray(v.at + v.size))
}

/** The same value as a 10-byte varint: continuation bits on padding bytes, a zero byte last. */
function overlong (minimal: Uint8Array): Uint8Array {
  const out = Array.from(minimal)
  out[out.length - 1] |= 0x80
  while (out.length < 9) out.push(0x80)
  out.push(0x00)
  return Uint8Array.from(out)
}
