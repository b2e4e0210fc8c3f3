/**
 * One host's view of its peers, stored so that what every digest and every sweep touches lies
 * together: the liveness fields of all of a Membership's peers (when heard, when listed by a
 * digest, the disconnect hint, the state, the incarnation, the priority) in typed arrays indexed
 * by a slot, the rest of each peer (labels, capacity, replicas, samples) in its Peer object.
 *
 * Why: a member takes every digest of its site, each listing every member, and sweeps every
 * peer as often; a simulated fleet does this for every host. With each peer an object of its
 * own, those passes went from object to object through memory, and were the largest part of a
 * 1,000-host run. A Peer reads and writes its slot through accessors, so nothing outside
 * membership.ts knows the difference.
 */
import type { Capacity, ServiceCount, SignalSample } from '../../protocol/index.js'

export type PeerState = 'alive' | 'suspect' | 'dead'

/** State codes in the slab, in the order states follow each other. */
export const ALIVE = 0
export const SUSPECT = 1
export const DEAD = 2
export const STATE_NAMES: readonly PeerState[] = ['alive', 'suspect', 'dead']
const STATE_CODES: Readonly<Record<PeerState, number>> = { alive: ALIVE, suspect: SUSPECT, dead: DEAD }

/** Slots a slab starts with; it doubles when full. */
const INITIAL_SLOTS = 8

/** The liveness fields of a Membership's peers, a slot each. NaN stands for "none" (undefined). */
export class PeerSlab {
  heard: Float64Array
  listed: Float64Array
  hinted: Float64Array
  incarnation: Float64Array
  priority: Float64Array
  state: Uint8Array
  private readonly free: number[] = []
  private used = 0

  constructor (slots = INITIAL_SLOTS) {
    this.heard = new Float64Array(slots)
    this.listed = new Float64Array(slots)
    this.hinted = new Float64Array(slots)
    this.incarnation = new Float64Array(slots)
    this.priority = new Float64Array(slots)
    this.state = new Uint8Array(slots)
  }

  alloc (): number {
    const reused = this.free.pop()
    if (reused !== undefined) return reused
    if (this.used === this.heard.length) this.grow(this.heard.length * 2)
    return this.used++
  }

  release (slot: number): void {
    this.free.push(slot)
  }

  private grow (slots: number): void {
    const wider = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => { const b = make(slots); b.set(a); return b }
    this.heard = wider(this.heard, n => new Float64Array(n))
    this.listed = wider(this.listed, n => new Float64Array(n))
    this.hinted = wider(this.hinted, n => new Float64Array(n))
    this.incarnation = wider(this.incarnation, n => new Float64Array(n))
    this.priority = wider(this.priority, n => new Float64Array(n))
    this.state = wider(this.state, n => new Uint8Array(n))
  }
}

/**
 * One peer as this host knows it. Its liveness fields live in its Membership's slab; a peer
 * the membership forgot (reaped, or gone with a goodbye) is detached first: it keeps its last
 * values in a slab of its own, so whoever still holds it reads what it was.
 */
export class Peer {
  /** @internal Where the liveness fields are (membership.ts only). */
  slab: PeerSlab
  /** @internal */
  slot: number
  /** seq of the last heartbeat taken from this peer. */
  heartbeatSeq = 0
  labels: ReadonlyMap<string, string>
  capacity: Capacity
  running: readonly ServiceCount[] = []
  signals: readonly SignalSample[] = []
  addrs: readonly string[] = []
  term = 0
  leaderId = ''
  planVersion = 0
  runtimeOk = true
  /** Services the peer cannot start now (its heartbeat's unavailableServices). */
  unavailable: readonly string[] = []

  constructor (readonly hostId: string, slab: PeerSlab, labels: ReadonlyMap<string, string>, capacity: Capacity) {
    this.slab = slab
    this.slot = slab.alloc()
    this.labels = labels
    this.capacity = capacity
  }

  get incarnation (): number { return this.slab.incarnation[this.slot] }
  set incarnation (v: number) { this.slab.incarnation[this.slot] = v }

  get lastHeardMs (): number { return this.slab.heard[this.slot] }
  set lastHeardMs (v: number) { this.slab.heard[this.slot] = v }

  /** Set by a disconnect hint; cleared by the next heartbeat. */
  get hintedDownAtMs (): number | undefined { const v = this.slab.hinted[this.slot]; return Number.isNaN(v) ? undefined : v }
  set hintedDownAtMs (v: number | undefined) { this.slab.hinted[this.slot] = v ?? NaN }

  /**
   * When the last site digest that listed this peer was taken, if nothing first-hand was heard
   * from the peer since: its silence is then the age that digest reported (Membership.sweep).
   */
  get listedAtMs (): number | undefined { const v = this.slab.listed[this.slot]; return Number.isNaN(v) ? undefined : v }
  set listedAtMs (v: number | undefined) { this.slab.listed[this.slot] = v ?? NaN }

  get state (): PeerState { return STATE_NAMES[this.slab.state[this.slot]] }
  set state (v: PeerState) { this.slab.state[this.slot] = STATE_CODES[v] }

  get priority (): number { return this.slab.priority[this.slot] }
  set priority (v: number) { this.slab.priority[this.slot] = v }

  /** @internal The membership forgets this peer: its slot is given back, its values kept here. */
  detach (): void {
    const from = this.slab
    const slot = this.slot
    const own = new PeerSlab(1)
    own.alloc()
    own.heard[0] = from.heard[slot]
    own.listed[0] = from.listed[slot]
    own.hinted[0] = from.hinted[slot]
    own.incarnation[0] = from.incarnation[slot]
    own.priority[0] = from.priority[slot]
    own.state[0] = from.state[slot]
    from.release(slot)
    this.slab = own
    this.slot = 0
  }
}
