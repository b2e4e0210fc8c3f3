import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { place, type Assignments, type PlacementHost, type PlacementInput } from '../../node/core/placement.js'
import { matchesSelector, serviceSpec, type ServiceSpec } from '../../node/core/service-spec.js'
import type { PeerState } from '../../node/core/membership.js'

const NUM_RUNS = 200

type Plain = Record<string, Record<string, number>>

function assignments (plain: Plain): Assignments {
  return new Map(Object.entries(plain).map(([h, c]) => [h, new Map(Object.entries(c))]))
}

function plain (a: Assignments): Plain {
  const out: Plain = {}
  for (const [h, counts] of [...a].sort(([x], [y]) => x < y ? -1 : 1)) out[h] = Object.fromEntries([...counts].sort(([x], [y]) => x < y ? -1 : 1))
  return out
}

function hostOf (hostId: string, slots: number, state: PeerState = 'alive', labels: Record<string, string> = {}): PlacementHost {
  return { hostId, slots, state, labels: new Map(Object.entries(labels)) }
}

function count (a: Assignments, hostId: string, service: string): number {
  return a.get(hostId)?.get(service) ?? 0
}

function placed (a: Assignments, service: string): number {
  let n = 0
  for (const counts of a.values()) n += counts.get(service) ?? 0
  return n
}

describe('place', () => {
  it('gives a host that cannot start a service no new replica of it, and keeps only the ones it holds', () => {
    const unavailable = (hostId: string, held: number): PlacementHost => ({ ...hostOf(hostId, 4), unavailable: new Map([['a', held]]) })
    const previous = assignments({ h1: { a: 3 }, h2: { a: 1 } })
    const r = place({ services: [serviceSpec('a'), serviceSpec('b')], desired: new Map([['a', 5], ['b', 2]]), hosts: [unavailable('h1', 1), hostOf('h2', 4), hostOf('h3', 4)], previous })
    assert.equal(count(r.assignments, 'h1', 'a'), 1, 'the one replica h1 runs stays')
    assert.equal(placed(r.assignments, 'a'), 5, 'the rest go to hosts that can start them')
    assert.equal(placed(r.assignments, 'b'), 2)
    assert.ok(count(r.assignments, 'h1', 'b') > 0, 'other services still go to h1')
    const none = place({ services: [serviceSpec('a')], desired: new Map([['a', 2]]), hosts: [unavailable('h1', 0)], previous: new Map() })
    assert.equal(placed(none.assignments, 'a'), 0)
    assert.equal(none.unplaced.get('a'), 2, 'what no host can start is unplaced')
  })

  it('spreads replicas over hosts with the fewest of the service', () => {
    const hosts = ['h1', 'h2', 'h3'].map(id => hostOf(id, 4))
    const r = place({ services: [serviceSpec('a')], desired: new Map([['a', 5]]), hosts, previous: new Map() })
    assert.deepEqual(plain(r.assignments), { h1: { a: 2 }, h2: { a: 2 }, h3: { a: 1 } })
    assert.equal(r.unplaced.size, 0)
  })

  it('breaks ties on the most free slots, then on the lowest id', () => {
    const hosts = [hostOf('h1', 2), hostOf('h2', 5), hostOf('h3', 5)]
    const r = place({ services: [serviceSpec('a')], desired: new Map([['a', 2]]), hosts, previous: new Map() })
    assert.deepEqual(plain(r.assignments), { h2: { a: 1 }, h3: { a: 1 } })
  })

  it('ranks hosts by their free slots after other services took theirs', () => {
    // a goes to h1 (2 free); then h0 and h1 both have 1 free, and b takes the lowest id.
    const hosts = [hostOf('h0', 1), hostOf('h1', 2)]
    const r = place({ services: [serviceSpec('a'), serviceSpec('b')], desired: new Map([['a', 1], ['b', 1]]), hosts, previous: new Map() })
    assert.deepEqual(plain(r.assignments), { h0: { b: 1 }, h1: { a: 1 } })
  })

  it('places only on hosts whose labels match the selector', () => {
    const hosts = [hostOf('h1', 4, 'alive', { hardware: 'gpu' }), hostOf('h2', 4, 'alive', { hardware: 'cpu' })]
    const r = place({ services: [serviceSpec('a', { selector: { hardware: 'gpu' } })], desired: new Map([['a', 6]]), hosts, previous: new Map() })
    assert.deepEqual(plain(r.assignments), { h1: { a: 4 } })
    assert.deepEqual([...r.unplaced], [['a', 2]])
  })

  it('never fills a host beyond its slots and reports the rest unplaced', () => {
    const hosts = [hostOf('h1', 5), hostOf('h2', 3)]
    const r = place({ services: [serviceSpec('a', { slotsPerReplica: 2 })], desired: new Map([['a', 5]]), hosts, previous: new Map() })
    assert.deepEqual(plain(r.assignments), { h1: { a: 2 }, h2: { a: 1 } })
    assert.deepEqual([...r.unplaced], [['a', 2]])
  })

  it('takes turns between services when short of capacity', () => {
    const hosts = [hostOf('h1', 3), hostOf('h2', 2)]
    const services = [serviceSpec('a'), serviceSpec('b')]
    const r = place({ services, desired: new Map([['a', 10], ['b', 10]]), hosts, previous: new Map() })
    assert.equal(placed(r.assignments, 'a'), 3)
    assert.equal(placed(r.assignments, 'b'), 2)
    assert.deepEqual([...r.unplaced], [['a', 7], ['b', 8]])
  })

  it('does not place new replicas on suspect or dead hosts', () => {
    const hosts = [hostOf('h1', 4, 'suspect'), hostOf('h2', 4, 'dead'), hostOf('h3', 1)]
    const r = place({ services: [serviceSpec('a')], desired: new Map([['a', 3]]), hosts, previous: new Map() })
    assert.deepEqual(plain(r.assignments), { h3: { a: 1 } })
    assert.deepEqual([...r.unplaced], [['a', 2]])
  })

  it('keeps replicas on suspect hosts but moves those of dead hosts', () => {
    const hosts = [hostOf('h1', 4, 'suspect'), hostOf('h2', 4, 'dead'), hostOf('h3', 4)]
    const previous = assignments({ h1: { a: 2 }, h2: { a: 2 } })
    const r = place({ services: [serviceSpec('a')], desired: new Map([['a', 4]]), hosts, previous })
    assert.deepEqual(plain(r.assignments), { h1: { a: 2 }, h3: { a: 2 } })
  })

  it('removes replicas from suspect hosts first, then from the hosts with the most', () => {
    const hosts = [hostOf('h1', 10), hostOf('h2', 10, 'suspect')]
    const r = place({ services: [serviceSpec('a')], desired: new Map([['a', 2]]), hosts, previous: assignments({ h1: { a: 3 }, h2: { a: 1 } }) })
    assert.deepEqual(plain(r.assignments), { h1: { a: 2 } })

    const even = [hostOf('h1', 10), hostOf('h2', 10), hostOf('h3', 10)]
    const shrunk = place({ services: [serviceSpec('a')], desired: new Map([['a', 4]]), hosts: even, previous: assignments({ h1: { a: 3 }, h2: { a: 2 }, h3: { a: 2 } }) })
    // h1 first (most), then ties at 2 on equal free slots go from the highest id.
    assert.deepEqual(plain(shrunk.assignments), { h1: { a: 2 }, h2: { a: 1 }, h3: { a: 1 } })
  })

  it('moves replicas off a host that no longer matches the selector', () => {
    const hosts = [hostOf('h1', 4, 'alive', { zone: 'b' }), hostOf('h2', 4, 'alive', { zone: 'a' })]
    const r = place({ services: [serviceSpec('a', { selector: { zone: 'a' } })], desired: new Map([['a', 2]]), hosts, previous: assignments({ h1: { a: 2 } }) })
    assert.deepEqual(plain(r.assignments), { h2: { a: 2 } })
  })

  it('sheds replicas from a host whose slots shrank, services in name order first kept', () => {
    const hosts = [hostOf('h1', 3), hostOf('h2', 0)]
    const r = place({
      services: [serviceSpec('a'), serviceSpec('b')],
      desired: new Map([['a', 2], ['b', 2]]),
      hosts,
      previous: assignments({ h1: { b: 2, a: 2 } }),
    })
    assert.deepEqual(plain(r.assignments), { h1: { a: 2, b: 1 } })
    assert.deepEqual([...r.unplaced], [['b', 1]])
  })

  it('drops services that are no longer configured and hosts that are gone', () => {
    const r = place({
      services: [serviceSpec('a')],
      desired: new Map([['a', 1], ['ghost', 3]]),
      hosts: [hostOf('h1', 4)],
      previous: assignments({ h1: { a: 1, old: 2 }, gone: { a: 1 } }),
    })
    assert.deepEqual(plain(r.assignments), { h1: { a: 1 } })
    assert.equal(r.unplaced.size, 0)
  })

  it('treats a service absent from desired as wanting none', () => {
    const r = place({ services: [serviceSpec('a')], desired: new Map(), hosts: [hostOf('h1', 4)], previous: assignments({ h1: { a: 2 } }) })
    assert.equal(r.assignments.size, 0)
  })
})

// ---- properties --------------------------------------------------------------------------

const LABEL_POOL: Array<Record<string, string>> = [{}, { zone: 'a' }, { zone: 'b' }, { zone: 'a', gpu: 'yes' }, { gpu: 'yes' }]
const SELECTOR_POOL: Array<Record<string, string>> = [{}, {}, { zone: 'a' }, { gpu: 'yes' }, { zone: 'b' }]

const hostsArb: fc.Arbitrary<PlacementHost[]> = fc.array(fc.record({
  labels: fc.constantFrom(...LABEL_POOL),
  slots: fc.integer({ min: 0, max: 8 }),
  state: fc.constantFrom<PeerState>('alive', 'alive', 'alive', 'suspect', 'dead'),
}), { minLength: 1, maxLength: 8 }).map(hs => hs.map((h, i) => hostOf(`h${i}`, h.slots, h.state, h.labels)))

const servicesArb: fc.Arbitrary<Array<{ spec: ServiceSpec, desired: number }>> = fc.array(fc.record({
  selector: fc.constantFrom(...SELECTOR_POOL),
  slotsPerReplica: fc.integer({ min: 1, max: 3 }),
  desired: fc.integer({ min: 0, max: 12 }),
}), { minLength: 1, maxLength: 4 }).map(ss => ss.map((s, i) => ({
  spec: serviceSpec(`s${i}`, { selector: s.selector, slotsPerReplica: s.slotsPerReplica }),
  desired: s.desired,
})))

/** Any previous assignment at all: over capacity, on dead or unknown hosts, of unknown services. */
const previousArb: fc.Arbitrary<Assignments> = fc.array(fc.record({
  host: fc.constantFrom('h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7', 'h9'),
  service: fc.constantFrom('s0', 's1', 's2', 's3', 'old'),
  n: fc.integer({ min: 1, max: 5 }),
}), { maxLength: 12 }).map(entries => {
  const a: Assignments = new Map()
  for (const e of entries) {
    let counts = a.get(e.host)
    if (counts === undefined) { counts = new Map(); a.set(e.host, counts) }
    counts.set(e.service, e.n)
  }
  return a
})

const inputArb: fc.Arbitrary<PlacementInput> = fc.record({ hosts: hostsArb, services: servicesArb, previous: previousArb })
  .map(({ hosts, services, previous }) => ({
    hosts,
    services: services.map(s => s.spec),
    desired: new Map(services.map(s => [s.spec.name, s.desired])),
    previous,
  }))

function usedSlots (input: PlacementInput, counts: ReadonlyMap<string, number>): number {
  let used = 0
  for (const [name, n] of counts) used += n * input.services.find(s => s.name === name)!.slotsPerReplica
  return used
}

describe('place properties', () => {
  it('never exceeds a host\'s slots, never breaks a selector, never uses a dead host', () => {
    fc.assert(fc.property(inputArb, input => {
      const { assignments: a } = place(input)
      for (const [hostId, counts] of a) {
        const host = input.hosts.find(h => h.hostId === hostId)
        assert.ok(host !== undefined, `unknown host ${hostId}`)
        assert.notEqual(host.state, 'dead')
        assert.ok(usedSlots(input, counts) <= host.slots, `${hostId} over its ${host.slots} slots`)
        for (const [name, n] of counts) {
          assert.ok(n > 0)
          assert.ok(matchesSelector(input.services.find(s => s.name === name)!.selector, host.labels), `${name} on ${hostId}`)
        }
      }
    }), { numRuns: NUM_RUNS })
  })

  it('never puts new replicas on a suspect host', () => {
    fc.assert(fc.property(inputArb, input => {
      const { assignments: a } = place(input)
      for (const host of input.hosts) {
        if (host.state !== 'suspect') continue
        for (const s of input.services) assert.ok(count(a, host.hostId, s.name) <= count(input.previous, host.hostId, s.name))
      }
    }), { numRuns: NUM_RUNS })
  })

  it('placed + unplaced == desired for every service; unplaced only when no alive matching host has room', () => {
    fc.assert(fc.property(inputArb, input => {
      const { assignments: a, unplaced } = place(input)
      for (const s of input.services) {
        const want = input.desired.get(s.name) ?? 0
        const short = unplaced.get(s.name) ?? 0
        assert.equal(placed(a, s.name) + short, want, s.name)
        if (!unplaced.has(s.name)) continue
        assert.ok(short > 0)
        for (const h of input.hosts) {
          if (h.state !== 'alive' || !matchesSelector(s.selector, h.labels)) continue
          const free = h.slots - usedSlots(input, a.get(h.hostId) ?? new Map())
          assert.ok(free < s.slotsPerReplica, `${s.name} unplaced while ${h.hostId} has ${free} free`)
        }
      }
      for (const name of unplaced.keys()) assert.ok(input.services.some(s => s.name === name))
    }), { numRuns: NUM_RUNS })
  })

  it('placing again from its own result changes nothing', () => {
    fc.assert(fc.property(inputArb, input => {
      const first = place(input)
      const second = place({ ...input, previous: first.assignments })
      assert.deepEqual(plain(second.assignments), plain(first.assignments))
      assert.deepEqual([...second.unplaced], [...first.unplaced])
    }), { numRuns: NUM_RUNS })
  })

  it('moves nothing when desired changes: a service only gains or only loses, host by host', () => {
    fc.assert(fc.property(inputArb, fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 4, maxLength: 4 }), (input, next) => {
      const first = place(input)
      const desired = new Map(input.services.map((s, i) => [s.name, next[i]]))
      const second = place({ ...input, desired, previous: first.assignments })
      for (const s of input.services) {
        const before = placed(first.assignments, s.name)
        for (const h of input.hosts) {
          const was = count(first.assignments, h.hostId, s.name)
          const now = count(second.assignments, h.hostId, s.name)
          if (desired.get(s.name)! >= before) assert.ok(now >= was, `${s.name} left ${h.hostId} while growing`)
          else assert.ok(now <= was, `${s.name} added on ${h.hostId} while shrinking`)
        }
      }
    }), { numRuns: NUM_RUNS })
  })

  it('a new empty host does not move existing replicas', () => {
    const newHostArb = fc.record({ slots: fc.integer({ min: 0, max: 8 }), labels: fc.constantFrom(...LABEL_POOL) })
    fc.assert(fc.property(inputArb, newHostArb, (input, fresh) => {
      const first = place(input)
      const hosts = [...input.hosts, hostOf('hz', fresh.slots, 'alive', fresh.labels)]
      const second = place({ ...input, hosts, previous: first.assignments })
      const existing = new Map([...second.assignments].filter(([h]) => h !== 'hz'))
      assert.deepEqual(plain(existing), plain(first.assignments))
    }), { numRuns: NUM_RUNS })
  })

  it('spreads evenly over equal hosts: counts differ by at most one', () => {
    const caseArb = fc.record({
      hosts: fc.integer({ min: 1, max: 8 }),
      slots: fc.integer({ min: 1, max: 6 }),
      desired: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 3 }),
    })
    fc.assert(fc.property(caseArb, c => {
      const hosts = Array.from({ length: c.hosts }, (_, i) => hostOf(`h${i}`, c.slots))
      const services = c.desired.map((_, i) => serviceSpec(`s${i}`))
      // One service, or room on every host for an even share of every service: then nothing
      // but spreading decides. (At exactly full capacity the last service takes what is left.)
      const evenShare = c.desired.reduce((x, d) => x + Math.ceil(d / c.hosts), 0)
      if (services.length > 1 && evenShare > c.slots) return
      const { assignments: a } = place({ services, desired: new Map(services.map((s, i) => [s.name, c.desired[i]])), hosts, previous: new Map() })
      for (const s of services) {
        const counts = hosts.map(h => count(a, h.hostId, s.name))
        assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${s.name}: ${counts.join(' ')}`)
      }
    }), { numRuns: NUM_RUNS })
  })

  it('from nothing, adds exactly as the documented rule does, checked against a linear scan', () => {
    fc.assert(fc.property(inputArb, input => {
      const got = place({ ...input, previous: new Map() })
      const want = referenceAdd(input)
      assert.deepEqual(plain(got.assignments), plain(want))
    }), { numRuns: NUM_RUNS })
  })
})

/**
 * The addition rule, written the slow obvious way: services in turns, one replica each; each
 * goes to the alive matching host with room that has the fewest of it, then the most free
 * slots, then the lowest id.
 */
function referenceAdd (input: PlacementInput): Assignments {
  const free = new Map(input.hosts.map(h => [h.hostId, h.slots]))
  const a: Assignments = new Map()
  const missing = new Map(input.services.map(s => [s.name, input.desired.get(s.name) ?? 0]))
  for (let progress = true; progress;) {
    progress = false
    for (const s of input.services) {
      if (missing.get(s.name)! <= 0) continue
      let best: PlacementHost | undefined
      for (const h of input.hosts) {
        if (h.state !== 'alive' || free.get(h.hostId)! < s.slotsPerReplica || !matchesSelector(s.selector, h.labels)) continue
        if (best === undefined) { best = h; continue }
        const n = count(a, h.hostId, s.name)
        const bn = count(a, best.hostId, s.name)
        if (n < bn || (n === bn && free.get(h.hostId)! > free.get(best.hostId)!)) best = h
      }
      if (best === undefined) continue
      let counts = a.get(best.hostId)
      if (counts === undefined) { counts = new Map(); a.set(best.hostId, counts) }
      counts.set(s.name, (counts.get(s.name) ?? 0) + 1)
      free.set(best.hostId, free.get(best.hostId)! - s.slotsPerReplica)
      missing.set(s.name, missing.get(s.name)! - 1)
      progress = true
    }
  }
  return a
}
