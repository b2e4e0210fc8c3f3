import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeMessage, PROTOCOL_LIMITS, PROTOCOL_MINOR, type Message } from '../../protocol/index.js'
import { MessageGate, REPLAY_WINDOW } from '../../node/daemon/message-gate.js'

function msg (fields: Partial<Message> = {}): Uint8Array {
  return encodeMessage({ minor: PROTOCOL_MINOR, sender: 'h2', site: 'a', incarnation: 1, seq: 1, sentAtMs: 1, body: { kind: 'leave' }, ...fields })
}

const gate = (): MessageGate => new MessageGate({ site: 'a', hostId: 'h1', ownPeerId: 'P1', maxTrackedSenders: 4 })

describe('message gate', () => {
  it('accepts a well-formed message for this site and binds its host id to the peer id', () => {
    const g = gate()
    const v = g.check('site', 'P2', msg())
    assert.equal(v.verdict, 'accept')
    assert.equal(g.hostOf('P2'), 'h2')
    assert.equal(g.peerOf('h2'), 'P2')
  })

  it('rejects garbage, a wrong version and an oversize message, by reason', () => {
    const g = gate()
    assert.deepEqual(g.check('site', 'P2', Uint8Array.from([1, 0xff, 0xff, 0xff, 7])), { verdict: 'reject', reason: 'malformed' })
    assert.deepEqual(g.check('site', 'P2', Uint8Array.from([9, 1, 2])), { verdict: 'reject', reason: 'version' })
    assert.deepEqual(g.check('site', 'P2', new Uint8Array(PROTOCOL_LIMITS.maxEncodedBytes + 1).fill(1)), { verdict: 'reject', reason: 'too-large' })
    assert.deepEqual(g.check('site', undefined, msg()), { verdict: 'reject', reason: 'unsigned' })
  })

  it('rejects another site\'s message and a body on the wrong topic', () => {
    const g = gate()
    assert.deepEqual(g.check('site', 'P2', msg({ site: 'b' })), { verdict: 'reject', reason: 'wrong-site' })
    assert.deepEqual(g.check('global', 'P2', msg()), { verdict: 'reject', reason: 'wrong-topic' })
  })

  it('rejects replays: a seen seq, a seq older than the window, an older incarnation', () => {
    const g = gate()
    assert.equal(g.check('site', 'P2', msg({ seq: 10 })).verdict, 'accept')
    assert.equal(g.check('site', 'P2', msg({ seq: 8 })).verdict, 'accept', 'out of order within the window is fine')
    assert.deepEqual(g.check('site', 'P2', msg({ seq: 8 })), { verdict: 'reject', reason: 'replayed' })
    assert.deepEqual(g.check('site', 'P2', msg({ seq: 10 })), { verdict: 'reject', reason: 'replayed' })
    assert.equal(g.check('site', 'P2', msg({ seq: 10 + REPLAY_WINDOW })).verdict, 'accept')
    assert.deepEqual(g.check('site', 'P2', msg({ seq: 10 })), { verdict: 'reject', reason: 'replayed' })
    assert.equal(g.check('site', 'P2', msg({ incarnation: 2, seq: 1 })).verdict, 'accept', 'a restart starts over')
    assert.deepEqual(g.check('site', 'P2', msg({ incarnation: 1, seq: 500 })), { verdict: 'reject', reason: 'replayed' })
  })

  it('rejects a peer that speaks for a host id bound to another peer, or for this host', () => {
    const g = gate()
    g.check('site', 'P2', msg({ seq: 1 }))
    assert.deepEqual(g.check('site', 'P3', msg({ seq: 2 })), { verdict: 'reject', reason: 'impersonation' })
    assert.deepEqual(g.check('site', 'P3', msg({ sender: 'h1' })), { verdict: 'reject', reason: 'impersonation' })
    assert.equal(g.check('site', 'P3', msg({ incarnation: 2 })).verdict, 'accept', 'a higher incarnation may rebind (a lost key file)')
  })

  it('forgets the least recently heard sender beyond maxTrackedSenders', () => {
    const g = gate()
    for (let i = 0; i < 6; i++) g.check('site', `P${10 + i}`, msg({ sender: `x${i}` }))
    assert.equal(g.trackedSenders, 4)
    assert.equal(g.peerOf('x0'), undefined)
    assert.equal(g.peerOf('x5'), 'P15')
  })
})
