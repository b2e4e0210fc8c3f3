/**
 * What every received gossip message goes through before it reaches the core (gossipsub's
 * topic validator calls `check`). Decodes with protocol/ (size and version first), then refuses
 * messages on the wrong topic or for another site, replays, and senders that claim another
 * host's id. No I/O: the mesh feeds it bytes and the signed `from` peer id.
 *
 * Verdicts follow gossipsub: `reject` (invalid: not forwarded, and the propagating peer's score
 * drops), `ignore` (not delivered, not forwarded, no penalty: a message from a newer minor
 * version we cannot read, say), `accept`.
 *
 * Identity: a host id is bound to the libp2p peer id that first spoke for it. A message for that
 * host id from another peer id is refused as impersonation, unless it comes with a higher
 * incarnation after the bound peer has been quiet for rebindQuietMs (a host whose key file was
 * lost restarts with a new peer id; a live host cannot be taken over by another member). An
 * incarnation may grow by at most TRUST_LIMITS.incarnationJumpMax in one message, so nobody can
 * push a host id out of reach of the real host's next restart. When maxTrackedSenders are
 * tracked, only a sender quiet for rebindQuietMs is forgotten to make room; if none is, the
 * newcomer is ignored (counted as sender-table-full) rather than evicting a live binding, which
 * would let its host id be claimed afresh. Only holders of the network key can publish at all,
 * so this bounds what members can do, not strangers.
 */
import { decodeMessage, ProtocolError, ProtocolErrorCode, type Message } from '../../protocol/index.js'
import { TRUST_LIMITS } from '../core/config.js'
import type { Topic } from '../core/core-io.js'
import { assert } from '../core/errors.js'

/** Rejection and ignore reasons, used as a metric label: a closed set. */
export const GATE_REASONS = [
  'too-large', 'version', 'malformed', 'limit', 'invalid', 'unknown-kind',
  'wrong-topic', 'wrong-site', 'replayed', 'impersonation', 'unsigned',
  'incarnation-jump', 'sender-table-full',
] as const
export type GateReason = typeof GATE_REASONS[number]

/**
 * The topic a message came on: a shared one, or one of this host's own: `inbox`
 * (Mesh, hostInboxTopic: votes for this host only) or `digest` (hostDigestTopic: its site
 * leader's digests only).
 */
export type GateTopic = Topic | 'inbox' | 'digest'


export type GateVerdict =
  | { verdict: 'accept', message: Message }
  | { verdict: 'reject' | 'ignore', reason: GateReason }

/** Sequence numbers within this distance below the newest seen are checked one by one. */
export const REPLAY_WINDOW = 64

interface SenderState {
  incarnation: number
  peerId: string
  maxSeq: number
  /** Bit i set: seq maxSeq − i was seen. */
  window: bigint
  lastHeardMs: number
}

const PROTO_REASON: Record<ProtocolErrorCode, GateReason> = {
  E_PROTO_TOO_LARGE: 'too-large',
  E_PROTO_VERSION: 'version',
  E_PROTO_MALFORMED: 'malformed',
  E_PROTO_LIMIT: 'limit',
  E_PROTO_INVALID: 'invalid',
  E_PROTO_UNKNOWN_KIND: 'unknown-kind',
}

const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n

export interface MessageGateInit {
  site: string
  hostId: string
  ownPeerId: string
  /** Senders remembered; the least recently heard is forgotten first, once quiet for rebindQuietMs. */
  maxTrackedSenders: number
  /** A bound peer quiet this long may lose its host id to another peer (higher incarnation) or be forgotten, ms. */
  rebindQuietMs: number
}

export class MessageGate {
  private readonly senders = new Map<string, SenderState>()
  private readonly hostByPeer = new Map<string, string>()

  constructor (private readonly init: MessageGateInit) {
    assert(init.maxTrackedSenders > 0, 'maxTrackedSenders > 0')
    assert(init.rebindQuietMs >= 0, 'rebindQuietMs >= 0')
  }

  /** `nowMs`: a monotonic clock, for the quiet periods of bindings. */
  check (topic: GateTopic, fromPeerId: string | undefined, data: Uint8Array, nowMs: number): GateVerdict {
    if (fromPeerId === undefined) return { verdict: 'reject', reason: 'unsigned' }
    let message: Message
    try {
      message = decodeMessage(data)
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err
      const reason = PROTO_REASON[err.code]
      return { verdict: err.code === ProtocolErrorCode.UnknownKind ? 'ignore' : 'reject', reason }
    }
    const global = message.body.kind === 'siteSummary' || message.body.kind === 'spillRequest' || message.body.kind === 'spillOffer'
    if (global !== (topic === 'global')) return { verdict: 'reject', reason: 'wrong-topic' }
    // The leader's inbox carries members' heartbeats and nothing else; a host's own inbox, votes for it.
    if (topic === 'leader' && message.body.kind !== 'heartbeat') return { verdict: 'reject', reason: 'wrong-topic' }
    if (topic === 'inbox' && (message.body.kind !== 'vote' || message.body.vote.candidateId !== this.init.hostId)) return { verdict: 'reject', reason: 'wrong-topic' }
    if (topic === 'digest' && message.body.kind !== 'siteDigest') return { verdict: 'reject', reason: 'wrong-topic' }
    if (topic !== 'global' && message.site !== this.init.site) return { verdict: 'reject', reason: 'wrong-site' }
    if (message.sender === this.init.hostId && fromPeerId !== this.init.ownPeerId) return { verdict: 'reject', reason: 'impersonation' }
    const reason = this.checkSequence(message, fromPeerId, nowMs)
    if (reason === 'sender-table-full') return { verdict: 'ignore', reason }
    if (reason !== undefined) return { verdict: 'reject', reason }
    return { verdict: 'accept', message }
  }

  /** The host id a peer id last spoke for, if any. */
  hostOf (peerId: string): string | undefined {
    return this.hostByPeer.get(peerId)
  }

  /** The peer id a host id is bound to, if any. */
  peerOf (hostId: string): string | undefined {
    return this.senders.get(hostId)?.peerId
  }

  get trackedSenders (): number {
    return this.senders.size
  }

  private checkSequence (m: Message, peerId: string, nowMs: number): GateReason | undefined {
    const s = this.senders.get(m.sender)
    if (s === undefined) {
      if (!this.makeRoom(nowMs)) return 'sender-table-full'
      this.remember(m.sender, { incarnation: m.incarnation, peerId, maxSeq: m.seq, window: 1n, lastHeardMs: nowMs })
      return undefined
    }
    if (m.incarnation < s.incarnation) return 'replayed'
    if (s.peerId !== peerId && (m.incarnation === s.incarnation || nowMs - s.lastHeardMs < this.init.rebindQuietMs)) return 'impersonation'
    if (m.incarnation - s.incarnation > TRUST_LIMITS.incarnationJumpMax) return 'incarnation-jump'
    if (m.incarnation > s.incarnation) {
      this.remember(m.sender, { incarnation: m.incarnation, peerId, maxSeq: m.seq, window: 1n, lastHeardMs: nowMs })
      return undefined
    }
    if (m.seq > s.maxSeq) {
      const shift = m.seq - s.maxSeq
      s.window = shift >= REPLAY_WINDOW ? 1n : ((s.window << BigInt(shift)) | 1n) & WINDOW_MASK
      s.maxSeq = m.seq
    } else {
      const back = s.maxSeq - m.seq
      if (back >= REPLAY_WINDOW) return 'replayed'
      const bit = 1n << BigInt(back)
      if ((s.window & bit) !== 0n) return 'replayed'
      s.window |= bit
    }
    s.lastHeardMs = nowMs
    this.senders.delete(m.sender)
    this.senders.set(m.sender, s)
    return undefined
  }

  /** Whether a new sender fits: forgets the least recently heard one if it is quiet enough. */
  private makeRoom (nowMs: number): boolean {
    if (this.senders.size < this.init.maxTrackedSenders) return true
    const [oldest, st] = this.senders.entries().next().value as [string, SenderState]
    if (nowMs - st.lastHeardMs < this.init.rebindQuietMs) return false
    this.senders.delete(oldest)
    if (this.hostByPeer.get(st.peerId) === oldest) this.hostByPeer.delete(st.peerId)
    return true
  }

  private remember (hostId: string, state: SenderState): void {
    const old = this.senders.get(hostId)
    if (old !== undefined && this.hostByPeer.get(old.peerId) === hostId) this.hostByPeer.delete(old.peerId)
    this.senders.delete(hostId)
    this.senders.set(hostId, state)
    this.hostByPeer.set(state.peerId, hostId)
    assert(this.senders.size <= this.init.maxTrackedSenders, 'senders within maxTrackedSenders')
  }
}
