/**
 * A member with the swarm key (a raw libp2p node that signs its own messages) tries what the
 * bounded-trust rules forbid, against three real supervisors: lead the site with a plan of a
 * higher term and no election, ask a 4-slot host for 100,000 replicas, end elections with a
 * vote request at term 2^53 − 1, and take over a live host's id with a huge incarnation.
 * Nobody follows it, every refusal is counted by reason, and the site keeps its real leader.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeMessage, PROTOCOL_MINOR, type Body, type Message } from '../../protocol/index.js'
import { siteTopic } from '../../node/daemon/mesh.js'
import { Cluster, createRawNode, waitFor, type RawNode } from './harness.js'

const SITE = 'H'
const CAPACITY = { slots: 4, cpuMillis: 4000, memoryMib: 4096 }

describe('a hostile member of a site', { timeout: 2 * 60_000 }, () => {
  let cluster: Cluster
  let rogue: RawNode
  let seq = 0
  const topic = siteTopic(SITE)

  async function publish (body: Body, fields: Partial<Message> = {}): Promise<void> {
    const m: Message = { minor: PROTOCOL_MINOR, sender: 'rogue', site: SITE, incarnation: 1, seq: ++seq, sentAtMs: Date.now(), body, ...fields }
    await rogue.services.pubsub.publish(topic, encodeMessage(m))
  }

  function heartbeat (term: number, leaderId: string): Body {
    return { kind: 'heartbeat', heartbeat: { labels: new Map(), capacity: CAPACITY, priority: 0, running: [], signals: [], addrs: [], term, leaderId, planVersion: 0, runtimeOk: true } }
  }

  before(async () => {
    cluster = await Cluster.create({
      hosts: [{ hostId: 'h1', site: SITE, priority: 1 }, { hostId: 'h2', site: SITE }, { hostId: 'h3', site: SITE }],
      common: { services: [{ name: 'svc', targetPerReplica: 10, maxReplicas: 6 }], capacity: { slots: 4 } },
    })
    cluster.startAll()
    await waitFor('site H agrees on a leader', async () => await cluster.siteAgreement(SITE).catch(() => undefined), 30_000)
    rogue = await createRawNode(readFileSync(cluster.swarmKeyFile))
    rogue.services.pubsub.subscribe(topic)
    for (const s of cluster.sups) await rogue.dial(multiaddr(s.addr), { signal: AbortSignal.timeout(5000) })
    await waitFor('the rogue to see the site subscribed', () => rogue.services.pubsub.getSubscribers(topic).length >= 3 || undefined, 10_000)
  })

  after(async () => {
    await rogue?.stop()
    await cluster?.stopAll()
  })

  it('is not followed, cannot inflate terms or ask for more than a host may run, and cannot take a live host id', async () => {
    const before = await cluster.siteAgreement(SITE)
    assert.ok(before !== undefined)
    const { term } = before
    await publish(heartbeat(term, ''))
    await waitFor('every host counts the rogue as a member', async () => {
      const sts = await Promise.all(cluster.sups.map(async s => await s.status()))
      return sts.every(st => st.peers.some(p => p.hostId === 'rogue')) || undefined
    }, 10_000)

    // A plan of the next term, from a host nobody elected, asking h2 for 100,000 replicas.
    await publish({ kind: 'plan', plan: { term: term + 1, version: 1, services: ['svc'], hosts: [{ hostId: 'h2', replicas: [100_000] }], decisions: [{ service: 'svc', desired: 100_000, failingStatic: false }] } })
    // A vote request that would end elections for good if it were persisted.
    await publish({ kind: 'voteRequest', voteRequest: { term: Number.MAX_SAFE_INTEGER, priority: 0, electorate: 4, preVote: false } })
    // A live host's id with an incarnation out of its reach.
    await publish(heartbeat(term, ''), { sender: 'h2', incarnation: Number.MAX_SAFE_INTEGER, seq: 1 })

    for (const s of cluster.sups) {
      await waitFor(`${s.hostId} counts the refusals`, async () => {
        const unproven = await s.metric('agentmesh_plans_ignored_total', 'reason="unproven-leader"')
        const jump = await s.metric('agentmesh_core_dropped_messages_total', 'reason="term-jump"')
        const impersonation = await s.metric('agentmesh_gossip_rejected_messages_total', 'reason="impersonation"')
        return unproven >= 1 && jump >= 1 && impersonation >= 1 ? true : undefined
      }, 10_000)
    }
    const after = await waitFor('the site agrees on a real leader', async () => await cluster.siteAgreement(SITE).catch(() => undefined), 10_000)
    assert.equal(after.leaderId, before.leaderId, 'the real leader keeps the site')
    assert.equal(after.term, term, 'no term was adopted from the rogue')
    for (const st of after.statuses) {
      assert.notEqual(st.leaderId, 'rogue')
      assert.ok(st.peers.some(p => p.hostId === 'h2' || st.hostId === 'h2'), 'h2 is still known by its own peer id')
    }
    const plan = await cluster.byId('h2').get<{ plan?: { hosts: Array<{ hostId: string, replicas: number[] }> } }>('/v1/plan')
    const mine = plan.plan?.hosts.find(h => h.hostId === 'h2')?.replicas[0] ?? 0
    assert.ok(mine <= 4, `h2's plan holds ${mine} replicas`)
  })
})
