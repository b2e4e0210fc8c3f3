import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Membership, type Peer } from '../../node/core/membership.js'
import { timingsFor } from '../../node/core/config.js'
import type { Heartbeat } from '../../protocol/index.js'

const T = timingsFor('lan')
const LEADER_LIVE = true

function heartbeat (fields: Partial<Heartbeat> = {}): Heartbeat {
  return {
    labels: new Map([['zone', 'a']]), capacity: { slots: 4, cpuMillis: 4000, memoryMib: 8192 }, priority: 1,
    running: [], signals: [], addrs: ['/ip4/10.0.0.1/tcp/4001'], term: 3, leaderId: 'b', planVersion: 2, runtimeOk: true,
    ...fields,
  }
}

/** Every field of a peer (its liveness fields are accessors: a spread would miss them). */
function peerFields (p: Peer): Record<string, unknown> {
  return {
    hostId: p.hostId, incarnation: p.incarnation, heartbeatSeq: p.heartbeatSeq, lastHeardMs: p.lastHeardMs, hintedDownAtMs: p.hintedDownAtMs,
    listedAtMs: p.listedAtMs, state: p.state, labels: p.labels, capacity: p.capacity, priority: p.priority, running: p.running, signals: p.signals,
    addrs: p.addrs, term: p.term, leaderId: p.leaderId, planVersion: p.planVersion, runtimeOk: p.runtimeOk, unavailable: p.unavailable,
  }
}

function joined (...hostIds: string[]): Membership {
  const m = new Membership(T)
  for (const id of hostIds) m.heartbeat(id, 1, 1, heartbeat(), 0)
  return m
}

describe('Membership: states from silence', () => {
  it('adds a peer on its first heartbeat as alive, with what the heartbeat carries', () => {
    const m = new Membership(T)
    assert.deepEqual(m.heartbeat('b', 1, 1, heartbeat(), 100), { hostId: 'b', from: 'unknown', to: 'alive' })
    const p = m.get('b')!
    assert.equal(p.state, 'alive')
    assert.equal(p.lastHeardMs, 100)
    assert.equal(p.labels.get('zone'), 'a')
    assert.deepEqual(p.capacity, { slots: 4, cpuMillis: 4000, memoryMib: 8192 })
    assert.equal(p.term, 3)
    assert.equal(p.leaderId, 'b')
  })

  it('defaults to no capacity when the heartbeat carries none', () => {
    const m = new Membership(T)
    m.heartbeat('b', 1, 1, heartbeat({ capacity: undefined }), 0)
    assert.deepEqual(m.get('b')!.capacity, { slots: 0, cpuMillis: 0, memoryMib: 0 })
  })

  it('turns alive into suspect at suspectAfterMs of silence, dead at deadAfterMs, reaped at reapAfterMs', () => {
    const m = joined('b')
    assert.deepEqual(m.sweep(T.suspectAfterMs - 1, LEADER_LIVE), [])
    assert.deepEqual(m.sweep(T.suspectAfterMs, LEADER_LIVE), [{ hostId: 'b', from: 'alive', to: 'suspect' }])
    assert.deepEqual(m.sweep(T.deadAfterMs - 1, LEADER_LIVE), [])
    assert.deepEqual(m.sweep(T.deadAfterMs, LEADER_LIVE), [{ hostId: 'b', from: 'suspect', to: 'dead' }])
    assert.deepEqual(m.sweep(T.reapAfterMs - 1, LEADER_LIVE), [])
    assert.deepEqual(m.sweep(T.reapAfterMs, LEADER_LIVE), [{ hostId: 'b', from: 'dead', to: 'reaped' }])
    assert.equal(m.get('b'), undefined)
    assert.equal(m.size, 0)
  })

  it('goes straight to dead when the sweep comes late', () => {
    const m = joined('b')
    assert.deepEqual(m.sweep(T.deadAfterMs + 10, LEADER_LIVE), [{ hostId: 'b', from: 'alive', to: 'dead' }])
  })

  it('reaps dead peers without a live leader only after leaderlessReapAfterMs', () => {
    const m = joined('b')
    m.sweep(T.deadAfterMs, false)
    assert.deepEqual(m.sweep(T.reapAfterMs, false), [])
    assert.equal(m.get('b')!.state, 'dead')
    assert.deepEqual(m.sweep(T.leaderlessReapAfterMs - 1, false), [])
    assert.deepEqual(m.sweep(T.leaderlessReapAfterMs, false), [{ hostId: 'b', from: 'dead', to: 'reaped' }])
  })

  it('brings a suspect or dead peer back to alive on its next heartbeat', () => {
    const m = joined('b', 'c')
    m.sweep(T.deadAfterMs, LEADER_LIVE)
    assert.deepEqual(m.heartbeat('b', 1, 2, heartbeat(), T.deadAfterMs), { hostId: 'b', from: 'dead', to: 'alive' })
    assert.equal(m.heartbeat('b', 1, 3, heartbeat(), T.deadAfterMs + 1), undefined, 'alive stays alive: no change')
    assert.deepEqual(m.countByState(), { alive: 1, suspect: 0, dead: 1 })
  })

  it('keeps a peer alive while any message from its incarnation is heard', () => {
    const m = joined('b')
    m.heardFrom('b', 1, T.suspectAfterMs - 1)
    assert.deepEqual(m.sweep(T.suspectAfterMs, LEADER_LIVE), [])
    m.heardFrom('b', 2, T.suspectAfterMs + 100)
    m.heardFrom('b', 1, 10) // out of order: never moves lastHeardMs back
    assert.equal(m.get('b')!.lastHeardMs, T.suspectAfterMs - 1)
    m.heardFrom('nobody', 1, 0)
    assert.equal(m.size, 1)
  })

  it('lists peers sorted by host id, after joins and departures', () => {
    const m = joined('c', 'a', 'b')
    assert.deepEqual(m.sorted().map(p => p.hostId), ['a', 'b', 'c'])
    m.left('b', 1, 0)
    m.heartbeat('aa', 1, 1, heartbeat(), 0)
    assert.deepEqual(m.sorted().map(p => p.hostId), ['a', 'aa', 'c'])
  })
})

describe('Membership: disconnect hints', () => {
  it('makes an alive peer suspect at once on a disconnect', () => {
    const m = joined('b')
    assert.deepEqual(m.disconnected('b', 10), { hostId: 'b', from: 'alive', to: 'suspect' })
    assert.equal(m.get('b')!.state, 'suspect')
    assert.deepEqual(m.sweep(20, LEADER_LIVE), [], 'a sweep does not make it alive again')
  })

  it('ignores other messages while hinted down, and clears on the next heartbeat', () => {
    const m = joined('b')
    m.disconnected('b', 10)
    m.heardFrom('b', 1, 500)
    assert.equal(m.get('b')!.lastHeardMs, 0)
    assert.equal(m.countHeardWithin(600, T.leaderLeaseMs), 0, 'a hinted peer does not count as heard')
    assert.deepEqual(m.heartbeat('b', 1, 2, heartbeat(), 600), { hostId: 'b', from: 'suspect', to: 'alive' })
    assert.equal(m.get('b')!.hintedDownAtMs, undefined)
    assert.equal(m.countHeardWithin(600, T.leaderLeaseMs), 1)
  })

  it('still lets a hinted peer die and be reaped by silence', () => {
    const m = joined('b')
    m.disconnected('b', 10)
    assert.deepEqual(m.sweep(T.deadAfterMs, LEADER_LIVE), [{ hostId: 'b', from: 'suspect', to: 'dead' }])
  })

  it('reports nothing for a disconnect of a peer that is not alive or not known', () => {
    const m = joined('b')
    m.sweep(T.suspectAfterMs, LEADER_LIVE)
    assert.equal(m.disconnected('b', T.suspectAfterMs), undefined)
    assert.equal(m.disconnected('nobody', 0), undefined)
  })
})

describe('Membership: incarnations and stale heartbeats', () => {
  it('drops a replayed or reordered heartbeat as stale, changing nothing', () => {
    const m = new Membership(T)
    m.heartbeat('b', 2, 5, heartbeat(), 100)
    const before = peerFields(m.get('b')!)
    assert.equal(m.heartbeat('b', 2, 5, heartbeat({ term: 9 }), 200), 'stale')
    assert.equal(m.heartbeat('b', 2, 4, heartbeat({ term: 9 }), 200), 'stale')
    assert.equal(m.heartbeat('b', 1, 99, heartbeat({ term: 9 }), 200), 'stale')
    assert.deepEqual(peerFields(m.get('b')!), before)
  })

  it('takes everything from a higher incarnation, whatever its seq (the peer restarted)', () => {
    const m = new Membership(T)
    m.heartbeat('b', 1, 50, heartbeat(), 0)
    m.disconnected('b', 10)
    assert.deepEqual(m.heartbeat('b', 2, 1, heartbeat({ labels: new Map([['zone', 'b']]), term: 4, running: [{ service: 's', replicas: 1 }] }), 20),
      { hostId: 'b', from: 'suspect', to: 'alive' })
    const p = m.get('b')!
    assert.equal(p.incarnation, 2)
    assert.equal(p.heartbeatSeq, 1)
    assert.equal(p.labels.get('zone'), 'b')
    assert.deepEqual(p.running, [{ service: 's', replicas: 1 }])
    assert.equal(p.hintedDownAtMs, undefined)
  })

  it('ignores messages of another incarnation as proof of life', () => {
    const m = new Membership(T)
    m.heartbeat('b', 2, 1, heartbeat(), 0)
    m.heardFrom('b', 1, 1000)
    assert.equal(m.get('b')!.lastHeardMs, 0)
  })
})

describe('Membership: goodbyes and restored members', () => {
  it('removes a peer at once when it says goodbye', () => {
    const m = joined('b')
    assert.deepEqual(m.left('b', 1, 0), { hostId: 'b', from: 'alive', to: 'reaped' })
    assert.equal(m.size, 0)
  })

  it('ignores a goodbye from an older incarnation, or from a peer it does not know', () => {
    const m = new Membership(T)
    m.heartbeat('b', 2, 1, heartbeat(), 0)
    assert.equal(m.left('b', 1, 0), undefined)
    assert.equal(m.left('nobody', 1, 0), undefined)
    assert.equal(m.size, 1)
  })

  it('does not bring a departed peer back on a heartbeat it sent before its goodbye', () => {
    const m = new Membership(T)
    m.heartbeat('b', 1, 5, heartbeat(), 0)
    m.left('b', 1, 0)
    // Gossip delivers an earlier heartbeat late (another mesh path, or a re-send of missed ones).
    assert.equal(m.heartbeat('b', 1, 4, heartbeat(), 100), 'stale')
    assert.equal(m.heartbeat('b', 1, 6, heartbeat(), 100), 'stale', 'nor any later one of the incarnation that left')
    assert.equal(m.size, 0)
  })

  it('takes a departed peer back when it restarts with a higher incarnation', () => {
    const m = new Membership(T)
    m.heartbeat('b', 1, 5, heartbeat(), 0)
    m.left('b', 1, 0)
    assert.deepEqual(m.heartbeat('b', 2, 1, heartbeat(), 100), { hostId: 'b', from: 'unknown', to: 'alive' })
    m.left('b', 2, 0)
    assert.equal(m.heartbeat('b', 2, 1, heartbeat(), 200), 'stale', 'the second goodbye is remembered as well')
  })

  it('remembers a goodbye only as long as the silent peer would have been kept', () => {
    const m = new Membership(T)
    m.heartbeat('b', 1, 5, heartbeat(), 0)
    m.left('b', 1, 0)
    m.sweep(T.reapAfterMs - 1, LEADER_LIVE)
    assert.equal(m.heartbeat('b', 1, 6, heartbeat(), T.reapAfterMs - 1), 'stale')
    m.sweep(T.reapAfterMs, LEADER_LIVE)
    assert.deepEqual(m.heartbeat('b', 1, 6, heartbeat(), T.reapAfterMs), { hostId: 'b', from: 'unknown', to: 'alive' })
  })

  it('restores remembered members as dead, reaped after the rest of reapAfterMs', () => {
    const m = joined('b')
    m.restore(['b', 'c', 'd'], 1000)
    assert.equal(m.size, 3)
    assert.equal(m.get('b')!.state, 'alive', 'a peer already heard is left as it is')
    assert.equal(m.get('c')!.state, 'dead')
    assert.deepEqual(m.sorted().map(p => p.hostId), ['b', 'c', 'd'])
    const reapAtMs = 1000 + T.reapAfterMs - T.deadAfterMs
    m.heartbeat('b', 1, 2, heartbeat(), reapAtMs - 1)
    assert.deepEqual(m.sweep(reapAtMs - 1, LEADER_LIVE), [])
    const reaped = m.sweep(reapAtMs, LEADER_LIVE)
    assert.deepEqual(reaped, [{ hostId: 'c', from: 'dead', to: 'reaped' }, { hostId: 'd', from: 'dead', to: 'reaped' }])
  })

  it('brings a restored member back to alive on its first heartbeat', () => {
    const m = new Membership(T)
    m.restore(['c'], 0)
    assert.deepEqual(m.heartbeat('c', 1, 1, heartbeat(), 10), { hostId: 'c', from: 'dead', to: 'alive' })
  })
})

// ---- property ----------------------------------------------------------------------------

type Event =
  | { kind: 'heartbeat', host: string, incarnation: number, seq: number }
  | { kind: 'heard', host: string, incarnation: number }
  | { kind: 'disconnected', host: string }
  | { kind: 'left', host: string, incarnation: number }
  | { kind: 'sweep', leaderLive: boolean }

const hostArb = fc.constantFrom('a', 'b', 'c')
const eventArb: fc.Arbitrary<{ dtMs: number, event: Event }> = fc.record({
  dtMs: fc.constantFrom(0, 100, 500, 1000, 3000, 20_000),
  event: fc.oneof(
    fc.record({ kind: fc.constant('heartbeat' as const), host: hostArb, incarnation: fc.integer({ min: 1, max: 3 }), seq: fc.integer({ min: 1, max: 6 }) }),
    fc.record({ kind: fc.constant('heard' as const), host: hostArb, incarnation: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('disconnected' as const), host: hostArb }),
    fc.record({ kind: fc.constant('left' as const), host: hostArb, incarnation: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('sweep' as const), leaderLive: fc.boolean() }),
  ),
})

function stateFromSilence (p: Peer, nowMs: number): Peer['state'] {
  const silentMs = nowMs - p.lastHeardMs
  if (silentMs >= T.deadAfterMs) return 'dead'
  return silentMs >= T.suspectAfterMs || p.hintedDownAtMs !== undefined ? 'suspect' : 'alive'
}

describe('Membership properties', () => {
  it('accepts a heartbeat only when newer, never moves (incarnation, seq) back, and a sweep leaves every state as silence says', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 80 }), events => {
      const m = new Membership(T)
      let nowMs = 0
      for (const { dtMs, event } of events) {
        nowMs += dtMs
        const before = m.get('host' in event ? event.host : '')
        const known = before === undefined ? undefined : { incarnation: before.incarnation, seq: before.heartbeatSeq, snapshot: peerFields(before) }
        switch (event.kind) {
          case 'heartbeat': {
            const r = m.heartbeat(event.host, event.incarnation, event.seq, heartbeat(), nowMs)
            if (known !== undefined) {
              const newer = event.incarnation > known.incarnation || (event.incarnation === known.incarnation && event.seq > known.seq)
              assert.equal(r === 'stale', !newer)
              if (r === 'stale') assert.deepEqual(peerFields(m.get(event.host)!), known.snapshot)
            }
            if (r !== 'stale') assert.equal(m.get(event.host)!.state, 'alive')
            break
          }
          case 'heard': m.heardFrom(event.host, event.incarnation, nowMs); break
          case 'disconnected': m.disconnected(event.host, nowMs); break
          case 'left': m.left(event.host, event.incarnation, 0); break
          case 'sweep': {
            m.sweep(nowMs, event.leaderLive)
            const reapMs = event.leaderLive ? T.reapAfterMs : T.leaderlessReapAfterMs
            for (const p of m.values()) {
              assert.ok(nowMs - p.lastHeardMs < reapMs, `${p.hostId} should have been reaped`)
              assert.equal(p.state, stateFromSilence(p, nowMs), p.hostId)
            }
          }
        }
        if (known !== undefined) {
          const after = m.get((event as { host: string }).host)
          if (after !== undefined) {
            assert.ok(after.incarnation > known.incarnation || (after.incarnation === known.incarnation && after.heartbeatSeq >= known.seq))
          }
        }
        const counts = m.countByState()
        assert.equal(counts.alive + counts.suspect + counts.dead, m.size)
        assert.deepEqual(m.sorted().map(p => p.hostId), [...m.values()].map(p => p.hostId).sort())
      }
    }), { numRuns: 200 })
  })
})

/** Every field of every peer, sorted by id: what two memberships must agree on. */
function stateOf (m: Membership): unknown[] {
  return m.sorted().map(peerFields)
}

describe('Membership: a digest taken at once (takeDigest) is its members taken one by one (fromDigest)', () => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f']
  // A digest lists the host taking it too ('self'), as a leader's digest lists every member.
  const memberArb = fc.record({ hostId: fc.constantFrom(...ids, 'self'), incarnation: fc.integer({ min: 1, max: 3 }), ageMs: fc.integer({ min: 0, max: 30_000 }), priority: fc.integer({ min: 0, max: 2 }) })
  const stepArb = fc.oneof(
    // The same members as the last digest, or another list: the kept lookups must follow both.
    fc.record({ kind: fc.constant('digest' as const), again: fc.boolean(), ageMs: fc.integer({ min: 0, max: 1000 }), bump: fc.integer({ min: 0, max: 2 }), members: fc.uniqueArray(memberArb, { selector: m => m.hostId, maxLength: 6 }), sender: fc.constantFrom(...ids), dtMs: fc.integer({ min: 0, max: 3000 }) }),
    fc.record({ kind: fc.constant('heartbeat' as const), host: fc.constantFrom(...ids), incarnation: fc.integer({ min: 1, max: 3 }), seq: fc.integer({ min: 1, max: 9 }), dtMs: fc.integer({ min: 0, max: 3000 }) }),
    fc.record({ kind: fc.constant('left' as const), host: fc.constantFrom(...ids), dtMs: fc.integer({ min: 0, max: 3000 }) }),
    fc.record({ kind: fc.constant('disconnected' as const), host: fc.constantFrom(...ids), dtMs: fc.integer({ min: 0, max: 3000 }) }),
    fc.record({ kind: fc.constant('sweep' as const), leaderLive: fc.boolean(), dtMs: fc.integer({ min: 0, max: 30_000 }) }),
  )
  it('leaves every peer and every change the same, whatever joins, leaves and sweeps come between', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 80 }), steps => {
      const fast = new Membership(T)
      const reference = new Membership(T)
      let nowMs = 0
      let last: { hostId: string, incarnation: number, ageMs: number, priority: number }[] = []
      for (const step of steps) {
        nowMs += step.dtMs
        switch (step.kind) {
          case 'digest': {
            const members = step.again ? last.map(m => ({ ...m, ageMs: step.ageMs, priority: (m.priority + step.bump) % 3 })) : [...step.members].sort((x, y) => x.hostId < y.hostId ? -1 : 1)
            last = members
            const fastChanges: unknown[] = []
            fast.takeDigest(members, step.sender, 'self', nowMs, c => fastChanges.push(c))
            const refChanges: unknown[] = []
            for (const m of members) {
              if (m.hostId === 'self' || m.hostId === step.sender) continue
              const c = reference.fromDigest(m, nowMs)
              if (c !== undefined) refChanges.push(c)
            }
            assert.deepEqual(fastChanges, refChanges)
            break
          }
          case 'heartbeat':
            assert.deepEqual(fast.heartbeat(step.host, step.incarnation, step.seq, heartbeat(), nowMs), reference.heartbeat(step.host, step.incarnation, step.seq, heartbeat(), nowMs))
            break
          case 'left': assert.deepEqual(fast.left(step.host, 2, nowMs), reference.left(step.host, 2, nowMs)); break
          case 'disconnected': assert.deepEqual(fast.disconnected(step.host, nowMs), reference.disconnected(step.host, nowMs)); break
          case 'sweep': assert.deepEqual(fast.sweep(nowMs, step.leaderLive), reference.sweep(nowMs, step.leaderLive)); break
        }
        assert.deepEqual(stateOf(fast), stateOf(reference))
      }
    }), { numRuns: 3000 })
  })

  it('keeps the right peers when a digest lists more members than the last (found by the property above)', () => {
    const fast = new Membership(T)
    fast.heartbeat('b', 1, 1, heartbeat(), 0)
    const member = (hostId: string): { hostId: string, incarnation: number, ageMs: number, priority: number } => ({ hostId, incarnation: 1, ageMs: 0, priority: 0 })
    fast.takeDigest([member('a')], 'd', 'self', 0, () => {})
    fast.takeDigest([member('a'), member('c'), member('f')], 'f', 'self', 100, () => {})
    assert.equal(fast.get('a')!.lastHeardMs, 100)
    assert.equal(fast.get('b')!.priority, 1, 'b was not listed: untouched')
  })

  it('never makes a peer of this host or of the sender when a malformed digest lists them twice', () => {
    const fast = new Membership(T)
    const member = (hostId: string, ageMs = 0): { hostId: string, incarnation: number, ageMs: number, priority: number } => ({ hostId, incarnation: 1, ageMs, priority: 0 })
    const digest = [member('a'), member('d'), member('self'), member('d', 900), member('self', 500)]
    // Twice: the second time the positions of the first are known.
    fast.takeDigest(digest, 'd', 'self', 0, () => {})
    fast.takeDigest(digest, 'd', 'self', 100, () => {})
    assert.deepEqual([...fast.values()].map(p => p.hostId), ['a'])
  })
})
