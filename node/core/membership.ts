/**
 * Membership of one site as seen by one host, from heartbeats, the leader's site digests and
 * transport hints. The leader hears every member's heartbeat; the other members hear the
 * leader's digest, which lists each member and how long ago the leader heard it
 * (docs/membership.md), plus any heartbeat a member broadcasts while it follows no leader.
 *
 * A peer is alive while heard within suspectAfterMs, suspect until deadAfterMs, then dead; a
 * dead peer is reaped (forgotten) after reapAfterMs, or at once when it said goodbye. A
 * disconnect hint from the transport makes an alive peer suspect at once, so a crashed process
 * is noticed without waiting for the timeout; its next heartbeat makes it alive again.
 * A heartbeat from a higher incarnation replaces everything known about the peer (it restarted).
 */
import type { Capacity, DigestMember, Heartbeat, SiteDigest } from '../../protocol/index.js'
import { TRUST_LIMITS, type CoreTimings } from './config.js'
import { ALIVE, DEAD, Peer, PeerSlab, STATE_NAMES, SUSPECT, type PeerState } from './peer-slab.js'

export { Peer, type PeerState } from './peer-slab.js'

export interface PeerStateChange {
  hostId: string
  from: PeerState | 'unknown'
  to: PeerState | 'reaped'
}

const NONE: readonly string[] = Object.freeze([])
const MAX_AGE_MS = 0xffffffff
const NO_CAPACITY: Capacity = Object.freeze({ slots: 0, cpuMillis: 0, memoryMib: 0 })

/**
 * What is kept of a peer that said goodbye, until it would have been reaped anyway. `holding`:
 * the peer as it was, while its replicas are still counted where they run (see left()).
 */
interface Departed { incarnation: number, lastHeardMs: number, holding: Peer | undefined, holdUntilMs: number }

/** How a sweep judges silence (Membership.sweep). */
export interface SweepOptions {
  /** Stretches suspectAfterMs and deadAfterMs for peers that speak less often than every interval. */
  silenceScale?: number
  /** When the followed leader's latest digest was taken: peers it listed are judged by the age it reported. */
  digestAtMs?: number
  /** Silence this long is forgiven first: slow deliveries (the election's delay estimate), ms. */
  allowanceMs?: number
}

export class Membership {
  private readonly peers = new Map<string, Peer>()
  /**
   * Peers that said goodbye. Gossip can deliver a heartbeat the peer sent before its goodbye
   * after it (another mesh path, or gossip's re-send of missed messages); without this, that
   * late copy would bring the peer back as alive and into the electorate.
   */
  private readonly departed = new Map<string, Departed>()
  /** The peers' liveness fields (peer-slab.ts), and the peer of each slot. */
  private readonly slab = new PeerSlab()
  private readonly bySlot: (Peer | undefined)[] = []
  /**
   * Views of `peers` kept while no peer is added or removed (changed() drops them): the peers
   * sorted by id, in insertion order (what iterating the map gives) with their slots, and the
   * id and slot of each entry of the last digest taken. A peer keeps its slot while it is in
   * the map, so these are the map's own answers, looked up once: the simulator's hosts take
   * every digest of their site, and looking each member up by id was the largest part of a
   * fleet run.
   */
  private sortedPeers: Peer[] | undefined
  private insertionPeers: Peer[] | undefined
  private insertionSlots = new Int32Array(0)
  private digestIds: (string | undefined)[] = []
  private digestSlots = new Int32Array(0)
  /** Bumped by changed(); the digest's ids and slots hold for `digestGen` only. */
  private gen = 0
  private digestGen = -1
  private lastGetId: string | undefined
  private lastGetPeer: Peer | undefined
  private lastGetGen = -1
  /** Where the sender, and this host, were in the last digest taken (−1: not listed). */
  private senderIndex = 0
  private selfIndex = 0
  /** The admitted peer's state before its message (admit). */
  private admittedFrom: PeerState | 'unknown' = 'unknown'

  constructor (private readonly timings: CoreTimings) {}

  /** A peer was added to or removed from `peers`: the views are rebuilt when next needed. */
  private changed (): void {
    this.sortedPeers = undefined
    this.insertionPeers = undefined
    this.gen++
  }

  /**
   * The peer of that id. The last answer is kept while no peer is added or removed: a host asks
   * for its leader on every input (election.ts), and a lookup in the map is a cache miss apart.
   */
  get (hostId: string): Peer | undefined {
    if (hostId === this.lastGetId && this.lastGetGen === this.gen) return this.lastGetPeer
    const peer = this.peers.get(hostId)
    this.lastGetId = hostId
    this.lastGetPeer = peer
    this.lastGetGen = this.gen
    return peer
  }

  get size (): number {
    return this.peers.size
  }

  /** Peers sorted by host id: the only order anything is chosen in. Read only: it is kept. */
  sorted (): readonly Peer[] {
    if (this.sortedPeers === undefined) this.sortedPeers = [...this.peers.values()].sort((a, b) => a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0)
    return this.sortedPeers
  }

  /** Peers in the order they were added (the map's order). Read only: it is kept. */
  values (): readonly Peer[] {
    if (this.insertionPeers === undefined) {
      this.insertionPeers = [...this.peers.values()]
      this.insertionSlots = Int32Array.from(this.insertionPeers, p => p.slot)
    }
    return this.insertionPeers
  }

  /**
   * Members remembered from before a restart. They count towards the electorate as dead
   * peers until they speak or are reaped, exactly as if they had gone silent at start.
   */
  restore (hostIds: readonly string[], nowMs: number): void {
    for (const hostId of hostIds) {
      if (this.peers.has(hostId)) continue
      const peer = this.blankPeer(hostId, 0, new Map(), nowMs - this.timings.deadAfterMs)
      peer.state = 'dead'
      this.peers.set(hostId, peer)
    }
    this.changed()
  }

  /**
   * Takes a heartbeat; returns the state change it caused, 'stale' when it was older than
   * what is known (a replay, or a reordered copy), or 'incarnation-jump' when it claims an
   * incarnation more than TRUST_LIMITS.incarnationJumpMax above the known one; both change nothing.
   */
  heartbeat (hostId: string, incarnation: number, seq: number, hb: Heartbeat, nowMs: number): PeerStateChange | 'stale' | 'incarnation-jump' | undefined {
    const peer = this.admit(hostId, incarnation, seq, hb.labels, nowMs)
    if (typeof peer === 'string') return peer
    const from = this.admittedFrom
    peer.labels = hb.labels
    peer.capacity = hb.capacity ?? NO_CAPACITY
    peer.priority = hb.priority
    peer.running = hb.running
    peer.signals = hb.signals
    peer.addrs = hb.addrs
    peer.term = hb.term
    peer.leaderId = hb.leaderId
    peer.planVersion = hb.planVersion
    peer.runtimeOk = hb.runtimeOk
    peer.unavailable = hb.unavailableServices ?? NONE
    return from === 'alive' ? undefined : { hostId, from, to: 'alive' }
  }

  /**
   * Takes a site digest as its sender's own heartbeat: it speaks for itself (alive, leading
   * `term`, its addresses and priority), exactly what its heartbeat said before digests. What
   * the digest says of the other members is taken by fromDigest, and only from a proven leader.
   */
  digestSender (hostId: string, incarnation: number, seq: number, digest: SiteDigest, nowMs: number): PeerStateChange | 'stale' | 'incarnation-jump' | undefined {
    const peer = this.admit(hostId, incarnation, seq, undefined, nowMs)
    if (typeof peer === 'string') return peer
    const from = this.admittedFrom
    peer.priority = this.senderEntry(digest.members, hostId)?.priority ?? peer.priority
    peer.addrs = digest.leaderAddrs
    peer.term = digest.term
    peer.leaderId = hostId
    peer.planVersion = digest.planVersion
    return from === 'alive' ? undefined : { hostId, from, to: 'alive' }
  }

  /** The sender's own entry in its digest: where it was in the last one, else searched for. */
  private senderEntry (members: readonly DigestMember[], hostId: string): DigestMember | undefined {
    this.senderIndex = indexIn(members, hostId, this.senderIndex)
    return members[this.senderIndex]
  }

  /**
   * A vote request or vote from a peer not known yet: it exists, at this incarnation, and is
   * heard now; what its heartbeat would say (capacity, replicas, samples) comes with its next one.
   */
  firstHeard (hostId: string, incarnation: number, seq: number, priority: number, nowMs: number): PeerStateChange | 'stale' | 'incarnation-jump' | undefined {
    const peer = this.admit(hostId, incarnation, seq, undefined, nowMs)
    if (typeof peer === 'string') return peer
    peer.priority = priority
    const from = this.admittedFrom
    return from === 'alive' ? undefined : { hostId, from, to: 'alive' }
  }

  /**
   * The replay and trust checks every first-hand message from a peer goes through; then it is
   * heard. Returns the peer, and leaves its state before in `admittedFrom` (no object to return
   * both: the leader admits every member's heartbeat).
   */
  private admit (hostId: string, incarnation: number, seq: number, labels: ReadonlyMap<string, string> | undefined, nowMs: number): Peer | 'stale' | 'incarnation-jump' {
    // get(): a follower's digests all come from the leader it asks for on every input.
    let peer = this.get(hostId)
    let from: PeerState | 'unknown' = 'unknown'
    if (peer !== undefined) {
      if (incarnation < peer.incarnation || (incarnation === peer.incarnation && seq <= peer.heartbeatSeq)) return 'stale'
      // A member restored from the state file has incarnation 0 until it speaks: anything goes.
      if (peer.incarnation > 0 && incarnation - peer.incarnation > TRUST_LIMITS.incarnationJumpMax) return 'incarnation-jump'
      from = peer.state
    } else {
      const gone = this.departed.get(hostId)
      if (gone !== undefined && incarnation <= gone.incarnation) return 'stale'
      if (gone !== undefined && incarnation - gone.incarnation > TRUST_LIMITS.incarnationJumpMax) return 'incarnation-jump'
      this.departed.delete(hostId)
      peer = this.blankPeer(hostId, incarnation, labels ?? new Map(), nowMs)
      this.peers.set(hostId, peer)
      this.changed()
    }
    peer.incarnation = incarnation
    peer.heartbeatSeq = seq
    peer.lastHeardMs = nowMs
    peer.hintedDownAtMs = undefined
    peer.listedAtMs = undefined
    peer.state = 'alive'
    this.admittedFrom = from
    return peer
  }

  private blankPeer (hostId: string, incarnation: number, labels: ReadonlyMap<string, string>, lastHeardMs: number): Peer {
    const peer = new Peer(hostId, this.slab, labels, NO_CAPACITY)
    this.bySlot[peer.slot] = peer
    peer.incarnation = incarnation
    peer.lastHeardMs = lastHeardMs
    peer.hintedDownAtMs = undefined
    peer.listedAtMs = undefined
    peer.state = 'alive'
    peer.priority = 0
    return peer
  }

  /** The peer leaves the map: its slot is given back, and whoever still holds it reads what it was. */
  private forget (peer: Peer): void {
    this.peers.delete(peer.hostId)
    this.bySlot[peer.slot] = undefined
    peer.detach()
    this.changed()
  }

  /**
   * One member as the leader this host follows lists it in its digest: the member exists, at
   * this incarnation, and was heard `ageMs` before the digest. That is this host's only news
   * of members other than the leader (they send their heartbeats to the leader alone), so
   * liveness here is the leader's, late by one digest. It never names whom the member follows:
   * backing a leader is counted only from members' own messages (election.ts). A member the
   * digest leaves out is not dropped: it ages here as a silent peer would, and is reaped after
   * reapAfterMs like one. A higher incarnation is a restart: the seq count starts again.
   */
  fromDigest (member: DigestMember, nowMs: number): PeerStateChange | undefined {
    return this.fromDigestAs(member, this.peers.get(member.hostId), nowMs)
  }

  /**
   * fromDigest for every member a digest lists but `sender` and `self`, in its order, each
   * change handed to `onChange` before the next member is taken (as one fromDigest call after
   * another would). The peers of the last digest's entries are looked up once and kept while
   * no peer is added or removed: a site's digests list the same members in the same order.
   */
  takeDigest (members: readonly DigestMember[], sender: string, self: string, nowMs: number, onChange: (change: PeerStateChange) => void): void {
    const gen = this.gen
    const valid = this.digestGen === gen
    if (this.digestSlots.length < members.length) {
      const wider = new Int32Array(members.length * 2)
      wider.set(this.digestSlots)
      this.digestSlots = wider
    }
    const ids = this.digestIds
    const slots = this.digestSlots
    const slab = this.slab
    if (!valid) ids.length = 0
    // Where the sender and this host are, found where they were in the last digest: comparing
    // every entry's id with both was a sixth of taking a digest (ids of one length and prefix).
    this.senderIndex = indexIn(members, sender, this.senderIndex)
    this.selfIndex = indexIn(members, self, this.selfIndex)
    const senderAt = this.senderIndex
    const selfAt = this.selfIndex
    // Peers this digest adds (each bumps gen); any other change meanwhile: look up again.
    let added = 0
    for (let i = 0; i < members.length; i++) {
      const member = members[i]
      const id = member.hostId
      if (i === selfAt || i === senderAt) { ids[i] = undefined; continue }
      let peer: Peer | undefined
      if (valid && this.gen === gen + added && ids[i] === id) {
        const slot = slots[i]
        // The usual case, as fromDigestAs takes it: the incarnation known, no disconnect hint.
        if (slab.incarnation[slot] === member.incarnation && Number.isNaN(slab.hinted[slot])) {
          const heardMs = nowMs - member.ageMs
          slab.priority[slot] = member.priority
          if (heardMs >= slab.heard[slot]) {
            slab.heard[slot] = heardMs
            slab.listed[slot] = nowMs
          } else if (!Number.isNaN(slab.listed[slot])) {
            slab.listed[slot] = nowMs
          }
          continue
        }
        peer = this.bySlot[slot]
      } else {
        // Listed again elsewhere (a malformed digest): this host and the sender are never peers from it.
        if (id === self || id === sender) { ids[i] = undefined; continue }
        peer = this.peers.get(id)
      }
      const change = this.fromDigestAs(member, peer, nowMs)
      const now = peer ?? this.peers.get(id)
      ids[i] = now?.hostId
      if (now !== undefined) slots[i] = now.slot
      if (peer === undefined && now !== undefined) added++
      if (change !== undefined) onChange(change)
    }
    ids.length = members.length
    this.digestGen = this.gen === gen + added ? this.gen : -1
  }

  private fromDigestAs (member: DigestMember, found: Peer | undefined, nowMs: number): PeerStateChange | undefined {
    const heardMs = nowMs - member.ageMs
    let peer = found
    if (peer === undefined) {
      const gone = this.departed.get(member.hostId)
      if (gone !== undefined && member.incarnation <= gone.incarnation) return undefined
      if (gone !== undefined && member.incarnation - gone.incarnation > TRUST_LIMITS.incarnationJumpMax) return undefined
      this.departed.delete(member.hostId)
      peer = this.blankPeer(member.hostId, member.incarnation, new Map(), heardMs)
      peer.priority = member.priority
      peer.listedAtMs = nowMs
      // A member the leader still lists counts in the electorate here too, dead or not.
      peer.state = this.stateAfter(member.ageMs, false)
      this.peers.set(member.hostId, peer)
      this.changed()
      return { hostId: member.hostId, from: 'unknown', to: peer.state }
    }
    if (member.incarnation < peer.incarnation) return undefined
    if (peer.incarnation > 0 && member.incarnation - peer.incarnation > TRUST_LIMITS.incarnationJumpMax) return undefined
    if (member.incarnation > peer.incarnation) { peer.incarnation = member.incarnation; peer.heartbeatSeq = 0 }
    peer.priority = member.priority
    if (heardMs >= peer.lastHeardMs) {
      peer.lastHeardMs = heardMs
      peer.listedAtMs = nowMs
    } else if (peer.listedAtMs !== undefined) {
      // Still known through digests only (this one came sooner after its sending than the last).
      peer.listedAtMs = nowMs
    }
    // The leader heard it after the transport's hint here: the hint was about our link only.
    if (peer.hintedDownAtMs !== undefined && heardMs > peer.hintedDownAtMs) peer.hintedDownAtMs = undefined
    return undefined
  }

  /** This site as a leader lists it in its digest: every member, how long since heard, sorted by id. */
  digestMembers (nowMs: number): DigestMember[] {
    return this.sorted().map(p => ({ hostId: p.hostId, incarnation: p.incarnation, ageMs: Math.min(MAX_AGE_MS, Math.max(0, nowMs - p.lastHeardMs)), priority: p.priority }))
  }

  /** Any other message from a peer proves it is reachable, but carries no heartbeat data. */
  heardFrom (hostId: string, incarnation: number, nowMs: number): void {
    const peer = this.peers.get(hostId)
    if (peer === undefined || incarnation !== peer.incarnation) return
    if (peer.hintedDownAtMs !== undefined) return
    peer.lastHeardMs = Math.max(peer.lastHeardMs, nowMs)
  }

  /** The transport lost its connection to the peer. */
  disconnected (hostId: string, nowMs: number): PeerStateChange | undefined {
    const peer = this.peers.get(hostId)
    if (peer === undefined || peer.state !== 'alive') return undefined
    peer.hintedDownAtMs = nowMs
    peer.state = 'suspect'
    return { hostId, from: 'alive', to: 'suspect' }
  }

  /**
   * The peer said goodbye: it leaves the electorate at once. A supervisor that stops leaves
   * its containers running, to adopt them when it restarts; so for deadAfterMs after the
   * goodbye its replicas still count where they run (holding()), as a silent peer's would
   * until it is dead. A restart within that time finds its replicas still placed on it.
   */
  left (hostId: string, incarnation: number, nowMs: number): PeerStateChange | undefined {
    const peer = this.peers.get(hostId)
    if (peer === undefined || incarnation < peer.incarnation) return undefined
    const from = peer.state
    this.forget(peer)
    peer.state = 'suspect'
    this.departed.set(hostId, { incarnation, lastHeardMs: peer.lastHeardMs, holding: peer, holdUntilMs: nowMs + this.timings.deadAfterMs })
    return { hostId, from, to: 'reaped' }
  }

  /** Peers that said goodbye less than deadAfterMs ago, as they were (state suspect), sorted by id. */
  holding (): Peer[] {
    const out: Peer[] = []
    for (const gone of this.departed.values()) if (gone.holding !== undefined) out.push(gone.holding)
    return out.sort((a, b) => a.hostId < b.hostId ? -1 : 1)
  }

  /**
   * Re-evaluates every peer's state from silence; returns the changes. `leaderLive` says
   * whether this host leads or follows a live leader: only then are dead peers reaped after
   * reapAfterMs (see CoreTimings.leaderlessReapAfterMs for why). `opts` (SweepOptions) says how
   * silence is judged: stretched for peers that speak less often than every heartbeat interval
   * (members without a leader: supervisor-core.ts, leaderlessPace), taken from the leader's
   * digest for peers only it hears, and net of slow deliveries. Reaping is never stretched.
   */
  sweep (nowMs: number, leaderLive: boolean, opts: SweepOptions = {}): PeerStateChange[] {
    const { silenceScale = 1, digestAtMs, allowanceMs = 0 } = opts
    const t = this.timings
    const reapAfterMs = leaderLive ? t.reapAfterMs : t.leaderlessReapAfterMs
    const changes: PeerStateChange[] = []
    // A goodbye is remembered as long as the silent peer would have been, so that memory is
    // bounded by the hosts that leave within reapAfterMs.
    for (const [hostId, gone] of this.departed) {
      if (nowMs >= gone.holdUntilMs) gone.holding = undefined
      if (nowMs - gone.lastHeardMs >= t.reapAfterMs) this.departed.delete(hostId)
    }
    // Over the slots in the map's order (a snapshot: the loop forgets reaped peers), reading
    // the slab: a peer's object is touched only when its state changes.
    this.values()
    const slots = this.insertionSlots
    const slab = this.slab
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]
      const heardMs = slab.heard[slot]
      const silentMs = nowMs - heardMs
      if (silentMs >= reapAfterMs) {
        const peer = this.bySlot[slot]!
        const from = STATE_NAMES[slab.state[slot]]
        this.forget(peer)
        changes.push({ hostId: peer.hostId, from, to: 'reaped' })
        continue
      }
      // A peer the leader's latest digest (taken at digestAtMs) listed, and nobody heard
      // since: its silence is the age the leader reported, not the time since the digest came.
      // A late digest on a busy host otherwise turned every member's peers suspect and back
      // between two digests (2,000 such changes a second in a 50-host site).
      const judgedMs = digestAtMs !== undefined && slab.listed[slot] === digestAtMs ? digestAtMs - heardMs : silentMs
      const next = this.stateCodeAfter(Math.max(0, judgedMs - allowanceMs) / silenceScale, !Number.isNaN(slab.hinted[slot]))
      const was = slab.state[slot]
      if (next !== was) {
        changes.push({ hostId: this.bySlot[slot]!.hostId, from: STATE_NAMES[was], to: STATE_NAMES[next] })
        slab.state[slot] = next
      }
    }
    return changes
  }

  private stateCodeAfter (silentMs: number, hintedDown: boolean): number {
    const t = this.timings
    return silentMs >= t.deadAfterMs ? DEAD : silentMs >= t.suspectAfterMs || hintedDown ? SUSPECT : ALIVE
  }

  private stateAfter (silentMs: number, hintedDown: boolean): PeerState {
    return STATE_NAMES[this.stateCodeAfter(silentMs, hintedDown)]
  }

  /** Peers heard from within the window (by their last heartbeat or message). */
  countHeardWithin (nowMs: number, windowMs: number): number {
    let n = 0
    for (const peer of this.peers.values()) {
      if (nowMs - peer.lastHeardMs < windowMs && peer.hintedDownAtMs === undefined) n++
    }
    return n
  }

  /**
   * Peers heard within the window whose latest heartbeat says they follow `leaderId` in
   * `term`: the leader's lease counts these, not merely peers heard, so a leader that a
   * majority does not follow (they never saw it win) steps down and the site elects again.
   */
  countFollowersWithin (nowMs: number, windowMs: number, term: number, leaderId: string): number {
    let n = 0
    for (const peer of this.peers.values()) {
      if (nowMs - peer.lastHeardMs >= windowMs || peer.hintedDownAtMs !== undefined) continue
      if (peer.term === term && peer.leaderId === leaderId) n++
    }
    return n
  }

  countByState (): Record<PeerState, number> {
    const counts: Record<PeerState, number> = { alive: 0, suspect: 0, dead: 0 }
    for (const peer of this.peers.values()) counts[peer.state]++
    return counts
  }
}

/** Where `hostId` is in a digest's members: at `hint` (where it was in the last one) if there, else searched for; −1 if absent. */
function indexIn (members: readonly DigestMember[], hostId: string, hint: number): number {
  if (hint >= 0 && hint < members.length && members[hint].hostId === hostId) return hint
  return members.findIndex(m => m.hostId === hostId)
}
