/**
 * The codec's contract, by property and by example:
 * - every valid message survives encode → decode unchanged;
 * - any bytes at all decode to a valid message or throw a ProtocolError with a known code, and
 *   whatever decodes is accepted by the encoder too;
 * - every named limit is enforced on both sides, exactly at the limit;
 * - size, then version, are checked before parsing; unknown fields are skipped.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { decodeMessage, encodeMessage, PROTOCOL_MAJOR, validateMessage } from '../../protocol/codec.js'
import type { Heartbeat, Message, MessageKind, Plan, SiteSummary } from '../../protocol/codec.js'
import { ProtocolError, ProtocolErrorCode } from '../../protocol/errors.js'
import { PROTOCOL_LIMITS } from '../../protocol/limits.js'
import * as wire from '../../protocol/wire.js'
import { MESSAGE_KINDS, messageArb, messageOfKindArb, stringOfBytes } from './arbitraries.js'
import { concatBytes, field, rawFrame, rawFrameOf, toWireEnvelope, varint, WireType } from './frames.js'
import { GOLDEN_MESSAGES } from './golden-messages.js'

/** Runs per property: enough to find shallow bugs, few enough to keep the suite in seconds. */
const NUM_RUNS = 300
const KNOWN_CODES = new Set<string>(Object.values(ProtocolErrorCode))
const UNKNOWN_FIELD = 99

// ---- helpers -------------------------------------------------------------------------------

function assertRefused (fn: () => unknown, code: ProtocolErrorCode): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`)
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
    return true
  })
}

/** A copy with every -0 turned into 0: proto3 carries both as 0. */
function withoutNegativeZero<T> (value: T): T {
  if (Object.is(value, -0)) return 0 as T
  if (value instanceof Map || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(withoutNegativeZero) as T
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNegativeZero(v)])) as T
}

/**
 * What the decoder accepts the encoder must accept and carry unchanged. Re-encoding may grow a
 * message (a 1-byte invalid UTF-8 sequence becomes a 3-byte character, say), so only
 * E_PROTO_TOO_LARGE is an allowed refusal.
 */
function assertReencodes (message: Message): void {
  let bytes: Uint8Array
  try {
    bytes = encodeMessage(message)
  } catch (err) {
    assert.ok(err instanceof ProtocolError && err.code === ProtocolErrorCode.TooLarge,
      `a decoded message was refused by the encoder: ${String(err)}`)
    return
  }
  assert.deepStrictEqual(decodeMessage(bytes), withoutNegativeZero(message))
}

/** Decoding any bytes gives a valid message or a ProtocolError with a known code, nothing else. */
function assertDecodesOrRefuses (bytes: Uint8Array): void {
  let message: Message
  try {
    message = decodeMessage(bytes)
  } catch (err) {
    if (!(err instanceof ProtocolError)) {
      throw new Error(`decodeMessage threw something other than a ProtocolError: ${String(err)}`, { cause: err })
    }
    assert.ok(KNOWN_CODES.has(err.code), `unknown error code ${err.code}`)
    return
  }
  assert.equal(validateMessage(message), undefined)
  assertReencodes(message)
}

const envelope = { minor: 0, sender: 'host-a', site: 'site-1', incarnation: 1, seq: 1, sentAtMs: 0 }

function heartbeatMessage (patch: Partial<Heartbeat>): Message {
  const heartbeat: Heartbeat = {
    labels: new Map(),
    priority: 0,
    running: [],
    signals: [],
    addrs: [],
    term: 1,
    leaderId: '',
    planVersion: 0,
    runtimeOk: true,
    ...patch,
  }
  return { ...envelope, body: { kind: 'heartbeat', heartbeat } }
}

function planMessage (patch: Partial<Plan>): Message {
  return { ...envelope, body: { kind: 'plan', plan: { term: 1, version: 1, services: [], hosts: [], decisions: [], ...patch } } }
}

function siteSummaryMessage (patch: Partial<SiteSummary>): Message {
  const siteSummary: SiteSummary = { term: 1, hostsAlive: 1, slotsTotal: 4, slotsFree: 2, services: [], ...patch }
  return { ...envelope, body: { kind: 'siteSummary', siteSummary } }
}

function range (n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}

// ---- round trip ----------------------------------------------------------------------------

describe('encoding then decoding', () => {
  for (const kind of MESSAGE_KINDS) {
    test(`a ${kind} message comes back from encode then decode unchanged`, () => {
      fc.assert(fc.property(messageOfKindArb(kind), (m) => {
        assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m)
      }), { numRuns: NUM_RUNS })
    })
  }

  test('every generated message fits the size limit and passes validation', () => {
    fc.assert(fc.property(messageArb, (m) => {
      assert.equal(validateMessage(m), undefined)
      assert.ok(encodeMessage(m).length <= PROTOCOL_LIMITS.maxEncodedBytes)
    }), { numRuns: NUM_RUNS })
  })

  test('an encoding starts with the major version byte', () => {
    fc.assert(fc.property(messageArb, (m) => {
      assert.equal(encodeMessage(m)[0], PROTOCOL_MAJOR)
    }), { numRuns: 50 })
  })
})

// ---- values the wire cannot carry ------------------------------------------------------------

interface Slot { parent: Record<string, unknown>, key: string }

/** Every leaf of a type in a message (outside the labels Map), as a place to overwrite. */
function slotsOf (m: Message, type: 'number' | 'string'): Slot[] {
  const slots: Slot[] = []
  const stack: unknown[] = [m]
  while (stack.length > 0) {
    const node = stack.pop()
    if (node === null || typeof node !== 'object' || node instanceof Map) continue
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === type && !(node === m.body && key === 'kind')) slots.push({ parent: node as Record<string, unknown>, key })
      else stack.push(value)
    }
  }
  return slots
}

/**
 * Overwrites one leaf of a copy of `original` with `wild`, then checks the encoder either
 * refuses the message as invalid or over a limit, or carries it unchanged.
 */
function assertRefusedOrCarried (original: Message, type: 'number' | 'string', pick: number, wild: unknown): void {
  const m = structuredClone(original)
  const slots = slotsOf(m, type)
  if (slots.length === 0) return
  const slot = slots[pick % slots.length]
  slot.parent[slot.key] = wild
  let bytes: Uint8Array
  try {
    bytes = encodeMessage(m)
  } catch (err) {
    assert.ok(err instanceof ProtocolError, String(err))
    assert.ok(err.code === ProtocolErrorCode.Invalid || err.code === ProtocolErrorCode.Limit, err.code)
    return
  }
  assert.deepStrictEqual(decodeMessage(bytes), withoutNegativeZero(m))
}

const wildNumberArb: fc.Arbitrary<number> = fc.oneof(
  fc.double(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(-1, 0.5, -0, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53, 2 ** 64,
    PROTOCOL_LIMITS.maxReplicas + 1, NaN, Infinity, -Infinity),
)

/** Any UTF-16 code units, lone surrogates included, sometimes past every string limit. */
const wildStringArb: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
  fc.string({ unit: fc.constantFrom('a', '\ud800', '\udfff', '😀', 'é'), maxLength: 300, size: 'max' }),
)

describe('values the wire cannot carry', () => {
  test('a message with any number in any numeric field is refused, or comes back equal', () => {
    fc.assert(fc.property(messageArb, fc.nat(), wildNumberArb, (original, pick, wild) => {
      assertRefusedOrCarried(original, 'number', pick, wild)
    }), { numRuns: NUM_RUNS * 2 })
  })

  test('a message with any UTF-16 string in any string field is refused, or comes back equal', () => {
    fc.assert(fc.property(messageArb, fc.nat(), wildStringArb, (original, pick, wild) => {
      assertRefusedOrCarried(original, 'string', pick, wild)
    }), { numRuns: NUM_RUNS })
  })

  test('strings with a lone surrogate are refused by the encoder as invalid, short or long', () => {
    // Short strings would go out as invalid UTF-8, strings of 40 code units or more as U+FFFD.
    for (const sender of ['a\ud800', '\udc00', `${'a'.repeat(50)}\ud83d`]) {
      assertRefused(() => encodeMessage({ ...envelope, sender, body: { kind: 'leave' } }), ProtocolErrorCode.Invalid)
    }
    const labels = new Map([['zone', `edge\udfff`]])
    assertRefused(() => encodeMessage(heartbeatMessage({ labels })), ProtocolErrorCode.Invalid)
  })

  test('a string whose bytes decode to a lone surrogate is refused by the decoder as invalid', () => {
    // ED A0 80 is U+D800 written as if it were a character: invalid UTF-8, read back as '\ud800'.
    const frame = concatBytes(rawFrameOf({ leave: {} }), field(2, WireType.LengthDelimited, Uint8Array.of(0xed, 0xa0, 0x80)))
    assertRefused(() => decodeMessage(frame), ProtocolErrorCode.Invalid)
  })

  const refusals: Array<[string, Message]> = [
    ['a minor version past uint32', { ...envelope, minor: 2 ** 32, body: { kind: 'leave' } }],
    ['a vote request priority past int32', {
      ...envelope, body: { kind: 'voteRequest', voteRequest: { term: 1, priority: 2 ** 31, electorate: 3, preVote: false } },
    }],
    ['a fractional priority', heartbeatMessage({ priority: 1.5 })],
    ['a negative electorate', {
      ...envelope, body: { kind: 'voteRequest', voteRequest: { term: 1, priority: 0, electorate: -1, preVote: false } },
    }],
    ['a capacity past uint32', heartbeatMessage({ capacity: { slots: 2 ** 32, cpuMillis: 0, memoryMib: 0 } })],
    ['a negative signal age', heartbeatMessage({ signals: [{ service: 's', value: 1, ageMs: -1, upstream: false }] })],
    ['a NaN signal value', heartbeatMessage({ signals: [{ service: 's', value: NaN, ageMs: 0, upstream: false }] })],
    ['an infinite load', siteSummaryMessage({
      services: [{ service: 's', desired: 1, running: 1, load: Infinity, unplaced: 0 }],
    })],
    ['a site summary host count past uint32', siteSummaryMessage({ hostsAlive: 2 ** 32 })],
    ['a term past the safe integers', heartbeatMessage({ term: 2 ** 53 })],
    ['a negative sequence number', { ...envelope, seq: -1, body: { kind: 'leave' } }],
  ]
  for (const [what, message] of refusals) {
    test(`${what} is refused by the encoder as invalid rather than changed on the wire`, () => {
      assertRefused(() => encodeMessage(message), ProtocolErrorCode.Invalid)
    })
  }

  test('non-finite doubles crafted on the wire are refused by the decoder as invalid', () => {
    for (const value of [NaN, Infinity, -Infinity]) {
      const frame = rawFrame(heartbeatMessage({ signals: [{ service: 's', value, ageMs: 0, upstream: false }] }))
      assertRefused(() => decodeMessage(frame), ProtocolErrorCode.Invalid)
    }
  })

  test('a uint64 past the safe integers crafted on the wire is refused rather than rounded', () => {
    // Field 4 (incarnation) appended again, last value wins: 2^53 is past Number.MAX_SAFE_INTEGER.
    // protons-runtime's reader throws on it (E_PROTO_MALFORMED); were it to return the number,
    // validation would refuse it (E_PROTO_INVALID). Either is a refusal.
    const frame = concatBytes(rawFrameOf({ leave: {} }), field(4, WireType.Varint, varint(2 ** 53)))
    assert.throws(() => decodeMessage(frame), (err: unknown) => {
      assert.ok(err instanceof ProtocolError, String(err))
      assert.ok(err.code === ProtocolErrorCode.Malformed || err.code === ProtocolErrorCode.Invalid, err.code)
      return true
    })
    const largestSafe = concatBytes(rawFrameOf({ leave: {} }), field(4, WireType.Varint, varint(Number.MAX_SAFE_INTEGER)))
    assert.equal(decodeMessage(largestSafe).incarnation, Number.MAX_SAFE_INTEGER)
  })
})

// ---- hostile bytes -------------------------------------------------------------------------

const randomBytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 12, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 2048, size: 'max' }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 60 * 1024, maxLength: 70 * 1024 }) },
)

/** Mostly behind a correct major byte, so the parser itself gets the random bytes. */
const randomFrameArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 1, arbitrary: randomBytesArb },
  { weight: 3, arbitrary: randomBytesArb.map((b) => concatBytes(Uint8Array.of(PROTOCOL_MAJOR), b)) },
)

type Mutation =
  | { op: 'flip', at: number, mask: number }
  | { op: 'truncate', at: number }
  | { op: 'insert', at: number, bytes: Uint8Array }
  | { op: 'delete', at: number, count: number }
  | { op: 'repeat' }
  | { op: 'append', frame: Uint8Array }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('repeat' as const) }),
  fc.record({ op: fc.constant('append' as const), frame: messageArb.map(encodeMessage) }),
)

/** Positions are taken modulo the current length, so every mutation applies to any frame. */
function mutate (frame: Uint8Array, m: Mutation): Uint8Array {
  const at = frame.length === 0 ? 0 : ('at' in m ? m.at % frame.length : 0)
  switch (m.op) {
    case 'flip': {
      const out = frame.slice()
      if (out.length > 0) out[at] ^= m.mask
      return out
    }
    case 'truncate': return frame.slice(0, at)
    case 'insert': return concatBytes(frame.subarray(0, at), m.bytes, frame.subarray(at))
    case 'delete': return concatBytes(frame.subarray(0, at), frame.subarray(at + m.count))
    // Protobuf concatenation: the same fields again, or a second envelope merged into the first.
    case 'repeat': return concatBytes(frame, frame.subarray(1))
    case 'append': return concatBytes(frame, m.frame.subarray(1))
  }
}

describe('decoding hostile bytes', () => {
  test('random bytes decode to a valid message or throw a ProtocolError, nothing else', () => {
    fc.assert(fc.property(randomFrameArb, assertDecodesOrRefuses), { numRuns: NUM_RUNS })
  })

  test('mutated valid encodings decode to a valid message or throw a ProtocolError, nothing else', () => {
    const mutatedArb = fc.tuple(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }))
      .map(([m, mutations]) => mutations.reduce(mutate, encodeMessage(m)))
    fc.assert(fc.property(mutatedArb, assertDecodesOrRefuses), { numRuns: NUM_RUNS })
  })

  test('every strict prefix of a golden encoding decodes to a valid message or throws a ProtocolError', () => {
    for (const example of Object.values(GOLDEN_MESSAGES)) {
      const frame = encodeMessage(example)
      for (let end = 0; end < frame.length; end++) assertDecodesOrRefuses(frame.subarray(0, end))
    }
  })

  test('every strict prefix of any small encoding decodes to a valid message or throws a ProtocolError', () => {
    const smallFrameArb = messageArb.map(encodeMessage).filter((f) => f.length <= 2048)
    fc.assert(fc.property(smallFrameArb, (frame) => {
      for (let end = 0; end < frame.length; end++) assertDecodesOrRefuses(frame.subarray(0, end))
    }), { numRuns: 100 })
  })

  test('empty bytes are refused as malformed', () => {
    assertRefused(() => decodeMessage(new Uint8Array(0)), ProtocolErrorCode.Malformed)
  })

  test('bytes that are not an envelope are refused as malformed, with the parser error as cause', () => {
    // Field 2 (sender) claims 5 bytes of string; none follow.
    const frame = Uint8Array.of(PROTOCOL_MAJOR, 0x12, 0x05)
    assert.throws(() => decodeMessage(frame), (err: unknown) => {
      assert.ok(err instanceof ProtocolError)
      assert.equal(err.code, ProtocolErrorCode.Malformed)
      assert.ok(err.cause instanceof Error)
      return true
    })
  })

  test('deeply nested unknown groups are refused as malformed instead of overflowing the stack', () => {
    // Start-group tags for unknown field 99, nested 30 000 deep: the skipper recurses per level.
    const startGroup = field(UNKNOWN_FIELD, 3, new Uint8Array(0))
    const frame = concatBytes(Uint8Array.of(PROTOCOL_MAJOR), ...range(30_000).map(() => startGroup))
    assertRefused(() => decodeMessage(frame), ProtocolErrorCode.Malformed)
  })
})

// ---- limits --------------------------------------------------------------------------------

interface LimitCase {
  what: string
  limit: number
  /** A message otherwise valid, with `n` of the limited thing. */
  build: (n: number) => Message
}

const LIMIT_CASES: LimitCase[] = [
  {
    what: 'unavailable services on a heartbeat',
    limit: PROTOCOL_LIMITS.maxServices,
    build: (n) => heartbeatMessage({ unavailableServices: range(n).map((i) => `service-${i}`) }),
  },
  {
    what: 'labels on a heartbeat',
    limit: PROTOCOL_LIMITS.maxLabels,
    build: (n) => heartbeatMessage({ labels: new Map(range(n).map((i) => [`key-${i}`, 'v'])) }),
  },
  {
    what: 'bytes in a label key',
    limit: PROTOCOL_LIMITS.maxLabelKeyBytes,
    build: (n) => heartbeatMessage({ labels: new Map([[stringOfBytes(n, 'é'), 'v']]) }),
  },
  {
    what: 'bytes in a label value',
    limit: PROTOCOL_LIMITS.maxLabelValueBytes,
    build: (n) => heartbeatMessage({ labels: new Map([['zone', stringOfBytes(n, '€')]]) }),
  },
  {
    what: 'services running in a heartbeat',
    limit: PROTOCOL_LIMITS.maxServices,
    build: (n) => heartbeatMessage({ running: range(n).map((i) => ({ service: `s${i}`, replicas: 1 })) }),
  },
  {
    what: 'signals in a heartbeat',
    limit: PROTOCOL_LIMITS.maxSignals,
    build: (n) => heartbeatMessage({
      signals: range(n).map((i) => ({ service: `s${i}`, value: i / 4, ageMs: 10, upstream: i % 2 === 0 })),
    }),
  },
  {
    what: 'addrs in a heartbeat',
    limit: PROTOCOL_LIMITS.maxAddrs,
    build: (n) => heartbeatMessage({ addrs: range(n).map((i) => `/ip4/10.0.0.${i}/tcp/4001`) }),
  },
  {
    what: 'bytes in an addr',
    limit: PROTOCOL_LIMITS.maxAddrBytes,
    build: (n) => heartbeatMessage({ addrs: [stringOfBytes(n, 'a')] }),
  },
  {
    what: 'bytes in the sender id',
    limit: PROTOCOL_LIMITS.maxIdBytes,
    build: (n) => ({ ...heartbeatMessage({}), sender: stringOfBytes(n, '😀') }),
  },
  {
    what: 'bytes in the site name',
    limit: PROTOCOL_LIMITS.maxIdBytes,
    build: (n) => ({ ...heartbeatMessage({}), site: stringOfBytes(n, 'a') }),
  },
  {
    what: 'bytes in a vote candidate id',
    limit: PROTOCOL_LIMITS.maxIdBytes,
    build: (n) => ({
      ...envelope, body: { kind: 'vote', vote: { term: 1, candidateId: stringOfBytes(n, '€'), granted: true, preVote: false } },
    }),
  },
  {
    what: 'services in a plan',
    limit: PROTOCOL_LIMITS.maxServices,
    build: (n) => planMessage({ services: range(n).map((i) => `s${i}`) }),
  },
  {
    what: 'hosts in a plan',
    limit: PROTOCOL_LIMITS.maxAssignments,
    build: (n) => planMessage({ hosts: range(n).map((i) => ({ hostId: `h${i}`, replicas: [] })) }),
  },
  {
    what: 'decisions in a plan',
    limit: PROTOCOL_LIMITS.maxServices,
    build: (n) => planMessage({ decisions: range(n).map((i) => ({ service: `s${i}`, desired: 1, failingStatic: false })) }),
  },
  {
    what: 'services in a site summary',
    limit: PROTOCOL_LIMITS.maxServices,
    build: (n) => siteSummaryMessage({
      services: range(n).map((i) => ({ service: `s${i}`, desired: 1, running: 1, load: 0.5, unplaced: 0 })),
    }),
  },
  {
    what: 'replicas asked for in a spill request',
    limit: PROTOCOL_LIMITS.maxReplicas,
    build: (n) => ({
      ...envelope, body: { kind: 'spillRequest', spillRequest: { requestId: 'r1', service: 's', replicas: n, term: 1, toSite: 'paris' } },
    }),
  },
]

describe('limits', () => {
  for (const { what, limit, build } of LIMIT_CASES) {
    test(`a message with exactly the limit of ${limit} ${what} encodes and decodes`, () => {
      const message = build(limit)
      assert.deepStrictEqual(decodeMessage(encodeMessage(message)), message)
    })

    test(`a message with one more than ${limit} ${what} fails to encode with E_PROTO_LIMIT`, () => {
      assertRefused(() => encodeMessage(build(limit + 1)), ProtocolErrorCode.Limit)
    })

    test(`crafted bytes with one more than ${limit} ${what} fail to decode with E_PROTO_LIMIT`, () => {
      const frame = rawFrame(build(limit + 1))
      assert.ok(frame.length <= PROTOCOL_LIMITS.maxEncodedBytes, 'the crafted frame must fail on the limit, not the size')
      assertRefused(() => decodeMessage(frame), ProtocolErrorCode.Limit)
    })
  }

  test('a heartbeat\'s unavailable services (field 11) come back; an empty list reads as absent, as from an older peer', () => {
    const m = heartbeatMessage({ unavailableServices: ['ingest', 'detector'] })
    assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m)
    const empty = decodeMessage(encodeMessage(heartbeatMessage({ unavailableServices: [] })))
    assert.deepStrictEqual(empty, heartbeatMessage({}))
    assert.deepStrictEqual(encodeMessage(heartbeatMessage({ unavailableServices: [] })), encodeMessage(heartbeatMessage({})), 'nothing on the wire for none')
    assertRefused(() => encodeMessage(heartbeatMessage({ unavailableServices: ['s'.repeat(PROTOCOL_LIMITS.maxIdBytes + 1)] })), ProtocolErrorCode.Limit)
  })

  test('a plan host listing a replica count per service of another length is refused both ways as invalid', () => {
    const message = planMessage({ services: ['a', 'b'], hosts: [{ hostId: 'h1', replicas: [1] }] })
    assertRefused(() => encodeMessage(message), ProtocolErrorCode.Invalid)
    assertRefused(() => decodeMessage(rawFrame(message)), ProtocolErrorCode.Invalid)
  })
})

// ---- size and version ----------------------------------------------------------------------

describe('size and version', () => {
  test('a message within every count limit but over 64 KiB fails to encode with E_PROTO_TOO_LARGE', () => {
    const message = planMessage({ hosts: range(1000).map((i) => ({ hostId: `${'h'.repeat(100)}${i}`, replicas: [] })) })
    assert.equal(validateMessage(message), undefined)
    assertRefused(() => encodeMessage(message), ProtocolErrorCode.TooLarge)
  })

  test('bytes over 64 KiB fail to decode with E_PROTO_TOO_LARGE before any parsing', () => {
    const frame = new Uint8Array(PROTOCOL_LIMITS.maxEncodedBytes + 1)
    frame[0] = PROTOCOL_MAJOR
    assertRefused(() => decodeMessage(frame), ProtocolErrorCode.TooLarge)
    frame[0] = PROTOCOL_MAJOR + 1
    assertRefused(() => decodeMessage(frame), ProtocolErrorCode.TooLarge)
  })

  test('a frame of exactly 64 KiB is not too large', () => {
    const base = encodeMessage(GOLDEN_MESSAGES.leave)
    // Pad with one unknown length-delimited field: 2 tag bytes, 3 length bytes, then padding.
    const padding = new Uint8Array(PROTOCOL_LIMITS.maxEncodedBytes - base.length - 2 - 3)
    const frame = concatBytes(base, field(UNKNOWN_FIELD, WireType.LengthDelimited, padding))
    assert.equal(frame.length, PROTOCOL_LIMITS.maxEncodedBytes)
    assert.deepStrictEqual(decodeMessage(frame), GOLDEN_MESSAGES.leave)
  })

  test('a major version byte of 2 fails with E_PROTO_VERSION before any parsing', () => {
    const body = encodeMessage(GOLDEN_MESSAGES.vote).subarray(1)
    assertRefused(() => decodeMessage(concatBytes(Uint8Array.of(2), body)), ProtocolErrorCode.Version)
    // Bytes that would not parse as an envelope still get the version error.
    assertRefused(() => decodeMessage(Uint8Array.of(2, 0xff, 0xff, 0xff)), ProtocolErrorCode.Version)
    assertRefused(() => decodeMessage(Uint8Array.of(0, 0x6a, 0x00)), ProtocolErrorCode.Version)
  })
})

// ---- bodies ------------------------------------------------------------------------------

describe('bodies', () => {
  test('an envelope with no body fails with E_PROTO_UNKNOWN_KIND', () => {
    assertRefused(() => decodeMessage(rawFrameOf({ sender: 'host-a', site: 'site-1' })), ProtocolErrorCode.UnknownKind)
    assertRefused(() => decodeMessage(Uint8Array.of(PROTOCOL_MAJOR)), ProtocolErrorCode.UnknownKind)
  })

  test('an envelope whose only body is one this version does not know fails with E_PROTO_UNKNOWN_KIND', () => {
    // Field 19 is the next body field number a newer minor version would append.
    const frame = concatBytes(rawFrameOf({ sender: 'host-a', site: 'site-1' }), field(19, WireType.LengthDelimited, Uint8Array.of(0x08, 0x01)))
    assertRefused(() => decodeMessage(frame), ProtocolErrorCode.UnknownKind)
  })

  test('an envelope with two bodies fails with E_PROTO_INVALID', () => {
    const twoBodies = rawFrameOf({ sender: 'host-a', vote: { term: 1, candidateId: 'h', granted: true, preVote: false }, leave: {} })
    assertRefused(() => decodeMessage(twoBodies), ProtocolErrorCode.Invalid)
    const concatenated = concatBytes(encodeMessage(GOLDEN_MESSAGES.vote), encodeMessage(GOLDEN_MESSAGES.leave).subarray(1))
    assertRefused(() => decodeMessage(concatenated), ProtocolErrorCode.Invalid)
  })

  const unknownFields: Array<[string, Uint8Array]> = [
    ['varint', field(UNKNOWN_FIELD, WireType.Varint, varint(2 ** 40))],
    ['fixed64', field(UNKNOWN_FIELD, WireType.Fixed64, new Uint8Array(8).fill(0xab))],
    ['length-delimited', field(UNKNOWN_FIELD, WireType.LengthDelimited, new TextEncoder().encode('from a newer minor ✨'))],
    ['fixed32', field(UNKNOWN_FIELD, WireType.Fixed32, Uint8Array.of(1, 2, 3, 4))],
  ]

  for (const kind of Object.keys(GOLDEN_MESSAGES) as MessageKind[]) {
    test(`a ${kind} with unknown fields appended to its envelope still decodes to the same message`, () => {
      const example = GOLDEN_MESSAGES[kind]
      const frame = concatBytes(encodeMessage(example), ...unknownFields.map(([, bytes]) => bytes))
      assert.deepStrictEqual(decodeMessage(frame), example)
    })
  }

  test('an unknown field inside a body still decodes to the same message', () => {
    const example = GOLDEN_MESSAGES.heartbeat
    if (example.body.kind !== 'heartbeat') throw new Error('the heartbeat example must carry a heartbeat')
    const { heartbeat: _heartbeat, ...rest } = toWireEnvelope(example)
    const heartbeatBytes = concatBytes(
      wire.Heartbeat.encode(example.body.heartbeat),
      ...unknownFields.map(([, bytes]) => bytes),
    )
    // Envelope field 10 is the heartbeat body.
    const frame = concatBytes(rawFrameOf(rest), field(10, WireType.LengthDelimited, heartbeatBytes))
    assert.deepStrictEqual(decodeMessage(frame), example)
  })
})
