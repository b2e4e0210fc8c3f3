/**
 * The leader's placement as it was before it was made faster (node/core/placement.ts, commit
 * dea7fca), kept word for word as the reference that placement-reference.test.ts compares the
 * fast one against: same inputs, the same assignments in the same order. Do not edit it to
 * follow a change of the rules; a change of the rules changes both, and this file's header.
 */
import { BinaryHeap } from '../../node/core/binary-heap.js'
import { assert } from '../../node/core/errors.js'
import { matchesSelector, type ServiceSpec } from '../../node/core/service-spec.js'
import type { Assignments, PlacementInput, PlacementResult } from '../../node/core/placement.js'

interface Slot {
  host: PlacementInput['hosts'][number]
  free: number
  counts: Map<string, number>
}

export function placeReference (input: PlacementInput): PlacementResult {
  const slots = keepPrevious(input)
  const bySvc = new Map(input.services.map(s => [s.name, s]))
  for (const svc of input.services) removeExcess(svc, input.desired.get(svc.name) ?? 0, slots)
  const unplaced = addMissing(input.services, input.desired, slots)
  const assignments: Assignments = new Map()
  for (const slot of slots) {
    assert(slot.free >= 0, 'free slots never below zero')
    const counts = new Map<string, number>()
    for (const [name, n] of slot.counts) if (n > 0 && bySvc.has(name)) counts.set(name, n)
    if (counts.size > 0) assignments.set(slot.host.hostId, counts)
  }
  return { assignments, unplaced }
}

function keepPrevious (input: PlacementInput): Slot[] {
  const specs = new Map(input.services.map(s => [s.name, s]))
  const slots: Slot[] = []
  for (const host of input.hosts) {
    const slot: Slot = { host, free: host.slots, counts: new Map() }
    slots.push(slot)
    if (host.state === 'dead') continue
    const prev = input.previous.get(host.hostId)
    if (prev === undefined) continue
    // Sorted so that, when a host must shed replicas to fit, which ones go is deterministic.
    for (const name of [...prev.keys()].sort()) {
      const spec = specs.get(name)
      if (spec === undefined || !matchesSelector(spec.selector, host.labels)) continue
      const kept = Math.min(prev.get(name)!, host.unavailable?.get(name) ?? Infinity)
      const fit = Math.min(kept, Math.floor(slot.free / spec.slotsPerReplica))
      if (fit <= 0) continue
      slot.counts.set(name, fit)
      slot.free -= fit * spec.slotsPerReplica
    }
  }
  return slots
}

/**
 * A heap entry: a host and how many replicas of the service in hand it holds. `free` is the
 * host's free slots when the entry was keyed: other services take slots while the entry waits
 * in this service's heap, and a key must not change under the heap (see addMissing).
 */
interface Entry { slot: Slot, n: number, free: number }

function removeExcess (svc: ServiceSpec, desired: number, slots: Slot[]): void {
  let assigned = 0
  for (const s of slots) assigned += s.counts.get(svc.name) ?? 0
  if (assigned <= desired) return
  const heap = new BinaryHeap<Entry>(removalFirst)
  for (const slot of slots) {
    const n = slot.counts.get(svc.name) ?? 0
    if (n > 0) heap.push({ slot, n, free: slot.free })
  }
  while (assigned > desired) {
    const e = heap.pop()!
    e.n--
    e.slot.counts.set(svc.name, e.n)
    e.slot.free += svc.slotsPerReplica
    e.free = e.slot.free
    assigned--
    if (e.n > 0) heap.push(e)
  }
}

/** Suspect hosts first, then most replicas of the service, then least free, then highest id. */
function removalFirst (a: Entry, b: Entry): boolean {
  const sa = a.slot.host.state === 'suspect' ? 0 : 1
  const sb = b.slot.host.state === 'suspect' ? 0 : 1
  if (sa !== sb) return sa < sb
  if (a.n !== b.n) return a.n > b.n
  if (a.free !== b.free) return a.free < b.free
  return a.slot.host.hostId > b.slot.host.hostId
}

/** Fewest replicas of the service, then most free slots, then lowest id. */
function additionFirst (a: Entry, b: Entry): boolean {
  if (a.n !== b.n) return a.n < b.n
  if (a.free !== b.free) return a.free > b.free
  return a.slot.host.hostId < b.slot.host.hostId
}

function addMissing (services: readonly ServiceSpec[], desired: ReadonlyMap<string, number>, slots: Slot[]): Map<string, number> {
  interface Need { svc: ServiceSpec, missing: number, heap: BinaryHeap<Entry> }
  const needs: Need[] = []
  for (const svc of services) {
    let assigned = 0
    for (const s of slots) assigned += s.counts.get(svc.name) ?? 0
    const missing = (desired.get(svc.name) ?? 0) - assigned
    if (missing <= 0) continue
    const heap = new BinaryHeap<Entry>(additionFirst)
    for (const slot of slots) {
      if (slot.host.state === 'alive' && slot.free >= svc.slotsPerReplica && matchesSelector(svc.selector, slot.host.labels) && slot.host.unavailable?.has(svc.name) !== true) {
        heap.push({ slot, n: slot.counts.get(svc.name) ?? 0, free: slot.free })
      }
    }
    needs.push({ svc, missing, heap })
  }
  // Round robin over services, one replica per turn.
  let active = needs.filter(n => n.heap.size > 0)
  while (active.length > 0) {
    for (const need of active) {
      const e = popFitting(need.heap, need.svc.slotsPerReplica)
      if (e === undefined) continue
      e.n++
      e.slot.counts.set(need.svc.name, e.n)
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
function popFitting (heap: BinaryHeap<Entry>, slotsPerReplica: number): Entry | undefined {
  for (let e = heap.pop(); e !== undefined; e = heap.pop()) {
    if (e.slot.free < slotsPerReplica) continue
    if (e.free === e.slot.free) return e
    e.free = e.slot.free
    heap.push(e)
  }
  return undefined
}
