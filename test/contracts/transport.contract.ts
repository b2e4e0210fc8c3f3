/**
 * The contract of the network port (`Transport`, node/core/ports.ts): what the core's driver
 * may rely on, whichever shell carries its messages. One suite, run against the libp2p Mesh
 * (three real nodes on 127.0.0.1), the scenario simulator's gossip and the site sim's network
 * (transport.test.ts).
 *
 * Three hosts: a1 and a2 of site A, b1 of site B. The messages are ones a core reads and
 * drops (a vote for nobody in term 0 on the site topic, a spill request on the global one),
 * so a shell that runs cores under the transport is not disturbed by them.
 *
 * A message that must not arrive is checked once every message that must arrive has: no
 * transport orders messages, but each shell delivers within its bound, and a shell that
 * leaked the site topic to another site would have done so by then in every run seen.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { PROTOCOL_MINOR, type Message } from '../../protocol/index.js'
import type { Topic } from '../../node/core/core-io.js'
import type { Transport } from '../../node/core/ports.js'

export interface TransportHost { hostId: string, site: string, transport: Transport }

export interface TransportsUnderContract {
  /** a1 and a2 share a site; b1 is of another. Each runs (subscribed to its site and to global). */
  a1: TransportHost
  a2: TransportHost
  b1: TransportHost
  /** Lets the shell's time pass until `done` holds, within its bound. */
  eventually: (what: string, done: () => boolean) => Promise<void>
  close: () => Promise<void>
}

export type TransportFactory = () => Promise<TransportsUnderContract>

interface Received { topic: Topic, message: Message }

export function transportContract (shell: string, factory: TransportFactory): void {
  describe(`Transport contract: ${shell}`, { timeout: 120_000 }, () => {
    let u: TransportsUnderContract
    const inbox = new Map<string, Received[]>()
    const seq = new Map<string, number>()
    let tag = 0

    /** A fresh message from `h`, told apart from every other by its tag. */
    function message (h: TransportHost, topic: Topic): Message {
      const n = (seq.get(h.hostId) ?? 0) + 1
      seq.set(h.hostId, n)
      const id = `contract-${++tag}`
      const body: Message['body'] = topic === 'site'
        ? { kind: 'vote', vote: { term: 0, candidateId: id, granted: false, preVote: true } }
        : { kind: 'spillRequest', spillRequest: { requestId: id, service: 'contract', replicas: 1, term: 0, toSite: 'x' } }
      // A sender of its own: where cores run under the transport, they read a stranger's
      // message and drop it, and nobody takes it for the host's own (a replay, a new incarnation).
      return { minor: PROTOCOL_MINOR, sender: `contract-${h.hostId}`, site: h.site, incarnation: 1, seq: n, sentAtMs: 0, body }
    }
    const tagOf = (m: Message): string => m.body.kind === 'vote' ? m.body.vote.candidateId : m.body.kind === 'spillRequest' ? m.body.spillRequest.requestId : ''
    const got = (h: TransportHost, m: Message): Received[] => (inbox.get(h.hostId) ?? []).filter(r => tagOf(r.message) === tagOf(m))

    before(async () => {
      u = await factory()
      for (const h of [u.a1, u.a2, u.b1]) {
        inbox.set(h.hostId, [])
        h.transport.onMessage((topic, m) => { if (tagOf(m).startsWith('contract-')) inbox.get(h.hostId)!.push({ topic, message: m }) })
      }
    })
    after(async () => { await u?.close() })

    it('delivers a site message to the other hosts of the site, once and as sent, and to no host of another site', async () => {
      const m = message(u.a1, 'site')
      u.a1.transport.publish('site', m)
      const g = message(u.a2, 'global')
      u.a2.transport.publish('global', g)
      await u.eventually('a2 to receive the site message and b1 the global one', () => got(u.a2, m).length > 0 && got(u.b1, g).length > 0)
      assert.deepEqual(got(u.a2, m), [{ topic: 'site', message: m }])
      assert.deepEqual(got(u.b1, m), [], 'b1 is of another site')
    })

    it('delivers a site message addressed to one host to that host, and to no host of another site', async () => {
      // Only the addressee needs it; a shell may deliver it to that host alone or, when it
      // cannot reach it directly, to the whole site: either way a2 gets it and b1 never does.
      const m = message(u.a1, 'site')
      u.a1.transport.publish('site', m, u.a2.hostId)
      const g = message(u.a2, 'global')
      u.a2.transport.publish('global', g)
      await u.eventually('a2 to receive the addressed message and b1 the global one', () => got(u.a2, m).length > 0 && got(u.b1, g).length > 0)
      assert.deepEqual(got(u.a2, m), [{ topic: 'site', message: m }])
      assert.deepEqual(got(u.b1, m), [], 'b1 is of another site')
    })

    it('delivers a global message to the hosts of every site', async () => {
      const m = message(u.a1, 'global')
      u.a1.transport.publish('global', m)
      await u.eventually('a2 and b1 to receive it', () => got(u.a2, m).length > 0 && got(u.b1, m).length > 0)
      assert.deepEqual(got(u.b1, m), [{ topic: 'global', message: m }])
      assert.deepEqual(got(u.a2, m), [{ topic: 'global', message: m }])
    })

    it('never hands a publisher its own message', async () => {
      const m = message(u.b1, 'global')
      u.b1.transport.publish('global', m)
      const s = message(u.a1, 'site')
      u.a1.transport.publish('site', s)
      await u.eventually('the others to receive them', () => got(u.a1, m).length > 0 && got(u.a2, s).length > 0)
      assert.deepEqual(got(u.b1, m), [])
      assert.deepEqual(got(u.a1, s), [])
    })

    it('stops calling a listener once it unsubscribed, and keeps calling the others', async () => {
      const late: Message[] = []
      const off = u.a2.transport.onMessage((_t, m) => { late.push(m) })
      const first = message(u.a1, 'site')
      u.a1.transport.publish('site', first)
      await u.eventually('the first message', () => late.some(m => tagOf(m) === tagOf(first)))
      off()
      const second = message(u.a1, 'site')
      u.a1.transport.publish('site', second)
      await u.eventually('the second message at the remaining listener', () => got(u.a2, second).length > 0)
      assert.ok(!late.some(m => tagOf(m) === tagOf(second)), 'the unsubscribed listener was not called')
    })

    it('takes dial hints for any host, known or not, without failing', () => {
      u.a1.transport.noteHost(u.a2.hostId, [])
      u.a1.transport.noteHost('contract-unknown-host', ['/ip4/127.0.0.1/tcp/1/p2p/12D3KooWNotAPeer', 'not a multiaddr'])
      u.a1.transport.forgetHost('contract-unknown-host')
      u.a1.transport.forgetHost('contract-never-noted')
    })

    it('never throws at the publisher, even for a message the codec refuses', async () => {
      const m = message(u.a1, 'global')
      const huge: Message = { ...m, body: { kind: 'spillRequest', spillRequest: { requestId: 'contract-' + 'x'.repeat(200_000), service: 'contract', replicas: 1, term: 0, toSite: 'x' } } }
      u.a1.transport.publish('global', huge)
      const after = message(u.a1, 'global')
      u.a1.transport.publish('global', after)
      await u.eventually('a message after it to arrive', () => got(u.b1, after).length > 0)
      assert.ok(!(inbox.get(u.b1.hostId) ?? []).some(r => tagOf(r.message).length > 1000), 'the refused message went nowhere')
    })
  })
}
