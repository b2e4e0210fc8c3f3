/**
 * gossipsub, modelled closely enough to matter for the supervisors, and cheaply enough for
 * 10,000 hosts.
 *
 * Modelled:
 * - One mesh per site topic, of degree D (default 6) between D_lo (4) and D_hi (12). A node
 *   joins by grafting D random peers; at each gossipsub heartbeat (1 s) after the membership
 *   changed (a host started or stopped, a partition formed or healed), every node drops mesh
 *   links it can no longer use, grafts random reachable peers when below D_lo and prunes
 *   random peers when above D_hi, as gossipsub's heartbeat does.
 * - Eager push: a message reaches a node over the shortest mesh path from the publisher, each
 *   hop costing the site's link latency (median + uniform jitter). A receiver at h hops misses
 *   the eager copy only when the last hop from every neighbour at h − 1 hops is lost
 *   (probability loss^k for k such neighbours: the mesh's redundant paths).
 * - Lazy repair: a node that missed the eager copy, or that no mesh path reaches (the mesh is
 *   broken between a fault and the next heartbeat, or stayed split after a partition healed),
 *   but that is connected to the publisher's side, gets it through IHAVE/IWANT: it waits for
 *   the next gossip emission (uniform within one heartbeat), then IHAVE, IWANT and the message
 *   each cross a hop (each may be lost); it retries on later heartbeats while the message is in
 *   the gossip window (3 heartbeats), after which the message is lost for that node.
 * - Global topic (site summaries): delivered to each site's current leader (the default) or to
 *   every host, over one inter-site hop and one hop inside the receiving site, with the same
 *   loss and repair; a publisher not subscribed reaches the topic through fan-out peers, which
 *   this one-hop model already covers.
 * - gossipsub de-duplicates by message id, so the core sees each message at most once: so does
 *   the simulated core.
 * - Bytes: the encoded size (protocol/ codec) times the transmissions eager push makes: every
 *   reached node forwards to each mesh peer except the one it got the message from.
 *
 * Not modelled: peer scoring and graylisting, flood publishing, peer exchange, prune backoff,
 * IDONTWANT, IHAVE/IWANT bytes, opportunistic grafting, bandwidth limits and queueing
 * (messages never wait behind each other), connection limits, per-connection ordering,
 * signature checking cost.
 */
import type { Rng } from '../node/core/rng.js'

export interface MeshParams { D: number, Dlo: number, Dhi: number }

/** How a publish from one source spreads over the mesh as it stands. */
export interface Route {
  /** Local indices reached by eager push, by hop count. */
  order: Int32Array
  hops: Uint8Array
  /** For each reached node: mesh neighbours one hop closer to the source (the redundant last hops). */
  parents: Uint8Array
  /** Nodes up and connected to the source that no mesh path reaches: repair only. */
  unreached: Int32Array
  /** Eager transmissions of one publish (for the bytes figure). */
  transmissions: number
}

/**
 * `usable(local)` says whether the node runs; `linked(a, b)` whether two nodes can talk.
 * Both are the simulation's, read at the time of the call.
 */
export class SiteMesh {
  private readonly adj: number[][]
  private routes: (Route | undefined)[]
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
    this.adj = Array.from({ length: size }, () => [])
    this.routes = new Array(size)
  }

  /** The mesh as gossipsub would build it from scratch: every node grafts up to D peers. */
  build (): void {
    for (let u = 0; u < this.size; u++) this.graftUpTo(u, this.params.D)
    this.invalidate()
  }

  /** Something changed that routes depend on (a node up or down, a partition). */
  invalidate (): void {
    this.version++
    this.routes = new Array(this.size)
  }

  degree (u: number): number { return this.adj[u].length }

  /** gossipsub's heartbeat for this topic on every node, in index order. */
  maintain (): void {
    const { D, Dlo, Dhi } = this.params
    for (let u = 0; u < this.size; u++) {
      for (const v of [...this.adj[u]]) if (!this.usable(u) || !this.usable(v) || !this.linked(u, v)) this.unlink(u, v)
    }
    for (let u = 0; u < this.size; u++) {
      if (!this.usable(u)) continue
      if (this.adj[u].length < Dlo) this.graftUpTo(u, D)
    }
    for (let u = 0; u < this.size; u++) {
      const n = this.adj[u].length
      if (n <= Dhi) continue
      const peers = [...this.adj[u]]
      shuffle(peers, this.rng)
      for (const v of peers.slice(0, n - D)) this.unlink(u, v)
    }
    this.dirty = false
    this.invalidate()
  }

  route (source: number): Route {
    let r = this.routes[source]
    if (r === undefined) {
      r = this.computeRoute(source)
      this.routes[source] = r
    }
    return r
  }

  private graftUpTo (u: number, target: number): void {
    if (!this.usable(u)) return
    const have = new Set(this.adj[u])
    const candidates: number[] = []
    for (let v = 0; v < this.size; v++) {
      if (v !== u && !have.has(v) && this.usable(v) && this.linked(u, v)) candidates.push(v)
    }
    shuffle(candidates, this.rng)
    for (const v of candidates) {
      if (this.adj[u].length >= target) break
      this.adj[u].push(v)
      this.adj[v].push(u)
    }
  }

  private unlink (u: number, v: number): void {
    const a = this.adj[u].indexOf(v)
    if (a >= 0) this.adj[u].splice(a, 1)
    const b = this.adj[v].indexOf(u)
    if (b >= 0) this.adj[v].splice(b, 1)
  }

  /** Breadth-first over usable mesh links (no recursion; a queue in a typed array). */
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
      while (head < tail) {
        const u = queue[head++]
        let forwards = 0
        for (const v of this.adj[u]) {
          if (!this.usable(v) || !this.linked(u, v)) continue
          forwards++
          if (hops[v] >= 0) continue
          hops[v] = hops[u] + 1
          queue[tail++] = v
        }
        transmissions += u === source ? forwards : Math.max(0, forwards - 1)
      }
    }
    const reached = tail - 1
    const order = queue.slice(1, tail)
    const hopArr = new Uint8Array(reached)
    const parents = new Uint8Array(reached)
    for (let i = 0; i < reached; i++) {
      const v = order[i]
      hopArr[i] = Math.min(255, hops[v])
      let k = 0
      for (const w of this.adj[v]) if (hops[w] === hops[v] - 1 && this.usable(w) && this.linked(v, w)) k++
      parents[i] = Math.min(255, k)
    }
    const unreached: number[] = []
    if (this.usable(source)) {
      for (let v = 0; v < n; v++) if (v !== source && hops[v] < 0 && this.usable(v) && this.linked(source, v)) unreached.push(v)
    }
    return { order, hops: hopArr, parents, unreached: Int32Array.from(unreached), transmissions }
  }
}

export function shuffle<T> (a: T[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    const t = a[i]; a[i] = a[j]; a[j] = t
  }
}
