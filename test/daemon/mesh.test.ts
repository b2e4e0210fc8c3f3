/**
 * Real supervisor processes on loopback, real libp2p: election in two sites, leader SIGKILL
 * and failover, restart with a higher incarnation, a partition and its heal, a peer without the
 * network key, a peer publishing garbage, /metrics through promtool, and a 50-host site that
 * knows one bootstrap address.
 */
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { encodeMessage, PROTOCOL_MINOR } from '../../protocol/index.js'
import { siteTopic } from '../../node/daemon/mesh.js'
import { Cluster, createRawNode, metricSum, TEST_TOKEN, waitFor, writeSwarmKey, type RawNode, type Supervisor } from './harness.js'

const HOSTS = [
  { hostId: 'a1', site: 'A' }, { hostId: 'a2', site: 'A' }, { hostId: 'a3', site: 'A' },
  { hostId: 'b1', site: 'B' }, { hostId: 'b2', site: 'B' },
]

/** Leaders seen per (site, term) by polling every status: the safety property of the election. */
class LeaderObserver {
  readonly seen = new Map<string, Set<string>>()
  private timer: NodeJS.Timeout | undefined
  constructor (private readonly cluster: Cluster) {}
  start (): void {
    const poll = async (): Promise<void> => {
      await Promise.all(this.cluster.sups.filter(s => s.running).map(async s => {
        try {
          const st = await s.status()
          if (st.role !== 'leader') return
          const key = `${st.site}/${st.term}`
          if (!this.seen.has(key)) this.seen.set(key, new Set())
          this.seen.get(key)!.add(st.hostId)
        } catch {}
      }))
      if (this.timer !== undefined) this.timer = setTimeout(() => { void poll() }, 50)
    }
    this.timer = setTimeout(() => { void poll() }, 0)
  }
  stop (): void { clearTimeout(this.timer); this.timer = undefined }
  check (): void {
    for (const [key, leaders] of this.seen) assert.equal(leaders.size, 1, `two leaders in ${key}: ${[...leaders].join(', ')}`)
  }
}

describe('a mesh of 5 supervisor processes in 2 sites', { timeout: 120_000 }, () => {
  let cluster: Cluster
  let observer: LeaderObserver
  const intruders: RawNode[] = []

  before(async () => {
    cluster = await Cluster.create({ hosts: HOSTS })
    cluster.startAll()
    observer = new LeaderObserver(cluster)
    observer.start()
  })

  after(async () => {
    observer?.stop()
    await Promise.all(intruders.map(async n => await n.stop().catch(() => {})))
    await cluster?.stopAll()
  })

  it('elects one leader per site and every status agrees', async () => {
    for (const site of ['A', 'B']) {
      const agreed = await waitFor(`site ${site} to agree on a leader`, async () => await cluster.siteAgreement(site), 20_000)
      assert.ok(agreed.term >= 1)
      for (const st of agreed.statuses) assert.ok(st.peers.every(p => p.state === 'alive'), `${st.hostId} sees every peer alive`)
    }
    const a1 = cluster.byId('a1')
    const sites = await waitFor('site B to be seen from a1 through the global topic', async () => {
      const s = await a1.get<{ sites: Array<{ site: string, leaderId: string }> }>('/v1/sites')
      return s.sites.find(x => x.site === 'B' && x.leaderId !== '') === undefined ? undefined : s
    }, 10_000)
    assert.deepEqual(sites.sites.map(s => s.site), ['A', 'B'])
    observer.check()
  })

  it('replaces a SIGKILLed leader within 2 s, and the restarted host rejoins as a follower with a higher incarnation', async () => {
    const before = (await cluster.siteAgreement('A'))!
    const victim = cluster.byId(before.leaderId)
    const oldIncarnation = (await victim.status()).incarnation
    const t0 = Date.now()
    await victim.kill('SIGKILL')
    const after = await waitFor('a new leader in site A', async () => {
      const a = await cluster.siteAgreement('A', [victim.hostId])
      return a !== undefined && a.leaderId !== victim.hostId ? a : undefined
    }, 10_000, 20)
    const failoverMs = Date.now() - t0
    assert.ok(after.term > before.term)
    assert.ok(failoverMs <= 2000, `failover took ${failoverMs} ms`)

    victim.start()
    const rejoined = await waitFor('the restarted host to follow the new leader', async () => {
      const st = await victim.status()
      return st.role === 'follower' && st.leaderId === after.leaderId ? st : undefined
    }, 15_000)
    assert.equal(rejoined.incarnation, oldIncarnation + 1)
    await waitFor('peers to see the higher incarnation', async () => {
      const others = await Promise.all(cluster.site('A').filter(s => s !== victim).map(async s => await s.status()))
      return others.every(o => o.peers.some(p => p.hostId === victim.hostId && p.state === 'alive' && p.incarnation === oldIncarnation + 1)) || undefined
    }, 10_000)
    assert.equal((await cluster.siteAgreement('A'))?.leaderId, after.leaderId, 'the restarted host did not take the lead back')
    observer.check()
  })

  it('keeps one leader per site and term while the leader is partitioned, and agrees again after the heal', async () => {
    const start = (await waitFor('site A agreement', async () => await cluster.siteAgreement('A'), 10_000))
    const cut = cluster.byId(start.leaderId)
    const res = await cut.post('/v1/debug/partition', { partitioned: true }, TEST_TOKEN)
    assert.equal(res.status, 200)
    try {
      await duringPartition(cut, start)
    } finally {
      await cut.post('/v1/debug/partition', { partitioned: false }, TEST_TOKEN)
    }
    const healed = await waitFor('site A to agree again with the healed host', async () => {
      const a = await cluster.siteAgreement('A')
      return a !== undefined && a.statuses.every(s => s.peers.every(p => p.state === 'alive')) ? a : undefined
    }, 20_000)
    assert.ok(healed.term > start.term)
    observer.check()
  })

  async function duringPartition (cut: Supervisor, start: { term: number }): Promise<void> {
    const majority = await waitFor('the majority to elect a new leader', async () => {
      const a = await cluster.siteAgreement('A', [cut.hostId])
      return a !== undefined && a.leaderId !== cut.hostId && a.term > start.term ? a : undefined
    }, 10_000)
    await waitFor('the cut-off leader to step down', async () => (await cut.status()).role !== 'leader' || undefined, 10_000)
    assert.equal((await cut.status()).connections, 0)
    assert.ok(majority.term > start.term)
    assert.ok((await cluster.siteAgreement('B')) !== undefined, 'site B is not disturbed')
  }

  it('refuses a peer without the network key', async () => {
    const target = cluster.byId('a2')
    const noKey = await createRawNode(undefined)
    intruders.push(noKey)
    await assert.rejects(noKey.dial(multiaddr(target.addr), { signal: AbortSignal.timeout(5000) }))
    const otherKeyFile = `${cluster.dir}/other.key`
    writeSwarmKey(otherKeyFile)
    const wrongKey = await createRawNode(readFileSync(otherKeyFile))
    intruders.push(wrongKey)
    await assert.rejects(wrongKey.dial(multiaddr(target.addr), { signal: AbortSignal.timeout(5000) }))
    // Counted and logged (once per interval), not only refused.
    await waitFor('a2 to count both refusals', async () => (await target.metric('agentmesh_connections_refused_total', 'reason="pnet"')) >= 2 || undefined, 15_000)
    assert.ok(target.lines.some(l => l.includes('"msg":"inbound connection refused"') && l.includes('"reason":"pnet"')), 'a2 logs the refusal')
    const st = await target.status()
    assert.ok(st.peers.every(p => ['a1', 'a2', 'a3'].includes(p.hostId)))
  })

  it('rejects and counts garbage from a peer that has the key, and the mesh keeps working', async () => {
    const target = cluster.byId('a2')
    const rogue = await createRawNode(readFileSync(cluster.swarmKeyFile))
    intruders.push(rogue)
    const topic = siteTopic('A')
    rogue.services.pubsub.subscribe(topic)
    await rogue.dial(multiaddr(target.addr), { signal: AbortSignal.timeout(5000) })
    await waitFor('the rogue to see a2 subscribed', () => rogue.services.pubsub.getSubscribers(topic).some(p => p.toString() === target.peerId) || undefined, 10_000)
    const before = await target.metric('agentmesh_gossip_rejected_messages_total')
    // A wrong version byte, then protobuf garbage behind the right one.
    for (let i = 0; i < 3; i++) await rogue.services.pubsub.publish(topic, Uint8Array.from([0xff, ...randomBytes(64 + i)]))
    for (let i = 0; i < 3; i++) await rogue.services.pubsub.publish(topic, Uint8Array.from([1, 0xff, 0xff, 0xff, ...randomBytes(8 + i)]))
    const wrongSite = encodeMessage({ minor: PROTOCOL_MINOR, sender: 'rogue', site: 'B', incarnation: 1, seq: 1, sentAtMs: Date.now(), body: { kind: 'leave' } })
    await rogue.services.pubsub.publish(topic, wrongSite)
    await waitFor('a2 to count the rejections', async () => (await target.metric('agentmesh_gossip_rejected_messages_total')) >= before + 7 || undefined, 10_000)
    assert.ok((await target.metric('agentmesh_gossip_rejected_messages_total', 'reason="version"')) >= 3)
    assert.ok((await target.metric('agentmesh_gossip_rejected_messages_total', 'reason="wrong-site"')) >= 1)
    // A member hears the leader's digests; the leader hears members' heartbeats (docs/membership.md).
    const received = await target.metric('agentmesh_gossip_received_messages_total')
    await waitFor('site messages to keep flowing', async () => (await target.metric('agentmesh_gossip_received_messages_total')) > received + 4 || undefined, 10_000)
    const agreed = await waitFor('site A agreement', async () => await cluster.siteAgreement('A'), 10_000)
    assert.ok(agreed.statuses.every(s => s.peers.every(p => p.state === 'alive') && !s.peers.some(p => p.hostId === 'rogue')))
    // Every message accepted or refused came in an RPC: the copies counted (gossip-copies.ts, on
    // the pinned gossipsub) cover them all, duplicates on top. One snapshot, so the sums agree.
    const text = await target.metricsText()
    const copies = metricSum(text, 'agentmesh_gossip_received_copies_total')
    const accepted = metricSum(text, 'agentmesh_gossip_received_messages_total')
    const refused = metricSum(text, 'agentmesh_gossip_rejected_messages_total')
    assert.ok(accepted > 0 && copies >= accepted + refused, `copies ${copies}, accepted ${accepted}, refused ${refused}`)
    observer.check()
  })

  it('serves /metrics that promtool accepts without a complaint', async () => {
    const found = spawnSync('promtool', ['--version'])
    assert.ok(found.error === undefined, 'promtool is missing: install Debian\'s prometheus package (test/run-all.sh does)')
    const text = await cluster.byId('a1').metricsText()
    const out = execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
    assert.equal(out.trim(), '')
    for (const name of ['agentmesh_peers', 'agentmesh_site_leader_info', 'agentmesh_term', 'agentmesh_gossip_received_messages_total', 'agentmesh_gossip_published_bytes_total',
      'agentmesh_gossip_rejected_messages_total', 'agentmesh_elections_started_total', 'agentmesh_plan_version', 'agentmesh_core_handle_duration_seconds', 'process_resident_memory_bytes']) {
      assert.ok(text.includes(`\n${name}`) || text.includes(`# TYPE ${name}`), `missing ${name}`)
    }
  })
})
