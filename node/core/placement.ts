/**
 * The leader's placement of each service's desired replicas on the site's hosts.
 *
 * Rules, in order: a replica goes only to a host whose labels match the service's selector;
 * never beyond a host's slots; existing assignments stay where they are unless their host is
 * dead, no longer matches, is over capacity, or the service has too many; removals come off
 * suspect hosts first, then the hosts with the most of that service; additions go to alive
 * hosts with the fewest of that service (spreading), then the most free slots, then by id.
 * Services take free slots in turns, one replica at a time, so one service cannot starve the
 * others when the site is short of capacity. A host that reports a service unavailable (it
 * cannot start it now: its secrets cannot be read) keeps at most the replicas of it it holds and
 * gets no new one, so the rest go to hosts that can start them.
 */
import { BinaryHeap } from './binary-heap.js'
import { assert } from './errors.js'
import { matchesSelector, type ServiceSpec } from './service-spec.js'
import type { PeerState } from './membership.js'

export interface PlacementHost {
  hostId: string
  labels: ReadonlyMap<string, string>
  /** Slots this host offers now (the leader lowers it to what runs while the runtime is down). */
  slots: number
  state: PeerState
  /** Services this host cannot start now, each with the replicas of it the host holds (kept). */
  unavailable?: ReadonlyMap<string, number>
}

/** Replicas per service on each host; hosts with none are absent. */
export type Assignments = Map<string, Map<string, number>>

export interface PlacementInput {
  /** Sorted by name. */
  services: readonly ServiceSpec[]
  desired: ReadonlyMap<string, number>
  /** Sorted by host id. */
  hosts: readonly PlacementHost[]
  previous: Assignments
}

export interface PlacementResult {
  assignments: Assignments
  /** Replicas the site wanted but had no room for, per service. */
  unplaced: Map<string, number>
}

/*
 * Speed (the leader pays this every round: 1,000 hosts × 20 services in bench/core-suite.ts).
 * Replica counts live in one typed array indexed by (host, service name) instead of a Map per
 * host, and hosts are compared by a rank that orders exactly as their ids do (equal ids share
 * a rank), so the heaps compare numbers, not strings. Nothing else changed: the heaps sift as
 * BinaryHeap does (the same comparisons in the same order), and each host's counts come out in
 * the order a Map would have kept (first set first), which the central baseline's agents see.
 * test/core/placement-reference.test.ts checks every output, order included, against the
 * implementation before this change.
 */

/** Service names of one placement, each with its index into a slot's counts. */
interface Names { index: Map<string, number>, names: string[] }

interface Slot {
  host: PlacementHost
  free: number
  /** Orders as host ids do; equal ids, equal rank. */
  rank: number
  suspect: boolean
  /** This host's counts: counts[base + name index]. */
  base: number
  /** Name indices in the order first set (a Map's iteration order); made at the first (most hosts hold none). */
  order: number[] | undefined
}

interface Table { slots: Slot[], counts: Int32Array, present: Uint8Array, names: Names }

export function place (input: PlacementInput): PlacementResult {
  const table = keepPrevious(input)
  for (const svc of input.services) removeExcess(table, svc, input.desired.get(svc.name) ?? 0)
  const unplaced = addMissing(table, input.services, input.desired)
  const assignments: Assignments = new Map()
  const { counts, names } = table
  for (const slot of table.slots) {
    assert(slot.free >= 0, 'free slots never below zero')
    if (slot.order === undefined) continue
    let out: Map<string, number> | undefined
    for (const k of slot.order) {
      const n = counts[slot.base + k]
      if (n <= 0) continue
      if (out === undefined) out = new Map()
      out.set(names.names[k], n)
    }
    if (out !== undefined) assignments.set(slot.host.hostId, out)
  }
  return { assignments, unplaced }
}

function namesOf (services: readonly ServiceSpec[]): Names {
  const index = new Map<string, number>()
  const names: string[] = []
  for (const s of services) {
    if (index.has(s.name)) continue
    index.set(s.name, names.length)
    names.push(s.name)
  }
  return { index, names }
}

/** Ranks ordering as the ids do (ids are sorted by contract; an unsorted list is ranked by a sort). */
function ranksOf (hosts: readonly PlacementHost[]): Int32Array {
  const rank = new Int32Array(hosts.length)
  let sorted = true
  for (let i = 1; i < hosts.length && sorted; i++) sorted = hosts[i - 1].hostId <= hosts[i].hostId
  const order = sorted ? hosts.map((_, i) => i) : hosts.map((_, i) => i).sort((a, b) => hosts[a].hostId < hosts[b].hostId ? -1 : hosts[a].hostId > hosts[b].hostId ? 1 : 0)
  for (let j = 0; j < order.length; j++) {
    rank[order[j]] = j > 0 && hosts[order[j]].hostId === hosts[order[j - 1]].hostId ? rank[order[j - 1]] : j
  }
  return rank
}

function setCount (table: Table, slot: Slot, k: number, n: number): void {
  const at = slot.base + k
  if (table.present[at] === 0) {
    table.present[at] = 1
    if (slot.order === undefined) slot.order = [k]
    else slot.order.push(k)
  }
  table.counts[at] = n
}

function keepPrevious (input: PlacementInput): Table {
  const names = namesOf(input.services)
  const specs = new Map<string, ServiceSpec>()
  for (const s of input.services) specs.set(s.name, s)
  const width = names.names.length
  const rank = ranksOf(input.hosts)
  const nameRank = nameRanks(names.names)
  const table: Table = { slots: [], counts: new Int32Array(input.hosts.length * width), present: new Uint8Array(input.hosts.length * width), names }
  // One list for every host, written in place (a leader places every member every round).
  const known: number[] = []
  input.hosts.forEach((host, i) => {
    const slot: Slot = { host, free: host.slots, rank: rank[i], suspect: host.state === 'suspect', base: i * width, order: undefined }
    table.slots.push(slot)
    if (host.state === 'dead') return
    const prev = input.previous.get(host.hostId)
    if (prev === undefined) return
    // In name order, so that, when a host must shed replicas to fit, which ones go is
    // deterministic. Names no service has are skipped, so only known ones are sorted (by rank).
    let n = 0
    for (const name of prev.keys()) {
      const k = names.index.get(name)
      if (k !== undefined) known[n++] = k
    }
    if (n > 1) insertionSortBy(known, n, nameRank)
    for (let j = 0; j < n; j++) {
      const k = known[j]
      const name = names.names[k]
      const spec = specs.get(name)!
      if (!matchesSelector(spec.selector, host.labels)) continue
      const kept = Math.min(prev.get(name)!, host.unavailable?.get(name) ?? Infinity)
      const fit = Math.min(kept, Math.floor(slot.free / spec.slotsPerReplica))
      if (fit <= 0) continue
      setCount(table, slot, k, fit)
      slot.free -= fit * spec.slotsPerReplica
    }
  })
  return table
}

/** Sorts the first n entries of `list` by their rank (a host holds a few services: insertion sort). */
function insertionSortBy (list: number[], n: number, rank: Int32Array): void {
  for (let i = 1; i < n; i++) {
    const v = list[i]
    let j = i - 1
    while (j >= 0 && rank[list[j]] > rank[v]) { list[j + 1] = list[j]; j-- }
    list[j + 1] = v
  }
}

/** Each name index's place in name order (as Array.prototype.sort orders strings). */
function nameRanks (names: readonly string[]): Int32Array {
  const rank = new Int32Array(names.length)
  names.map((_, k) => k).sort((a, b) => names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0).forEach((k, i) => { rank[k] = i })
  return rank
}

/**
 * A heap entry: a host and how many replicas of the service in hand it holds. `free` is the
 * host's free slots when the entry was keyed: other services take slots while the entry waits
 * in this service's heap, and a key must not change under the heap (see addMissing).
 */
interface Entry { slot: Slot, n: number, free: number }

/** Suspect hosts first, then most replicas of the service, then least free, then highest id. */
function removalFirst (a: Entry, b: Entry): boolean {
  if (a.slot.suspect !== b.slot.suspect) return a.slot.suspect
  if (a.n !== b.n) return a.n > b.n
  if (a.free !== b.free) return a.free < b.free
  return a.slot.rank > b.slot.rank
}

/** Fewest replicas of the service, then most free slots, then lowest id. */
function additionFirst (a: Entry, b: Entry): boolean {
  if (a.n !== b.n) return a.n < b.n
  if (a.free !== b.free) return a.free > b.free
  return a.slot.rank < b.slot.rank
}

type EntryHeap = BinaryHeap<Entry>

function removeExcess (table: Table, svc: ServiceSpec, desired: number): void {
  const k = table.names.index.get(svc.name)!
  const counts = table.counts
  let assigned = 0
  for (const s of table.slots) assigned += counts[s.base + k]
  if (assigned <= desired) return
  const heap: EntryHeap = new BinaryHeap(removalFirst)
  for (const slot of table.slots) {
    const n = counts[slot.base + k]
    if (n > 0) heap.push({ slot, n, free: slot.free })
  }
  while (assigned > desired) {
    const e = heap.pop()!
    e.n--
    setCount(table, e.slot, k, e.n)
    e.slot.free += svc.slotsPerReplica
    e.free = e.slot.free
    assigned--
    if (e.n > 0) heap.push(e)
  }
}

function addMissing (table: Table, services: readonly ServiceSpec[], desired: ReadonlyMap<string, number>): Map<string, number> {
  interface Need { svc: ServiceSpec, k: number, missing: number, heap: EntryHeap }
  const counts = table.counts
  const needs: Need[] = []
  for (const svc of services) {
    const k = table.names.index.get(svc.name)!
    let assigned = 0
    for (const s of table.slots) assigned += counts[s.base + k]
    const missing = (desired.get(svc.name) ?? 0) - assigned
    if (missing <= 0) continue
    const heap: EntryHeap = new BinaryHeap(additionFirst)
    for (const slot of table.slots) {
      if (slot.host.state === 'alive' && slot.free >= svc.slotsPerReplica && matchesSelector(svc.selector, slot.host.labels) && slot.host.unavailable?.has(svc.name) !== true) {
        heap.push({ slot, n: counts[slot.base + k], free: slot.free })
      }
    }
    needs.push({ svc, k, missing, heap })
  }
  // Round robin over services, one replica per turn.
  let active = needs.filter(n => n.heap.size > 0)
  while (active.length > 0) {
    for (const need of active) {
      const e = popFitting(need.heap, need.svc.slotsPerReplica)
      if (e === undefined) continue
      e.n++
      setCount(table, e.slot, need.k, e.n)
      e.slot.free -= need.svc.slotsPerReplica
      assert(e.slot.free >= 0, 'free slots never below zero')
      e.free = e.slot.free
      need.missing--
      if (e.free >= need.svc.slotsPerReplica) need.heap.push(e)
    }
    active = active.filter(n => n.missing > 0 && n.heap.size > 0)
  }
  const unplaced = new Map<string, number>()
  for (const need of needs) if (need.missing > 0) unplaced.set(need.svc.name, need.missing)
  return unplaced
}

/**
 * The best host with room for one more replica. Other services take slots while an entry waits
 * here, which only ever lowers a host's free slots: an entry whose key went stale is re-keyed
 * and queued again (its true key ranks no earlier than the stale one), one that no longer has
 * room is dropped (nothing frees slots while replicas are added).
 */
function popFitting (heap: EntryHeap, slotsPerReplica: number): Entry | undefined {
  for (let e = heap.pop(); e !== undefined; e = heap.pop()) {
    if (e.slot.free < slotsPerReplica) continue
    if (e.free === e.slot.free) return e
    e.free = e.slot.free
    heap.push(e)
  }
  return undefined
}
