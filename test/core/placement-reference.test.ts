import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { place, type Assignments, type PlacementHost, type PlacementInput, type PlacementResult } from '../../node/core/placement.js'
import { serviceSpec } from '../../node/core/service-spec.js'
import type { PeerState } from '../../node/core/membership.js'
import { placeReference } from './placement-reference.js'

/**
 * The leader's placement was made faster for the 1,000-host round (bench/core-suite.ts); it
 * must decide exactly as before. Both run on the same inputs, including ones the leader never
 * builds (hosts out of id order, two hosts with one id, one service name twice), and every
 * output is compared in its iteration order, which the central baseline's agents act in.
 */

const NUM_RUNS = 500

/** Every output as arrays, in iteration order. */
function ordered (r: PlacementResult): unknown {
  return { assignments: [...r.assignments].map(([h, counts]) => [h, [...counts]]), unplaced: [...r.unplaced] }
}

const LABEL_POOL: Array<Record<string, string>> = [{}, { zone: 'a' }, { zone: 'b' }, { zone: 'a', gpu: 'yes' }, { gpu: 'yes' }]
const SELECTOR_POOL: Array<Record<string, string>> = [{}, {}, { zone: 'a' }, { gpu: 'yes' }, { zone: 'b' }]
const SERVICE_NAMES = ['s0', 's1', 's2', 's3', 's4', 's5']

function hostArb (ids: fc.Arbitrary<string>): fc.Arbitrary<PlacementHost> {
  return fc.record({
    hostId: ids,
    labels: fc.constantFrom(...LABEL_POOL).map(l => new Map(Object.entries(l))),
    slots: fc.integer({ min: 0, max: 12 }),
    state: fc.constantFrom<PeerState>('alive', 'alive', 'alive', 'suspect', 'dead'),
    unavailable: fc.option(fc.array(fc.tuple(fc.constantFrom(...SERVICE_NAMES), fc.integer({ min: 0, max: 3 })), { maxLength: 2 }).map(e => new Map(e)), { nil: undefined, freq: 5 }),
  }).map(h => h.unavailable === undefined ? { hostId: h.hostId, labels: h.labels, slots: h.slots, state: h.state } : h)
}

/** Hosts as the leader builds them: unique ids, sorted. */
const sortedHostsArb = fc.array(hostArb(fc.constant('')), { minLength: 1, maxLength: 30 })
  .map(hs => hs.map((h, i) => ({ ...h, hostId: `h${String(i).padStart(2, '0')}` })))
/** Anything: ids out of order and repeated. */
const anyHostsArb = fc.array(hostArb(fc.constantFrom('h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7')), { minLength: 1, maxLength: 12 })

const servicesArb = fc.array(fc.record({
  name: fc.constantFrom(...SERVICE_NAMES),
  selector: fc.constantFrom(...SELECTOR_POOL),
  slotsPerReplica: fc.integer({ min: 1, max: 3 }),
  desired: fc.integer({ min: 0, max: 40 }),
}), { minLength: 1, maxLength: 6 })

const previousArb: fc.Arbitrary<Assignments> = fc.array(fc.record({
  host: fc.constantFrom('h0', 'h1', 'h2', 'h3', 'h00', 'h01', 'h02', 'h05', 'h10', 'h29', 'gone'),
  service: fc.constantFrom(...SERVICE_NAMES, 'old'),
  n: fc.integer({ min: 1, max: 6 }),
}), { maxLength: 40 }).map(entries => {
  const a: Assignments = new Map()
  for (const e of entries) {
    let counts = a.get(e.host)
    if (counts === undefined) { counts = new Map(); a.set(e.host, counts) }
    counts.set(e.service, e.n)
  }
  return a
})

function inputArb (hosts: fc.Arbitrary<PlacementHost[]>, uniqueServices: boolean): fc.Arbitrary<PlacementInput> {
  return fc.record({ hosts, services: servicesArb, previous: previousArb }).map(({ hosts, services, previous }) => {
    const chosen = uniqueServices ? services.filter((s, i) => services.findIndex(x => x.name === s.name) === i) : services
    chosen.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    return {
      hosts,
      services: chosen.map(s => serviceSpec(s.name, { selector: s.selector, slotsPerReplica: s.slotsPerReplica })),
      desired: new Map(chosen.map(s => [s.name, s.desired])),
      previous,
    }
  })
}

describe('placement against the reference implementation', () => {
  it('decides exactly as the reference on the inputs the leader builds', () => {
    fc.assert(fc.property(inputArb(sortedHostsArb, true), input => {
      assert.deepEqual(ordered(place(input)), ordered(placeReference(input)))
    }), { numRuns: NUM_RUNS })
  })

  it('decides exactly as the reference on hosts out of order, repeated ids and repeated service names', () => {
    fc.assert(fc.property(inputArb(anyHostsArb, false), input => {
      assert.deepEqual(ordered(place(input)), ordered(placeReference(input)))
    }), { numRuns: NUM_RUNS })
  })

  it('decides exactly as the reference round after round, each round starting from the last', () => {
    fc.assert(fc.property(sortedHostsArb, fc.array(servicesArb, { minLength: 2, maxLength: 6 }), (hosts, rounds) => {
      let fast: Assignments = new Map()
      let ref: Assignments = new Map()
      for (const services of rounds) {
        const unique = services.filter((s, i) => services.findIndex(x => x.name === s.name) === i).sort((a, b) => a.name < b.name ? -1 : 1)
        const specs = unique.map(s => serviceSpec(s.name, { selector: s.selector, slotsPerReplica: s.slotsPerReplica }))
        const desired = new Map(unique.map(s => [s.name, s.desired]))
        const a = place({ hosts, services: specs, desired, previous: fast })
        const b = placeReference({ hosts, services: specs, desired, previous: ref })
        assert.deepEqual(ordered(a), ordered(b))
        fast = a.assignments
        ref = b.assignments
      }
    }), { numRuns: NUM_RUNS / 5 })
  })

  it('places a site at the benchmark scale exactly as the reference', () => {
    // 1,000 hosts × 20 services, short of slots: the leader round bench/core-suite.ts measures.
    const hosts: PlacementHost[] = Array.from({ length: 1000 }, (_, i) => ({
      hostId: `host-${String(i).padStart(4, '0')}`, labels: new Map([['tier', i % 3 === 0 ? 'gpu' : 'cpu']]), slots: 16, state: i % 97 === 0 ? 'suspect' : 'alive',
    }))
    const services = Array.from({ length: 20 }, (_, i) => serviceSpec(`svc-${String(i).padStart(2, '0')}`, { selector: i % 4 === 0 ? { tier: 'gpu' } : {} }))
    let fast: Assignments = new Map()
    let ref: Assignments = new Map()
    for (const load of [5, 32, 11, 20, 8]) {
      const desired = new Map(services.map((s, i) => [s.name, load * (40 + 7 * i)]))
      const a = place({ hosts, services, desired, previous: fast })
      const b = placeReference({ hosts, services, desired, previous: ref })
      assert.deepEqual(ordered(a), ordered(b))
      fast = a.assignments
      ref = b.assignments
    }
    assert.ok(fast.size > 900, 'the site was filled')
  })
})
