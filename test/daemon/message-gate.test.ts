import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeMessage, PROTOCOL_LIMITS, PROTOCOL_MINOR, type Message } from '../../protocol/index.js'
import { TRUST_LIMITS } from '../../node/core/config.js'
import { MessageGate, REPLAY_WINDOW } from '../../node/daemon/message-gate.js'

function msg (fields: Partial<Message> = {}): Uint8Array {
  return encodeMessage({ minor: PROTOCOL_MINOR, sender: 'h2', site: 'a', incarnation: 1, seq: 1, sentAtMs: 1, body: { kind: 'leave' }, ...fields })
}

const QUIET_MS = 30_000
const gate = (): MessageGate => new MessageGate({ site: 'a', hostId: 'h1', ownPeerId: 'P1', maxTrackedSenders: 4, rebindQuietMs: QUIET_MS })

describe('message gate', () => {
  it('accepts a well-formed message for this site and binds its host id to the peer id', () => {
    const g = gate()
    const v = g.check('site', 'P2', msg(), 0)
    assert.equal(v.verdict, 'accept')
    assert.equal(g.hostOf('P2'), 'h2')
    assert.equal(g.peerOf('h2'), 'P2')
  })

  it('rejects garbage, a wrong version and an oversize message, by reason', () => {
    const g = gate()
    assert.deepEqual(g.check('site', 'P2', Uint8Array.from([1, 0xff, 0xff, 0xff, 7]), 0), { verdict: 'reject', reason: 'malformed' })
    assert.deepEqual(g.check('site', 'P2', Uint8Array.from([9, 1, 2]), 0), { verdict: 'reject', reason: 'version' })
    assert.deepEqual(g.check('site', 'P2', new Uint8Array(PROTOCOL_LIMITS.maxEncodedBytes + 1).fill(1), 0), { verdict: 'reject', reason: 'too-large' })
    assert.deepEqual(g.check('site', undefined, msg(), 0), { verdict: 'reject', reason: 'unsigned' })
  })

  it('rejects another site\'s message and a body on the wrong topic', () => {
    const g = gate()
    assert.deepEqual(g.check('site', 'P2', msg({ site: 'b' }), 0), { verdict: 'reject', reason: 'wrong-site' })
    assert.deepEqual(g.check('global', 'P2', msg(), 0), { verdict: 'reject', reason: 'wrong-topic' })
  })

  it('takes only this site\'s heartbeats on the leader\'s inbox topic', () => {
    const g = gate()
    const heartbeat = { kind: 'heartbeat' as const, heartbeat: { labels: new Map(), priority: 0, running: [], signals: [], addrs: [], term: 1, leaderId: 'h1', planVersion: 0, runtimeOk: true } }
    assert.equal(g.check('leader', 'P2', msg({ seq: 1, body: heartbeat }), 0).verdict, 'accept')
    assert.deepEqual(g.check('leader', 'P2', msg({ seq: 2 }), 0), { verdict: 'reject', reason: 'wrong-topic' }, 'a goodbye goes to the site topic')
    assert.deepEqual(g.check('leader', 'P3', msg({ sender: 'h3', site: 'b', body: heartbeat }), 0), { verdict: 'reject', reason: 'wrong-site' })
  })

  it('takes only votes for this host, from this site, on its own inbox topic', () => {
    const g = gate()
    const vote = (candidateId: string): Message['body'] => ({ kind: 'vote', vote: { term: 1, candidateId, granted: true, preVote: true } })
    assert.equal(g.check('inbox', 'P2', msg({ seq: 1, body: vote('h1') }), 0).verdict, 'accept')
    assert.deepEqual(g.check('inbox', 'P2', msg({ seq: 2, body: vote('h3') }), 0), { verdict: 'reject', reason: 'wrong-topic' }, 'a vote for another host')
    assert.deepEqual(g.check('inbox', 'P2', msg({ seq: 3 }), 0), { verdict: 'reject', reason: 'wrong-topic' }, 'a goodbye goes to the site topic')
    assert.deepEqual(g.check('inbox', 'P3', msg({ sender: 'h3', site: 'b', body: vote('h1') }), 0), { verdict: 'reject', reason: 'wrong-site' })
  })

  it('takes only this site\'s digests on its own digest topic', () => {
    const g = gate()
    const digest: Message['body'] = { kind: 'siteDigest', siteDigest: { term: 1, planVersion: 0, members: [{ hostId: 'h1', incarnation: 1, ageMs: 0, priority: 0 }], leaderAddrs: [] } }
    assert.equal(g.check('digest', 'P2', msg({ seq: 1, body: digest }), 0).verdict, 'accept')
    assert.deepEqual(g.check('digest', 'P2', msg({ seq: 2 }), 0), { verdict: 'reject', reason: 'wrong-topic' }, 'a goodbye goes to the site topic')
    assert.deepEqual(g.check('digest', 'P3', msg({ sender: 'h3', site: 'b', body: digest }), 0), { verdict: 'reject', reason: 'wrong-site' })
  })

  it('rejects replays: a seen seq, a seq older than the window, an older incarnation', () => {
    const g = gate()
    assert.equal(g.check('site', 'P2', msg({ seq: 10 }), 0).verdict, 'accept')
    assert.equal(g.check('site', 'P2', msg({ seq: 8 }), 0).verdict, 'accept', 'out of order within the window is fine')
    assert.deepEqual(g.check('site', 'P2', msg({ seq: 8 }), 0), { verdict: 'reject', reason: 'replayed' })
    assert.deepEqual(g.check('site', 'P2', msg({ seq: 10 }), 0), { verdict: 'reject', reason: 'replayed' })
    assert.equal(g.check('site', 'P2', msg({ seq: 10 + REPLAY_WINDOW }), 0).verdict, 'accept')
    assert.deepEqual(g.check('site', 'P2', msg({ seq: 10 }), 0), { verdict: 'reject', reason: 'replayed' })
    assert.equal(g.check('site', 'P2', msg({ incarnation: 2, seq: 1 }), 0).verdict, 'accept', 'a restart starts over')
    assert.deepEqual(g.check('site', 'P2', msg({ incarnation: 1, seq: 500 }), 0), { verdict: 'reject', reason: 'replayed' })
  })

  it('rejects a peer that speaks for a host id bound to another peer, or for this host', () => {
    const g = gate()
    g.check('site', 'P2', msg({ seq: 1 }), 0)
    assert.deepEqual(g.check('site', 'P3', msg({ seq: 2 }), 0), { verdict: 'reject', reason: 'impersonation' })
    assert.deepEqual(g.check('site', 'P3', msg({ sender: 'h1' }), 0), { verdict: 'reject', reason: 'impersonation' })
    assert.deepEqual(g.check('site', 'P3', msg({ incarnation: 2 }), QUIET_MS - 1), { verdict: 'reject', reason: 'impersonation' }, 'not while the bound peer speaks')
    assert.equal(g.check('site', 'P3', msg({ incarnation: 2 }), QUIET_MS).verdict, 'accept', 'a higher incarnation may rebind once the bound peer is quiet (a lost key file)')
    assert.equal(g.peerOf('h2'), 'P3')
  })

  it('refuses an incarnation that jumps beyond the bound, from any peer', () => {
    const g = gate()
    g.check('site', 'P2', msg({ incarnation: 3 }), 0)
    assert.deepEqual(g.check('site', 'P2', msg({ incarnation: 3 + TRUST_LIMITS.incarnationJumpMax + 1 }), 1), { verdict: 'reject', reason: 'incarnation-jump' })
    assert.deepEqual(g.check('site', 'P3', msg({ incarnation: Number.MAX_SAFE_INTEGER }), QUIET_MS), { verdict: 'reject', reason: 'incarnation-jump' })
    assert.equal(g.check('site', 'P2', msg({ incarnation: 4 }), QUIET_MS + 1).verdict, 'accept', 'the real host restarts as usual')
  })

  it('when full, forgets the least recently heard sender only once it is quiet, else ignores the newcomer', () => {
    const g = gate()
    for (let i = 0; i < 4; i++) g.check('site', `P${10 + i}`, msg({ sender: `x${i}` }), i)
    assert.deepEqual(g.check('site', 'P20', msg({ sender: 'y' }), 100), { verdict: 'ignore', reason: 'sender-table-full' }, 'nobody quiet: no live binding is evicted')
    assert.equal(g.peerOf('x0'), 'P10')
    assert.equal(g.check('site', 'P20', msg({ sender: 'y' }), QUIET_MS).verdict, 'accept', 'x0 has been quiet long enough')
    assert.equal(g.trackedSenders, 4)
    assert.equal(g.peerOf('x0'), undefined)
    assert.equal(g.peerOf('y'), 'P20')
  })
})
