/**
 * gossipsub over the daemon's connections, modelled closely enough to matter for the
 * supervisors, and cheaply enough for 10,000 hosts. The parameters are the daemon's own
 * (protocol/gossip-defaults.ts) unless the scenario's `gossip` block overrides them.
 *
 * Modelled:
 * - Connections, as the daemon's re-dial loop (node/daemon/mesh.ts, `redial`) makes them: a
 *   host dials while it has fewer than `targetPeers` open connections in either direction,
 *   the leader it follows first and whatever its count (`pinned`), then the site's bootstrap
 *   host (its first, as every host of a site seeded from one address has it), then the site's
 *   other hosts in an order of its own (the daemon ranks them by a hash of both peer ids; here
 *   a shuffle drawn per host from the seeded gossip stream, so the graph is random-like and the
 *   same on every run). Nobody dials a host that holds `maxConnections` already (libp2p's
 *   connection manager would prune it). A host knows its peers only through its connections:
 *   every gossip copy crosses one.
 * - The dial loop runs at each gossipsub heartbeat (1 s) after the membership changed (a host
 *   started or stopped, a partition formed or healed, a new leader to pin): it first drops
 *   connections to hosts that stopped or that a partition cut off. A supervisor that is killed
 *   loses its connections at once (the OS closes them; its peers get a disconnect hint); a
 *   machine that crashes keeps them until the next dial loop (the daemon notices later still,
 *   at the ping timeout).
 * - One mesh per site topic, of degree D between D_lo and D_hi, over connections only: a host
 *   grafts random connected peers while below D_lo (up to D) and prunes random peers above
 *   D_hi (down to D), as gossipsub's heartbeat does.
 * - Flood publishing (`floodPublish`, the daemon's setting): the publisher sends its own
 *   message to every connected peer subscribed to the topic, not only its mesh peers; every
 *   other host forwards it to its mesh peers. A message reaches a host over the shortest such
 *   path, each hop costing the site's link latency (median + uniform jitter). A receiver at h
 *   hops misses the eager copy only when the last hop from every neighbour at h − 1 hops is lost
 *   (probability loss^k for k such neighbours: the mesh's redundant paths).
 * - Lazy repair: a host that missed the eager copy, or that no path reaches (the mesh is broken
 *   between a fault and the next heartbeat), but that has a connection, gets it through
 *   IHAVE/IWANT: it waits for the next gossip emission (uniform within one heartbeat), then
 *   IHAVE, IWANT and the message each cross a hop (each may be lost); it retries on later
 *   heartbeats while the message is in the gossip window (3 heartbeats), after which the message
 *   is lost for that host. A host with no connection at all gets nothing, and nobody gets what a
 *   host with no connection publishes (a supervisor that has just started, before its dials).
 * - gossipsub de-duplicates by message id, so the core sees each message at most once: so does
 *   the simulated core.
 * - Bytes: the encoded size (protocol/ codec) times the transmissions eager push makes: the
 *   publisher's copies (one per connected subscriber under flood publish), then every reached
 *   host forwards to each mesh peer except the one it got the message from.
 *
 * Not modelled: peer scoring and graylisting, peer exchange (a host is taken to know every
 * member of its site), prune backoff, IDONTWANT, IHAVE/IWANT bytes, opportunistic grafting,
 * bandwidth limits, per-connection ordering, the time a dial takes. The CPU a host spends on a
 * message it receives is simulation.ts's (a per-host queue).
 */
import type { Rng } from '../node/core/rng.js'

export interface MeshParams {
  D: number
  Dlo: number
  Dhi: number
  floodPublish: boolean
  targetPeers: number
  maxConnections: number
}

/** How a publish from one source spreads over the connections and the mesh as they stand. */
export interface Route {
  /** Local indices reached by eager push, by hop count. */
  order: Int32Array
  hops: Uint8Array
  /** For each reached node: neighbours one hop closer to the source that send it the message (the redundant last hops). */
  parents: Uint8Array
  /**
   * Those neighbours, as positions in `order`: node i's are parentList[parentStart[i] ..
   * parentStart[i + 1]) (none for the publisher's first hop). A relay forwards a message only
   * once it has read and validated it, so a later hop leaves when its first parent is done.
   */
  parentStart: Int32Array
  parentList: Int32Array
  /**
   * For each reached node: the copies it receives beyond the first, expected (duplicateCopies):
   * gossipsub drops them by message id, but each is still read, decrypted and decoded.
   */
  duplicates: Float32Array
  /** Nodes up and connected to the source's side that no path reaches: repair only. */
  unreached: Int32Array
  /** Nodes up and on the source's side of any partition that miss it: they have no connection, or the source has none. */
  isolated: number
  /** Per local index: i + 1 for order[i], −(j + 1) for unreached[j], 0 otherwise (the source, or missed). */
  at: Int32Array
  /** Eager transmissions of one publish (for the bytes figure). */
  transmissions: number
}

/**
 * `usable(local)` says whether the node runs; `linked(a, b)` whether two nodes can talk.
 * Both are the simulation's, read at the time of the call.
 */
export class SiteMesh {
  /** Open connections, both directions (symmetric). */
  private readonly conn: number[][]
  /** gossipsub mesh links (symmetric, a subset of conn). */
  private readonly adj: number[][]
  /** Per node: the seed of its dial order (drawn once, so the order is the same on every dial loop). */
  private readonly dialSeed: Int32Array
  /** Nodes that had a connection after the last change (a 0 → some change is the core's 'reachable'). */
  private readonly wasConnected: Uint8Array
  private readonly scratchOrder: Int32Array
  private newEnds: number[] = []
  private routes: (Route | undefined)[]
  /** The site's leader, which every host dials whatever its count (−1: none yet). */
  pinned = -1
  /** Bumped on every change of mesh or reachability; routes are cached per version. */
  version = 0
  dirty = false

  constructor (
    readonly size: number,
    private readonly params: MeshParams,
    private readonly rng: Rng,
    private readonly usable: (local: number) => boolean,
    private readonly linked: (a: number, b: number) => boolean,
  ) {
    if (!(params.Dlo <= params.D && params.D <= params.Dhi)) throw new Error('mesh params: Dlo ≤ D ≤ Dhi')
    if (!(params.targetPeers >= 1 && params.maxConnections >= 1)) throw new Error('mesh params: targetPeers and maxConnections ≥ 1')
    this.conn = Array.from({ length: size }, () => [])
    this.adj = Array.from({ length: size }, () => [])
    this.dialSeed = new Int32Array(size)
    for (let u = 0; u < size; u++) this.dialSeed[u] = rng.int(2 ** 31)
    this.wasConnected = new Uint8Array(size)
    this.scratchOrder = new Int32Array(size)
    this.routes = new Array(size)
  }

  /** The connections and the mesh as the first dial loop and gossipsub's join make them; returns the nodes that became reachable. */
  build (): number[] {
    return this.maintain()
  }

  /** Something changed that routes depend on (a node up or down, a partition). */
  invalidate (): void {
    this.version++
    this.routes = new Array(this.size)
  }

  degree (u: number): number { return this.adj[u].length }
  connectionCount (u: number): number { return this.conn[u].length }
  connected (u: number, v: number): boolean { return this.conn[u].includes(v) }
  /** u's open connections (a copy). */
  connections (u: number): number[] { return [...this.conn[u]] }

  /** A killed process: the OS closes its connections at once. */
  dropNode (u: number): void {
    for (const v of [...this.conn[u]]) this.disconnect(u, v)
    this.wasConnected[u] = 0
    this.invalidate()
  }

  /**
   * The dial loop and gossipsub's heartbeat on every node, in index order: drop what can no
   * longer be used, dial up to targetPeers (and the pinned leader), then graft and prune the
   * mesh. Returns the nodes that had no connection before and have one now, in index order.
   */
  maintain (): number[] {
    const { D, Dlo, Dhi } = this.params
    for (let u = 0; u < this.size; u++) {
      for (const v of [...this.conn[u]]) if (!this.usable(u) || !this.usable(v) || !this.linked(u, v)) this.disconnect(u, v)
    }
    for (let u = 0; u < this.size; u++) this.redial(u)
    for (let u = 0; u < this.size; u++) {
      if (this.usable(u) && this.adj[u].length < Dlo) this.graftUpTo(u, D)
    }
    for (let u = 0; u < this.size; u++) {
      const n = this.adj[u].length
      if (n <= Dhi) continue
      const peers = [...this.adj[u]]
      shuffle(peers, this.rng)
      for (const v of peers.slice(0, n - D)) this.unlink(u, v)
    }
    const nowReachable: number[] = []
    for (let u = 0; u < this.size; u++) {
      const has = this.conn[u].length > 0 ? 1 : 0
      if (has === 1 && this.wasConnected[u] === 0) nowReachable.push(u)
      this.wasConnected[u] = has
    }
    this.dirty = false
    this.invalidate()
    return nowReachable
  }

  /** Every node dials the pinned leader now (Mesh.noteLeader's re-dial); returns the nodes that became reachable. */
  dialPinned (): number[] {
    const p = this.pinned
    const nowReachable: number[] = []
    if (p < 0 || !this.usable(p)) return nowReachable
    for (let u = 0; u < this.size; u++) {
      if (!this.usable(u) || !this.canDial(u, p)) continue
      if (this.conn[u].length === 0) nowReachable.push(u)
      this.connect(u, p)
      this.wasConnected[u] = 1
    }
    if (this.conn[p].length > 0 && this.wasConnected[p] === 0) { this.wasConnected[p] = 1; if (!nowReachable.includes(p)) nowReachable.push(p) }
    this.invalidate()
    return nowReachable.sort((a, b) => a - b)
  }

  route (source: number): Route {
    let r = this.routes[source]
    if (r === undefined) {
      r = this.computeRoute(source)
      this.routes[source] = r
    }
    return r
  }

  /** node/daemon/mesh.ts `redial`: the pinned leader whatever the count, then up to targetPeers. */
  private redial (u: number): void {
    if (!this.usable(u)) return
    const { targetPeers } = this.params
    const p = this.pinned
    if (p >= 0 && p !== u && this.canDial(u, p)) this.connect(u, p)
    if (this.conn[u].length >= targetPeers) return
    const order = this.dialOrder(u)
    for (let i = 0; i < order.length && this.conn[u].length < targetPeers; i++) {
      const v = order[i]
      if (this.canDial(u, v)) this.connect(u, v)
    }
  }

  private canDial (u: number, v: number): boolean {
    const max = this.params.maxConnections
    return v !== u && this.usable(v) && this.linked(u, v) && this.conn[u].length < max && this.conn[v].length < max && !this.conn[u].includes(v)
  }

  /** u's dial order: the bootstrap host (node 0), then the others in u's own seeded order. */
  private dialOrder (u: number): Int32Array {
    const n = this.size
    const order = this.scratchOrder
    let k = 0
    for (let v = 1; v < n; v++) order[k++] = v
    // Fisher–Yates from u's own stream: the same order every time u dials.
    let s = this.dialSeed[u] >>> 0
    for (let i = k - 1; i > 0; i--) {
      s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0
      const j = Math.floor((s / 4_294_967_296) * (i + 1))
      const t = order[i]; order[i] = order[j]; order[j] = t
    }
    // Node 0 (the bootstrap host) first: it was left out of the shuffle.
    order.copyWithin(1, 0, k)
    order[0] = 0
    return order.subarray(0, k + 1)
  }

  private connect (u: number, v: number): void {
    this.conn[u].push(v)
    this.conn[v].push(u)
    this.newEnds.push(u, v)
  }

  /** Both ends of every connection made since the last call, in the order they were made (each pays a handshake). */
  takeNewConnectionEnds (): number[] {
    const ends = this.newEnds
    this.newEnds = []
    return ends
  }

  private disconnect (u: number, v: number): void {
    removeFrom(this.conn[u], v)
    removeFrom(this.conn[v], u)
    this.unlink(u, v)
  }

  /** gossipsub's GRAFT: random connected peers not yet in the mesh. */
  private graftUpTo (u: number, target: number): void {
    const candidates: number[] = []
    for (const v of this.conn[u]) if (!this.adj[u].includes(v) && this.usable(v) && this.linked(u, v)) candidates.push(v)
    candidates.sort((a, b) => a - b)
    shuffle(candidates, this.rng)
    for (const v of candidates) {
      if (this.adj[u].length >= target) break
      this.adj[u].push(v)
      this.adj[v].push(u)
    }
  }

  private unlink (u: number, v: number): void {
    removeFrom(this.adj[u], v)
    removeFrom(this.adj[v], u)
  }

  private up (u: number, v: number): boolean {
    return this.usable(v) && this.linked(u, v)
  }

  /**
   * Breadth-first (no recursion; a queue in a typed array): the publisher's copies go to its
   * connected peers (flood publish) or its mesh peers, every later hop along mesh links.
   */
  private computeRoute (source: number): Route {
    const n = this.size
    const hops = new Int32Array(n).fill(-1)
    const queue = new Int32Array(n)
    let head = 0
    let tail = 0
    hops[source] = 0
    queue[tail++] = source
    let transmissions = 0
    if (this.usable(source)) {
      const first = this.params.floodPublish ? this.conn[source] : this.adj[source]
      for (const v of first) {
        if (!this.up(source, v)) continue
        transmissions++
        if (hops[v] >= 0) continue
        hops[v] = 1
        queue[tail++] = v
      }
      head = 1
      while (head < tail) {
        const u = queue[head++]
        // gossipsub forwards to every mesh peer but the publisher and the peer it got the copy
        // from (a mesh peer, past the first hop).
        let forwards = 0
        for (const v of this.adj[u]) {
          if (v === source || !this.up(u, v)) continue
          forwards++
          if (hops[v] >= 0) continue
          hops[v] = hops[u] + 1
          queue[tail++] = v
        }
        transmissions += hops[u] > 1 ? Math.max(0, forwards - 1) : forwards
      }
    }
    const reached = tail - 1
    const order = queue.slice(1, tail)
    const hopArr = new Uint8Array(reached)
    const parents = new Uint8Array(reached)
    const at = new Int32Array(n)
    for (let i = 0; i < reached; i++) at[order[i]] = i + 1
    const parentStart = new Int32Array(reached + 1)
    const parentList: number[] = []
    for (let i = 0; i < reached; i++) {
      const v = order[i]
      hopArr[i] = Math.min(255, hops[v])
      parentStart[i] = parentList.length
      let k = 0
      if (hops[v] === 1) k = 1
      else {
        for (const w of this.adj[v]) {
          if (hops[w] !== hops[v] - 1 || !this.up(v, w)) continue
          k++
          parentList.push(at[w] - 1)
        }
      }
      parents[i] = Math.min(255, k)
    }
    parentStart[reached] = parentList.length
    const duplicates = new Float32Array(reached)
    for (let i = 0; i < reached; i++) duplicates[i] = this.duplicateCopies(order[i], source, hops, parents, at)
    const unreached: number[] = []
    let isolated = 0
    if (this.usable(source)) {
      // A publisher with no peer sends nothing (the daemon allows a publish to zero peers, and
      // drops it): no host holds the message to announce it in IHAVE either.
      const sentNowhere = reached === 0
      for (let v = 0; v < n; v++) {
        if (v === source || hops[v] >= 0 || !this.usable(v) || !this.linked(source, v)) continue
        if (sentNowhere || this.conn[v].length === 0) { isolated++; continue }
        at[v] = -(unreached.length + 1)
        unreached.push(v)
      }
    }
    return { order, hops: hopArr, parents, parentStart, parentList: Int32Array.from(parentList), duplicates, unreached: Int32Array.from(unreached), isolated, at, transmissions }
  }

  /**
   * Copies node v receives beyond its first, expected. gossipsub forwards a message it has not
   * seen to every mesh peer but the publisher and the peer it came from, and no one knows what
   * the others have (no IDONTWANT for messages this small): v gets one copy from each mesh peer
   * reached at its hop or closer to the source (and its hop-1 copy from the publisher), and from
   * a mesh peer one hop further unless that peer got its first copy from v (one chance in that
   * peer's number of parents).
   */
  private duplicateCopies (v: number, source: number, hops: Int32Array, parents: Uint8Array, at: Int32Array): number {
    const hv = hops[v]
    let copies = hv === 1 ? 1 : 0
    for (const w of this.adj[v]) {
      if (w === source || hops[w] < 1 || !this.up(v, w)) continue
      if (hops[w] <= hv) copies++
      else if (hops[w] === hv + 1) copies += 1 - 1 / Math.max(1, parents[at[w] - 1])
    }
    return Math.max(0, copies - 1)
  }
}

function removeFrom (a: number[], v: number): void {
  const i = a.indexOf(v)
  if (i >= 0) a.splice(i, 1)
}

export function shuffle<T> (a: T[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = a[i]; a[i] = a[j]; a[j] = t
  }
}
