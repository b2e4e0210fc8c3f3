/**
 * fast-check arbitraries for every wire message, for the protocol tests and any other test that
 * needs valid messages.
 *
 * Every generated message passes validateMessage, encodes under PROTOCOL_LIMITS.maxEncodedBytes,
 * and comes back from encode → decode deep-equal to itself. That last promise shapes a few
 * choices, because proto3 drops default values on the wire and the decoder builds plain objects:
 * - records have Object.prototype, never fast-check's occasional null prototype;
 * - doubles are finite and never -0 (the encoder drops -0 like 0, and it decodes as 0);
 * - an absent optional sub-message (heartbeat.capacity) is a missing key, never `undefined`,
 *   since the decoder leaves the key out;
 * - uint32, int32 and uint64 fields stay in their wire ranges;
 * - strings are well-formed Unicode: a lone surrogate has no UTF-8 form, and the codec refuses it.
 *
 * Sizes are small most of the time so the suite stays fast; about one collection in ten is
 * sized up to its limit, and about one string in ten is exactly at its byte limit.
 */
import fc from 'fast-check'
import { utf8Length } from '../../protocol/codec.js'
import type {
  Body, Capacity, DigestMember, Heartbeat, HostAssignment, Message, MessageKind, Plan, ServiceCount,
  ServiceDecision, ServiceSummary, SignalSample, SiteDigest, SiteSummary, SpillOffer, SpillRequest, Vote,
  VoteRequest,
} from '../../protocol/codec.js'
import { PROTOCOL_LIMITS } from '../../protocol/limits.js'

const UINT32_MAX = 0xffff_ffff
const INT32_MIN = -0x8000_0000
const INT32_MAX = 0x7fff_ffff

/**
 * Plan hosts generated at most. PROTOCOL_LIMITS.maxAssignments (4096) hosts with 64 services
 * each cannot fit in one 64 KiB message, so the general arbitrary stays well under it; the limit
 * itself is covered by the limit tests.
 */
export const PLAN_HOSTS_GENERATED_MAX = 64

/**
 * fc.record, but never with a null prototype: the decoder builds ordinary objects and
 * deepStrictEqual compares prototypes.
 */
function plainRecord<T> (model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>
}

// ---- scalars -------------------------------------------------------------------------------

export const uint32Arb: fc.Arbitrary<number> = fc.integer({ min: 0, max: UINT32_MAX })
export const int32Arb: fc.Arbitrary<number> = fc.integer({ min: INT32_MIN, max: INT32_MAX })
/** uint64 fields are read as JS numbers, so they stay safe integers. */
export const uint64Arb: fc.Arbitrary<number> = fc.maxSafeNat()
export const replicasArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: PROTOCOL_LIMITS.maxReplicas })
/** Finite doubles; -0 becomes 0 because proto3 cannot carry it. */
export const finiteDoubleArb: fc.Arbitrary<number> =
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v))

/** A string of exactly `bytes` UTF-8 bytes, built from one repeated character plus ASCII padding. */
export function stringOfBytes (bytes: number, char = 'é'): string {
  const charBytes = utf8Length(char)
  const body = char.repeat(Math.floor(bytes / charBytes))
  return body + 'a'.repeat(bytes - utf8Length(body))
}

const atLimitStringArb = (maxBytes: number): fc.Arbitrary<string> =>
  fc.constantFrom('a', 'é', '€', '😀').map((c) => stringOfBytes(maxBytes, c))

/**
 * A string of at most `maxBytes` UTF-8 bytes: mostly short ASCII, often any Unicode code point
 * (1 to 4 bytes each, surrogate pairs included), sometimes composite graphemes, and sometimes
 * exactly at the limit.
 */
export function boundedStringArb (maxBytes: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.string({ maxLength: Math.min(maxBytes, 24) }) },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: Math.floor(maxBytes / 4) }) },
    {
      weight: 1,
      arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }).filter((s) => utf8Length(s) <= maxBytes),
    },
    { weight: 1, arbitrary: atLimitStringArb(maxBytes) },
  )
}

export const idArb: fc.Arbitrary<string> = boundedStringArb(PROTOCOL_LIMITS.maxIdBytes)

/** An array of up to `maxLength` items: mostly a few, about one time in ten up to the limit. */
export function boundedArrayArb<T> (item: fc.Arbitrary<T>, maxLength: number): fc.Arbitrary<T[]> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.array(item, { maxLength }) },
    { weight: 1, arbitrary: fc.array(item, { maxLength, size: 'max' }) },
  )
}

// ---- bodies --------------------------------------------------------------------------------

const labelEntryArb: fc.Arbitrary<[string, string]> = fc.tuple(
  boundedStringArb(PROTOCOL_LIMITS.maxLabelKeyBytes), boundedStringArb(PROTOCOL_LIMITS.maxLabelValueBytes))

const labelsArb: fc.Arbitrary<Map<string, string>> = fc.oneof(
  { weight: 9, arbitrary: fc.uniqueArray(labelEntryArb, { maxLength: PROTOCOL_LIMITS.maxLabels, selector: ([key]) => key }) },
  {
    weight: 1,
    arbitrary: fc.uniqueArray(labelEntryArb, { maxLength: PROTOCOL_LIMITS.maxLabels, size: 'max', selector: ([key]) => key }),
  },
).map((entries) => new Map(entries))

export const capacityArb: fc.Arbitrary<Capacity> =
  plainRecord({ slots: uint32Arb, cpuMillis: uint32Arb, memoryMib: uint32Arb })

export const serviceCountArb: fc.Arbitrary<ServiceCount> = plainRecord({ service: idArb, replicas: replicasArb })

export const signalSampleArb: fc.Arbitrary<SignalSample> = plainRecord({
  service: idArb,
  value: finiteDoubleArb,
  ageMs: uint32Arb,
  upstream: fc.boolean(),
})

export const heartbeatArb: fc.Arbitrary<Heartbeat> = fc.record({
  labels: labelsArb,
  // Optional: generated objects either lack the key or carry a Capacity.
  capacity: capacityArb,
  priority: int32Arb,
  running: boundedArrayArb(serviceCountArb, PROTOCOL_LIMITS.maxServices),
  signals: boundedArrayArb(signalSampleArb, PROTOCOL_LIMITS.maxSignals),
  addrs: boundedArrayArb(boundedStringArb(PROTOCOL_LIMITS.maxAddrBytes), PROTOCOL_LIMITS.maxAddrs),
  term: uint64Arb,
  leaderId: idArb,
  planVersion: uint64Arb,
  runtimeOk: fc.boolean(),
}, {
  requiredKeys: ['labels', 'priority', 'running', 'signals', 'addrs', 'term', 'leaderId', 'planVersion', 'runtimeOk'],
  noNullPrototype: true,
})

export const voteRequestArb: fc.Arbitrary<VoteRequest> = fc.record({
  term: uint64Arb,
  priority: int32Arb,
  electorate: uint32Arb,
  preVote: fc.boolean(),
  // Optional (appended at minor 1): generated objects either lack the key or carry a value.
  roundMs: uint32Arb,
}, { requiredKeys: ['term', 'priority', 'electorate', 'preVote'], noNullPrototype: true })

export const voteArb: fc.Arbitrary<Vote> = plainRecord({
  term: uint64Arb,
  candidateId: idArb,
  granted: fc.boolean(),
  preVote: fc.boolean(),
})

const serviceDecisionArb: fc.Arbitrary<ServiceDecision> =
  plainRecord({ service: idArb, desired: replicasArb, failingStatic: fc.boolean() })

const hostAssignmentArb = (serviceCount: number): fc.Arbitrary<HostAssignment> => plainRecord({
  hostId: idArb,
  replicas: fc.array(replicasArb, { minLength: serviceCount, maxLength: serviceCount }),
})

/** A plan whose every host lists one replica count per service, as validateMessage requires. */
export const planArb: fc.Arbitrary<Plan> =
  boundedArrayArb(idArb, PROTOCOL_LIMITS.maxServices).chain((services) => plainRecord({
    term: uint64Arb,
    version: uint64Arb,
    services: fc.constant(services),
    hosts: boundedArrayArb(hostAssignmentArb(services.length), PLAN_HOSTS_GENERATED_MAX),
    decisions: boundedArrayArb(serviceDecisionArb, PROTOCOL_LIMITS.maxServices),
  }))

const serviceSummaryArb: fc.Arbitrary<ServiceSummary> = plainRecord({
  service: idArb,
  desired: replicasArb,
  running: replicasArb,
  load: finiteDoubleArb,
  unplaced: replicasArb,
})

export const siteSummaryArb: fc.Arbitrary<SiteSummary> = plainRecord({
  term: uint64Arb,
  hostsAlive: uint32Arb,
  slotsTotal: uint32Arb,
  slotsFree: uint32Arb,
  services: boundedArrayArb(serviceSummaryArb, PROTOCOL_LIMITS.maxServices),
})

export const spillRequestArb: fc.Arbitrary<SpillRequest> = plainRecord({
  requestId: idArb,
  service: idArb,
  replicas: replicasArb,
  term: uint64Arb,
  toSite: idArb,
})

export const spillOfferArb: fc.Arbitrary<SpillOffer> = plainRecord({
  requestId: idArb,
  toSite: idArb,
  service: idArb,
  replicas: replicasArb,
  term: uint64Arb,
})

const digestMemberArb: fc.Arbitrary<DigestMember> = plainRecord({
  hostId: idArb,
  incarnation: uint64Arb,
  ageMs: uint32Arb,
  priority: int32Arb,
})

/** Digests of up to PLAN_HOSTS_GENERATED_MAX members (the full limit would make runs slow). */
export const siteDigestArb: fc.Arbitrary<SiteDigest> = plainRecord({
  term: uint64Arb,
  planVersion: uint64Arb,
  members: boundedArrayArb(digestMemberArb, PLAN_HOSTS_GENERATED_MAX),
  leaderAddrs: boundedArrayArb(boundedStringArb(PROTOCOL_LIMITS.maxAddrBytes), PROTOCOL_LIMITS.maxAddrs),
})

type BodyOf<K extends MessageKind> = Extract<Body, { kind: K }>

/** One body arbitrary per kind; the Record type makes a new kind fail to compile until added. */
export const bodyArbs: { [K in MessageKind]: fc.Arbitrary<BodyOf<K>> } = {
  heartbeat: heartbeatArb.map((heartbeat) => ({ kind: 'heartbeat', heartbeat })),
  voteRequest: voteRequestArb.map((voteRequest) => ({ kind: 'voteRequest', voteRequest })),
  vote: voteArb.map((vote) => ({ kind: 'vote', vote })),
  leave: fc.constant({ kind: 'leave' }),
  plan: planArb.map((plan) => ({ kind: 'plan', plan })),
  siteSummary: siteSummaryArb.map((siteSummary) => ({ kind: 'siteSummary', siteSummary })),
  spillRequest: spillRequestArb.map((spillRequest) => ({ kind: 'spillRequest', spillRequest })),
  spillOffer: spillOfferArb.map((spillOffer) => ({ kind: 'spillOffer', spillOffer })),
  siteDigest: siteDigestArb.map((siteDigest) => ({ kind: 'siteDigest', siteDigest })),
}

export const MESSAGE_KINDS = Object.keys(bodyArbs) as MessageKind[]

export const bodyArb: fc.Arbitrary<Body> = fc.oneof(...MESSAGE_KINDS.map((kind) => bodyArbs[kind] as fc.Arbitrary<Body>))

/** A valid message carrying the given body. */
export function messageWithBodyArb (body: fc.Arbitrary<Body>): fc.Arbitrary<Message> {
  return plainRecord({
    minor: uint32Arb,
    sender: idArb,
    site: idArb,
    incarnation: uint64Arb,
    seq: uint64Arb,
    sentAtMs: uint64Arb,
    body,
  })
}

/** A valid message of any kind. */
export const messageArb: fc.Arbitrary<Message> = messageWithBodyArb(bodyArb)

/** A valid message of one kind. */
export function messageOfKindArb (kind: MessageKind): fc.Arbitrary<Message> {
  return messageWithBodyArb(bodyArbs[kind] as fc.Arbitrary<Body>)
}
