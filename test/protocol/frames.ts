/**
 * Byte-level helpers for protocol tests: frames built with the generated encoder directly, which
 * checks no limits and no rules, so tests can craft what a hostile or newer peer might send.
 */
import { PROTOCOL_MAJOR } from '../../protocol/codec.js'
import type { Message } from '../../protocol/codec.js'
import * as wire from '../../protocol/wire.js'

/** Protobuf wire types. */
export const WireType = { Varint: 0, Fixed64: 1, LengthDelimited: 2, Fixed32: 5 } as const

export function concatBytes (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** A base-128 varint of a non-negative safe integer. */
export function varint (n: number): Uint8Array {
  const bytes: number[] = []
  let rest = n
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
  return Uint8Array.from(bytes)
}

/** One field as it appears on the wire: tag, then the payload (length-prefixed if delimited). */
export function field (fieldNumber: number, wireType: number, payload: Uint8Array): Uint8Array {
  const tag = varint(fieldNumber * 8 + wireType)
  if (wireType === WireType.LengthDelimited) return concatBytes(tag, varint(payload.length), payload)
  return concatBytes(tag, payload)
}

/** The Envelope the codec would build for a message, without any of its checks. */
export function toWireEnvelope (m: Message): wire.Envelope {
  const { body, ...fields } = m
  const env: wire.Envelope = { ...fields }
  switch (body.kind) {
    case 'heartbeat': env.heartbeat = { ...body.heartbeat, unavailableServices: body.heartbeat.unavailableServices ?? [] }; break
    case 'voteRequest': env.voteRequest = body.voteRequest; break
    case 'vote': env.vote = body.vote; break
    case 'leave': env.leave = {}; break
    case 'plan': env.plan = body.plan; break
    case 'siteSummary': env.siteSummary = body.siteSummary; break
    case 'spillRequest': env.spillRequest = body.spillRequest; break
    case 'spillOffer': env.spillOffer = body.spillOffer; break
    case 'siteDigest': env.siteDigest = body.siteDigest; break
  }
  return env
}

/** [major byte][envelope] for any envelope, valid or not. */
export function rawFrameOf (envelope: Partial<wire.Envelope>, major = PROTOCOL_MAJOR): Uint8Array {
  return concatBytes(Uint8Array.of(major), wire.Envelope.encode(envelope))
}

/** The frame encodeMessage would produce, but without validation or the size check. */
export function rawFrame (m: Message): Uint8Array {
  return rawFrameOf(toWireEnvelope(m))
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}

/** Parses hex, ignoring whitespace; throws on anything else so a corrupt golden file is loud. */
export function fromHex (text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '')
  if (!/^(?:[0-9a-f]{2})*$/i.test(digits)) throw new Error('not an even-length hex string')
  return Uint8Array.from(Buffer.from(digits, 'hex'))
}
