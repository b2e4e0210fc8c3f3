/**
 * Leader-centric membership in the deterministic site simulation (SiteSim) (docs/membership.md): a member's
 * message rate does not grow with its site, a host that missed the election follows the leader
 * through members' answers to its broadcast heartbeat, and a silent host is detected by the
 * leader and, through its digest, by every member. Times are SiteSim's simulated clock.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_TIMINGS } from '../../node/core/config.js'
import { SiteSim, siteHosts } from '../../sim/site-sim.js'

const IDLE_WINDOW_MS = 10_000

/** Settles a site, then counts what each host receives over an idle window: the members' mean and the leader's. */
function idleRates (n: number, seed: number): { member: number, leader: number } {
  const c = new SiteSim({ seed, hosts: siteHosts('a', n) })
  const settled = c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 20_000)
  assert.ok(settled !== undefined, `seed ${seed}: ${n} hosts agree on a leader`)
  c.runFor(5000)
  const leader = c.agreedLeader('a')!
  const before = new Map([...c.hosts].map(([id, h]) => [id, h.received]))
  c.runFor(IDLE_WINDOW_MS)
  assert.equal(c.agreedLeader('a'), leader, `seed ${seed}: the leader held through the window`)
  const perS = (id: string): number => (c.host(id).received - before.get(id)!) / (IDLE_WINDOW_MS / 1000)
  const members = [...c.hosts.keys()].filter(id => id !== leader)
  return { member: members.reduce((sum, id) => sum + perS(id), 0) / members.length, leader: perS(leader) }
}

describe('leader-centric membership', () => {
  it('keeps what a member receives per second the same in a site of 5 and of 40 hosts; the leader\'s grows with the site', () => {
    for (const seed of [1, 2, 3]) {
      const small = idleRates(5, seed)
      const large = idleRates(40, seed)
      // A member hears the leader's digest once per heartbeat interval and its plan now and then.
      const digestsPerS = 1000 / DEFAULT_TIMINGS.heartbeatIntervalMs
      assert.ok(small.member >= digestsPerS * 0.9 && small.member <= digestsPerS * 1.5, `seed ${seed}: ${small.member}/s at 5 hosts`)
      assert.ok(large.member <= small.member * 1.1, `seed ${seed}: a member receives ${large.member}/s at 40 hosts, ${small.member}/s at 5`)
      // The leader hears every member's heartbeat: (n − 1) per interval.
      assert.ok(large.leader >= 39 * digestsPerS * 0.9, `seed ${seed}: the leader of 40 receives ${large.leader}/s`)
    }
  })

  it('lets a host that missed the election follow the sitting leader through members\' answers, without a new term', () => {
    for (const seed of [4, 5, 6]) {
      const c = new SiteSim({ seed, hosts: siteHosts('a', 7) })
      assert.ok(c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 20_000) !== undefined, `seed ${seed}: a leader`)
      const leader = c.agreedLeader('a')!
      const term = c.host(leader).core.currentTerm
      const late = [...c.hosts.keys()].find(id => id !== leader)!
      c.crash(late, true)
      c.runFor(3000)
      c.start(late)
      const at = c.runUntilTrue(() => c.host(late).core.currentLeaderId === leader, 5000)
      assert.ok(at !== undefined, `seed ${seed}: ${late} follows ${leader} again`)
      assert.equal(c.host(leader).core.currentTerm, term, `seed ${seed}: no election`)
      c.runFor(2000)
      assert.equal(c.host(leader).core.peerState(late), 'alive', `seed ${seed}: the leader hears ${late}'s heartbeats`)
      assert.equal(c.violations.length, 0)
    }
  })

  it('detects a silent member at the leader and, from its digest, at every member within 3 s', () => {
    for (const seed of [7, 8, 9]) {
      const c = new SiteSim({ seed, hosts: siteHosts('a', 6) })
      assert.ok(c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 20_000) !== undefined, `seed ${seed}: a leader`)
      c.runFor(3000)
      const leader = c.agreedLeader('a')!
      const silent = [...c.hosts.keys()].find(id => id !== leader)!
      c.crash(silent) // no disconnect hint: silence alone
      const others = [...c.hosts.keys()].filter(id => id !== silent)
      const at = c.runUntilTrue(() => others.every(id => c.host(id).core.peerState(silent) !== 'alive'), 3000)
      assert.ok(at !== undefined, `seed ${seed}: every host sees ${silent} as suspect within 3 s`)
      assert.equal(c.agreedLeader('a'), leader, `seed ${seed}: the leader is unaffected`)
    }
  })
})
