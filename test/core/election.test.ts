import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { SiteSim, siteHosts } from '../../sim/site-sim.js'
import { TIMING_PROFILES } from '../../node/core/config.js'

const HEARTBEAT_MS = 500

describe('site leader election', () => {
  it('elects exactly one leader per site and every host agrees', () => {
    const c = new SiteSim({ seed: 1, hosts: [...siteHosts('a', 5), ...siteHosts('b', 3)] })
    const at = c.runUntilTrue(() => c.agreedLeader('a') !== undefined && c.agreedLeader('b') !== undefined, 5000)
    assert.ok(at !== undefined, 'both sites agree on a leader within 5 s')
    c.runFor(10_000)
    assert.equal(c.currentLeaders('a').length, 1)
    assert.equal(c.currentLeaders('b').length, 1)
    assert.deepEqual(c.violations, [])
  })

  it('prefers the host with the highest priority', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const hosts = siteHosts('a', 5)
      hosts[3].priority = 10
      const c = new SiteSim({ seed, hosts })
      c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
      // The first election happens before hosts know each other's priority; it is the
      // elections after a failure, with full views, that priority decides.
      const first = c.agreedLeader('a')!
      if (first === 'a-h3') continue
      c.crash(first, true)
      c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
      assert.equal(c.agreedLeader('a'), 'a-h3', `seed ${seed}`)
    }
  })

  it('replaces a leader that crashes silently within about three heartbeats', () => {
    const c = new SiteSim({ seed: 7, hosts: siteHosts('a', 5) })
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    c.runFor(3000)
    const old = c.agreedLeader('a')!
    const crashedAt = c.nowMs
    c.crash(old)
    const at = c.runUntilTrue(() => { const l = c.agreedLeader('a'); return l !== undefined && l !== old }, 10_000, 5)
    assert.ok(at !== undefined, 'a new leader is elected')
    const failoverMs = at - crashedAt
    assert.ok(failoverMs <= 3 * HEARTBEAT_MS + 300, `failover took ${failoverMs} ms`)
    assert.deepEqual(c.violations, [])
  })

  it('replaces a leader at once when the transport reports its disconnect', () => {
    const c = new SiteSim({ seed: 8, hosts: siteHosts('a', 5) })
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    c.runFor(3000)
    const old = c.agreedLeader('a')!
    const crashedAt = c.nowMs
    c.crash(old, true)
    const at = c.runUntilTrue(() => { const l = c.agreedLeader('a'); return l !== undefined && l !== old }, 10_000, 5)
    assert.ok(at !== undefined && at - crashedAt <= HEARTBEAT_MS + 100, `failover took ${at! - crashedAt} ms`)
  })

  it('lets a restarted leader rejoin as a follower with a higher incarnation', () => {
    const c = new SiteSim({ seed: 9, hosts: siteHosts('a', 5) })
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    const old = c.agreedLeader('a')!
    c.crash(old, true)
    c.runUntilTrue(() => { const l = c.agreedLeader('a'); return l !== undefined && l !== old }, 5000)
    const successor = c.agreedLeader('a')!
    c.start(old)
    c.runFor(3000)
    assert.equal(c.agreedLeader('a'), successor, 'the returning host does not depose the new leader')
    assert.equal(c.host(old).core.currentRole, 'follower')
    const peer = c.host(successor).core.members.get(old)
    assert.equal(peer?.incarnation, 2)
    assert.equal(peer?.state, 'alive')
  })

  it('makes a leader cut off from its site step down while the majority elects a successor', () => {
    const c = new SiteSim({ seed: 11, hosts: siteHosts('a', 5) })
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    const old = c.agreedLeader('a')!
    const oldTerm = c.host(old).core.currentTerm
    c.partition([[old]])
    c.runFor(5000)
    assert.notEqual(c.host(old).core.currentRole, 'leader', 'the isolated leader stepped down')
    const majority = c.currentLeaders('a')
    assert.equal(majority.length, 1)
    assert.ok(majority[0].term > oldTerm)
    c.heal()
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    assert.equal(c.currentLeaders('a').length, 1, 'one leader after the heal')
    assert.deepEqual(c.violations, [])
  })

  it('never lets a cut-off minority of a site elect a leader, even after the majority reaped it', () => {
    const c = new SiteSim({ seed: 12, hosts: siteHosts('a', 5) })
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    const leader = c.agreedLeader('a')!
    const minority = [...c.hosts.keys()].filter(id => id !== leader).slice(0, 2)
    c.partition([minority])
    c.runFor(60_000)
    assert.equal(c.host(leader).core.members.size, 2, 'the majority reaped the minority')
    c.crash(leader, true)
    c.runFor(240_000)
    for (const id of minority) assert.notEqual(c.host(id).core.currentRole, 'leader')
    assert.equal(c.currentLeaders('a').length, 1, 'the majority re-elected without the minority')
    c.heal()
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 10_000)
    assert.equal(c.currentLeaders('a').length, 1)
    assert.deepEqual(c.violations, [])
  })

  it('lets the survivors of a site that lost its majority for good elect after leaderlessReapAfterMs', () => {
    const c = new SiteSim({ seed: 13, hosts: siteHosts('a', 5), timings: { leaderlessReapAfterMs: 120_000 } })
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    const leader = c.agreedLeader('a')!
    const doomed = [leader, ...[...c.hosts.keys()].filter(id => id !== leader).slice(0, 2)]
    for (const id of doomed) c.crash(id)
    c.runFor(100_000)
    assert.equal(c.currentLeaders('a').length, 0, 'no leader without a majority')
    assert.ok(c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 40_000, 100) !== undefined, 'the survivors elect once they reap the lost hosts')
    assert.deepEqual(c.violations, [])
  })

  it('never elects two leaders in one term, whatever the delivery order, loss and crashes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 2 ** 30 }),
      fc.integer({ min: 2, max: 7 }),
      fc.integer({ min: 0, max: 200 }),
      fc.double({ min: 0, max: 0.3, noNaN: true }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.integer({ min: 200, max: 4000 })), { maxLength: 6 }),
      (seed, n, maxDelay, lossRate, faults) => {
        const c = new SiteSim({ seed, hosts: siteHosts('a', n), delayMs: [0, maxDelay], lossRate })
        const terms = new Map<string, number>()
        const checkTerms = (): void => {
          for (const [id, h] of c.hosts) {
            const before = terms.get(`${id}/${h.incarnation}`) ?? 0
            assert.ok(h.core.currentTerm >= before, 'terms only grow')
            terms.set(`${id}/${h.incarnation}`, h.core.currentTerm)
          }
        }
        for (const [i, hint, gap] of faults) {
          c.runFor(gap)
          checkTerms()
          const id = `a-h${i % n}`
          if (c.host(id).up) c.crash(id, hint)
          else c.start(id)
        }
        c.runFor(5000)
        checkTerms()
        assert.deepEqual(c.violations, [])
      }), { numRuns: 150 })
  })

  it('does not elect two first leaders when hosts that start together have not heard each other', () => {
    // Found by the property above (seed 800886968 on the cluster of test/core/cluster.ts; on the
    // site sim, a search of seeds 1–20000 without bootstrapExpect, again after vote requests
    // began to introduce their sender and ranks to wait log2(1 + rank) staggers): two hosts,
    // 28% loss, both heartbeats lost before standing. Without bootstrapExpect each elects itself in term 1.
    const options = { seed: 19514, hosts: siteHosts('a', 2), delayMs: [0, 0] as [number, number], lossRate: 0.28108923253603285 }
    const unguarded = new SiteSim({ ...options, withoutBootstrapExpect: true })
    unguarded.runFor(5000)
    assert.match(unguarded.violations.join(), /single-leader-per-term/, 'the seed still reaches the situation')
    const c = new SiteSim(options)
    c.runFor(5000)
    assert.deepEqual(c.violations, [])
  })

  it('keeps a large site to few candidates: a host that hears another campaign does not stand that round', () => {
    for (const seed of [1, 2, 3]) {
      const c = new SiteSim({ seed, hosts: siteHosts('a', 50), delayMs: [5, 40] })
      const at = c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 30_000)
      assert.ok(at !== undefined, `seed ${seed}: 50 hosts agree on a leader`)
      let candidacies = 0
      for (const h of c.hosts.values()) candidacies += h.events.filter(e => e.kind === 'election-started').length
      // Every candidacy costs a site-wide round of votes. Measured on these seeds with the
      // cluster these tests ran on before the site sim: 65–100 candidacies before the two rules
      // (deferring while another host campaigns; a stagger step of at least 1/8 of
      // electionStaggerMs), 21–29 with them; on the site sim (sim/site-sim.ts), 16–23; 2 (one
      // pre-vote round and one vote round) since ranks wait log2(1 + rank) staggers, the first
      // election re-ranks among all bootstrapExpect members and pre-votes prefer the first rank.
      assert.ok(candidacies <= 40, `seed ${seed}: ${candidacies} candidacies (pre-vote rounds included)`)
      c.runFor(10_000)
      assert.equal(c.currentLeaders('a').length, 1)
      assert.deepEqual(c.violations, [])
    }
  })

  it('keeps a large site to few candidates when deliveries take longer than the stagger, on the default timings', () => {
    // 100–500 ms deliveries: a busy machine's event loops. With linear stagger steps of 31 ms
    // and pre-votes granted first come, first served, such a site had 10–44 candidacies
    // before electing; voters now move their pre-vote to the first-ranked candidate and a
    // standing host stands aside for it.
    for (const seed of [1, 2, 3]) {
      const c = new SiteSim({ seed, hosts: siteHosts('a', 50), delayMs: [100, 500] })
      const at = c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 30_000)
      assert.ok(at !== undefined, `seed ${seed}: 50 hosts agree on a leader`)
      let candidacies = 0
      for (const h of c.hosts.values()) candidacies += h.events.filter(e => e.kind === 'election-started').length
      assert.ok(candidacies <= 10, `seed ${seed}: ${candidacies} candidacies (pre-vote rounds included)`)
      assert.deepEqual(c.violations, [])
    }
  })

  it('elects a leader in a large site whose messages take longer than an election round', () => {
    // Hosts too busy to answer promptly (50 daemons on 2 cores while they all connect) look
    // like this: votes come back 0.5-3 s later, past a 2 s round. Before pre-votes were
    // exclusive and rounds backed off, no seed here elected anyone within 150 s; then 75–85 s;
    // 17–19 s since candidates announce their round and pre-votes prefer the first rank
    // (most of it learning the 50 members from heartbeats paced to one per 35 s).
    const timings = { ...TIMING_PROFILES.wan, heartbeatIntervalMs: 5000, suspectAfterMs: 15_000, deadAfterMs: 40_000, leaderTimeoutMs: 10_000, leaderLeaseMs: 20_000 }
    for (const seed of [1, 2, 3]) {
      const c = new SiteSim({ seed, hosts: siteHosts('a', 50), timings, delayMs: [500, 3000] })
      const at = c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 150_000)
      assert.ok(at !== undefined, `seed ${seed}: 50 hosts agree on a leader within 150 s`)
      c.runFor(30_000)
      assert.equal(c.currentLeaders('a').length, 1)
      assert.deepEqual(c.violations, [])
    }
  })

  it('converges to one leader after loss stops', () => {
    const c = new SiteSim({ seed: 21, hosts: siteHosts('a', 7), delayMs: [0, 150], lossRate: 0.2 })
    c.runFor(20_000)
    assert.ok(c.currentLeaders('a').length <= 1)
    assert.deepEqual(c.violations, [])
  })
})
