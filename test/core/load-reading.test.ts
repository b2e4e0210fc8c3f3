import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { aggregateReadings, missingReading, type HostSamples } from '../../node/core/load-reading.js'
import { encodeMessage, PROTOCOL_MINOR, type SignalSample, type SiteSummary } from '../../protocol/index.js'
import { serviceSpec } from '../../node/core/service-spec.js'
import { SiteSim, siteHosts } from '../../sim/site-sim.js'

const MAX_AGE_MS = 5000
const NOW_MS = 100_000

function sample (service: string, value: number, ageMs = 0, upstream = false): SignalSample {
  return { service, value, ageMs, upstream }
}

function host (signals: SignalSample[], receivedAtMs = NOW_MS, reachable = true): HostSamples {
  return { signals, receivedAtMs, reachable }
}

describe('aggregateReadings', () => {
  it('sums fresh samples of a service across hosts: fresh', () => {
    const r = aggregateReadings([host([sample('a', 3)]), host([sample('a', 4), sample('b', 1)])], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.load.get('a'), { status: 'fresh', total: 7, reporters: 2, staleReporters: 0 })
    assert.deepEqual(r.load.get('b'), { status: 'fresh', total: 1, reporters: 1, staleReporters: 0 })
  })

  it('counts a sample as fresh up to exactly the max age, heartbeat delay and sample age together', () => {
    const edge = aggregateReadings([host([sample('a', 5, 2000)], NOW_MS - 3000)], NOW_MS, MAX_AGE_MS)
    assert.equal(edge.load.get('a')!.status, 'fresh')
    const over = aggregateReadings([host([sample('a', 5, 2001)], NOW_MS - 3000)], NOW_MS, MAX_AGE_MS)
    assert.equal(over.load.get('a')!.status, 'missing')
  })

  it('is partial when some reporter is stale, with the fresh samples as a lower bound', () => {
    const r = aggregateReadings([
      host([sample('a', 3)]),
      host([sample('a', 100)], NOW_MS - MAX_AGE_MS - 1),
    ], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.load.get('a'), { status: 'partial', total: 3, reporters: 2, staleReporters: 1 })
  })

  it('treats every sample of an unreachable host as stale, whatever its age', () => {
    const r = aggregateReadings([host([sample('a', 3)]), host([sample('a', 9)], NOW_MS, false)], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.load.get('a'), { status: 'partial', total: 3, reporters: 2, staleReporters: 1 })
  })

  it('is missing when no reporter is fresh, with total 0', () => {
    const r = aggregateReadings([
      host([sample('a', 3, MAX_AGE_MS + 1)]),
      host([sample('a', 9)], NOW_MS, false),
    ], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.load.get('a'), { status: 'missing', total: 0, reporters: 2, staleReporters: 2 })
  })

  it('has no reading for a service nobody reports (the caller treats it as missing)', () => {
    const r = aggregateReadings([host([sample('a', 1)])], NOW_MS, MAX_AGE_MS)
    assert.equal(r.load.get('b'), undefined)
    assert.deepEqual(missingReading(), { status: 'missing', total: 0, reporters: 0, staleReporters: 0 })
    assert.ok(Object.isFrozen(missingReading()))
  })

  it('keeps upstream saturation apart from load, as the highest fresh value', () => {
    const r = aggregateReadings([
      host([sample('broker', 0.4, 0, true), sample('a', 2)]),
      host([sample('broker', 0.7, 0, true)]),
      host([sample('broker', 0.99, 0, true)], NOW_MS, false),
    ], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.upstream.get('broker'), { saturation: 0.7 })
    assert.equal(r.load.get('broker'), undefined)
    assert.deepEqual(r.load.get('a'), { status: 'fresh', total: 2, reporters: 1, staleReporters: 0 })
  })

  it('reports an upstream with only stale samples as of unknown saturation', () => {
    const r = aggregateReadings([host([sample('broker', 0.9, MAX_AGE_MS + 1, true)])], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.upstream.get('broker'), { saturation: undefined })
  })

  it('returns empty maps for no hosts', () => {
    const r = aggregateReadings([], NOW_MS, MAX_AGE_MS)
    assert.equal(r.load.size, 0)
    assert.equal(r.upstream.size, 0)
  })

  it('agrees with a direct count: status from stale reporters, total from fresh samples', () => {
    const hostArb = fc.record({
      reachable: fc.boolean(),
      delayMs: fc.integer({ min: 0, max: 2 * MAX_AGE_MS }),
      signals: fc.array(fc.record({
        service: fc.constantFrom('a', 'b', 'c'),
        value: fc.integer({ min: 0, max: 1000 }),
        ageMs: fc.integer({ min: 0, max: 2 * MAX_AGE_MS }),
        upstream: fc.boolean(),
      }), { maxLength: 4 }),
    })
    fc.assert(fc.property(fc.array(hostArb, { maxLength: 8 }), hosts => {
      const input = hosts.map(h => host(h.signals, NOW_MS - h.delayMs, h.reachable))
      const r = aggregateReadings(input, NOW_MS, MAX_AGE_MS)
      for (const service of ['a', 'b', 'c']) {
        let reporters = 0
        let stale = 0
        let total = 0
        let saturation: number | undefined
        let upstreamSeen = false
        for (const h of hosts) {
          for (const s of h.signals) {
            if (s.service !== service) continue
            const fresh = h.reachable && h.delayMs + s.ageMs <= MAX_AGE_MS
            if (s.upstream) {
              upstreamSeen = true
              if (fresh) saturation = Math.max(saturation ?? -Infinity, s.value)
              continue
            }
            reporters++
            if (fresh) total += s.value
            else stale++
          }
        }
        const load = r.load.get(service)
        if (reporters === 0) assert.equal(load, undefined)
        else {
          const status = stale === 0 ? 'fresh' : stale < reporters ? 'partial' : 'missing'
          assert.deepEqual(load, { status, total, reporters, staleReporters: stale })
        }
        assert.deepEqual(r.upstream.get(service), upstreamSeen ? { saturation } : undefined)
      }
    }), { numRuns: 200 })
  })

  describe('site-wide samples', () => {
    const wide = (service: string, value: number, ageMs = 0): SignalSample => ({ ...sample(service, value, ageMs), siteWide: true })

    it('takes the freshest report instead of summing the hosts that read the same value', () => {
      const r = aggregateReadings([host([wide('q', 40, 300)]), host([wide('q', 42, 100)]), host([wide('q', 41, 200)])], NOW_MS, MAX_AGE_MS)
      assert.deepEqual(r.load.get('q'), { status: 'fresh', total: 42, reporters: 1, staleReporters: 0 })
    })

    it('stays fresh while one reporter is fresh: the others are redundancy', () => {
      const r = aggregateReadings([host([wide('q', 50, 9000)]), host([wide('q', 7)], NOW_MS, false), host([wide('q', 9, 10)])], NOW_MS, MAX_AGE_MS)
      assert.deepEqual(r.load.get('q'), { status: 'fresh', total: 9, reporters: 1, staleReporters: 0 })
    })

    it('is missing when every report is stale, and never reports a stale value', () => {
      const r = aggregateReadings([host([wide('q', 50, 9000)]), host([wide('q', 7)], NOW_MS, false)], NOW_MS, MAX_AGE_MS)
      assert.deepEqual(r.load.get('q'), { status: 'missing', total: 0, reporters: 1, staleReporters: 1 })
    })

    it('adds the site-wide value to the host shares as one more reporter', () => {
      const fresh = aggregateReadings([host([sample('q', 3), wide('q', 10)]), host([sample('q', 4), wide('q', 11, 50)])], NOW_MS, MAX_AGE_MS)
      assert.deepEqual(fresh.load.get('q'), { status: 'fresh', total: 17, reporters: 3, staleReporters: 0 })
      const partial = aggregateReadings([host([sample('q', 3), wide('q', 10, 9000)])], NOW_MS, MAX_AGE_MS)
      assert.deepEqual(partial.load.get('q'), { status: 'partial', total: 3, reporters: 2, staleReporters: 1 })
    })
  })
})

describe('aggregateReadings: totals stay finite (issue 11)', () => {
  /** Finite doubles, half of them within a factor of 2 of the largest double. */
  const hugeOrAny = fc.oneof(
    fc.double({ min: 1e307, max: Number.MAX_VALUE, noNaN: true }),
    fc.double({ min: -Number.MAX_VALUE, max: -1e307, noNaN: true }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  )
  const hostsArb = fc.array(fc.record({
    value: hugeOrAny,
    siteWide: fc.boolean(),
    upstream: fc.boolean(),
    ageMs: fc.integer({ min: 0, max: MAX_AGE_MS * 2 }),
  }, { noNullPrototype: true }), { minLength: 1, maxLength: 12 })

  it('gives a finite total for any finite samples, and a site summary that encodes', () => {
    fc.assert(fc.property(hostsArb, (specs) => {
      const hosts = specs.map(s => host([{ ...sample('a', s.value, s.ageMs, s.upstream), ...(s.siteWide ? { siteWide: true } : {}) }]))
      const r = aggregateReadings(hosts, NOW_MS, MAX_AGE_MS)
      const reading = r.load.get('a') ?? missingReading()
      assert.ok(Number.isFinite(reading.total), `total ${reading.total}`)
      const summary: SiteSummary = { term: 1, hostsAlive: hosts.length, slotsTotal: 8, slotsFree: 8, services: [{ service: 'a', desired: 1, running: 1, load: reading.total, unplaced: 0 }] }
      encodeMessage({ minor: PROTOCOL_MINOR, sender: 'h1', site: 's', incarnation: 1, seq: 1, sentAtMs: 0, body: { kind: 'siteSummary', siteSummary: summary } })
    }), { numRuns: 500 })
  })

  it('saturates at the largest double when host shares overflow, instead of Infinity', () => {
    const r = aggregateReadings([host([sample('a', 1e308)]), host([sample('a', 1e308)]), host([sample('a', 1e308)])], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.load.get('a'), { status: 'fresh', total: Number.MAX_VALUE, reporters: 3, staleReporters: 0 })
  })

  it('counts a sample that is not finite as stale rather than poisoning the sum', () => {
    const r = aggregateReadings([host([sample('a', 3)]), host([sample('a', NaN)]), host([sample('a', Infinity)])], NOW_MS, MAX_AGE_MS)
    assert.deepEqual(r.load.get('a'), { status: 'partial', total: 3, reporters: 3, staleReporters: 2 })
  })

  it('lets a leader whose hosts report 1e308 each publish its site summary and scale to the maximum', () => {
    const spec = serviceSpec('a', { targetPerReplica: 10, maxReplicas: 4 })
    const c = new SiteSim({ seed: 7, hosts: siteHosts('s', 3), services: [spec] })
    c.runUntilTrue(() => c.agreedLeader('s') !== undefined, 5000)
    const leader = c.agreedLeader('s')!
    // The site sim encodes every published message with the real codec: an infinite load in the
    // summary would be refused, and kept as a violation (message-encodable).
    for (const h of c.hosts.keys()) c.setSignal(h, 'a', 1e308)
    c.runFor(5000)
    const lv = c.host(leader).core.leaderView!
    assert.equal(lv.load.get('a'), Number.MAX_VALUE)
    assert.equal(lv.scalers.get('a')!.replicas, 4)
    assert.deepEqual(c.violations, [])
  })
})
