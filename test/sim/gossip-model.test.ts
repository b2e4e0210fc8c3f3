/**
 * The simulator's gossip model against what the daemon does (sim/gossip-mesh.ts, the CPU queue
 * in sim/simulation.ts): its defaults are the daemon's own, the publisher floods its messages
 * to every connected subscriber, connections stay within the dial loop's target and the cap,
 * and a burst of messages queues behind a host's CPU.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CONFIG_FIELDS } from '../../node/daemon/config.js'
import { Rng } from '../../node/core/rng.js'
import { GOSSIP_DEFAULTS } from '../../protocol/index.js'
import { defaultGossip } from '../../sim/defaults.js'
import { SiteMesh, type MeshParams } from '../../sim/gossip-mesh.js'
import { runScenario } from '../../sim/run-scenario.js'
import { parseScenario } from '../../sim/scenario-parse.js'
import { ROOT } from './sim-helpers.js'

function daemonDefault (path: string): unknown {
  const f = CONFIG_FIELDS.find(x => x.path === path)
  assert.ok(f !== undefined, path)
  return f.default
}

function mesh (size: number, params: Partial<MeshParams> = {}, seed = 1): SiteMesh {
  const m = new SiteMesh(size, { ...defaultGossip(), ...params }, new Rng(seed), () => true, () => true)
  m.build()
  return m
}

describe('the simulator\'s gossip model', () => {
  it('uses the daemon\'s own defaults when a scenario does not override them', () => {
    const s = parseScenario('name: d\nsites: [ { name: a, kind: on-prem, hosts: 3 } ]\nservices: [ { name: x, targetPerReplica: 10, drainPerReplica: 10, sla: 100 } ]\n', { file: 'd.yaml', baseDir: ROOT })
    assert.equal(s.gossip.D, daemonDefault('network.gossipD'))
    assert.equal(s.gossip.Dlo, daemonDefault('network.gossipDlo'))
    assert.equal(s.gossip.Dhi, daemonDefault('network.gossipDhi'))
    assert.equal(s.gossip.targetPeers, daemonDefault('network.targetPeers'))
    assert.equal(s.gossip.maxConnections, daemonDefault('network.maxConnections'))
    assert.equal(s.gossip.floodPublish, GOSSIP_DEFAULTS.floodPublish)
    assert.equal(s.gossip.heartbeatMs, GOSSIP_DEFAULTS.heartbeatMs)
    assert.equal(s.gossip.historyHeartbeats, GOSSIP_DEFAULTS.historyGossipHeartbeats)
    assert.equal(s.gossip.Dlazy, GOSSIP_DEFAULTS.Dlazy)
  })

  it('takes a scenario\'s overrides', () => {
    const s = parseScenario('name: d\nsites: [ { name: a, kind: on-prem, hosts: 3 } ]\nservices: [ { name: x, targetPerReplica: 10, drainPerReplica: 10, sla: 100 } ]\ngossip: { D: 6, Dlo: 4, Dhi: 12, floodPublish: false, targetPeers: 20, maxConnections: 40, messageCpuUs: 250, siteCores: 2, codecSampleEvery: 0 }\n', { file: 'd.yaml', baseDir: ROOT })
    assert.deepEqual([s.gossip.D, s.gossip.Dlo, s.gossip.Dhi, s.gossip.floodPublish, s.gossip.targetPeers, s.gossip.maxConnections, s.gossip.messageCpuUs, s.gossip.siteCores, s.gossip.codecSampleEvery], [6, 4, 12, false, 20, 40, 250, 2, 0])
  })

  it('floods a publish to every connected subscriber in one hop, and relays only along the mesh after', () => {
    const m = mesh(30)
    for (let source = 0; source < 30; source++) {
      const r = m.route(source)
      const firstHop = new Set<number>()
      r.order.forEach((v, i) => { if (r.hops[i] === 1) firstHop.add(v) })
      assert.deepEqual([...firstHop].sort((a, b) => a - b), m.connections(source).sort((a, b) => a - b), `source ${source}`)
      assert.ok(m.connectionCount(source) > m.degree(source) || m.connectionCount(source) === m.degree(source))
      assert.equal(r.order.length, 29, 'everybody is reached')
    }
  })

  it('without flood publish, the publisher sends to its mesh peers only', () => {
    const m = mesh(30, { floodPublish: false })
    const r = m.route(5)
    const firstHop = r.order.filter((_, i) => r.hops[i] === 1)
    assert.equal(firstHop.length, m.degree(5))
  })

  it('keeps each host\'s connections at its dial target at least, and none above the cap', () => {
    const m = mesh(60, { targetPeers: 4, maxConnections: 10 })
    for (let u = 0; u < 60; u++) {
      assert.ok(m.connectionCount(u) >= 4, `host ${u}: ${m.connectionCount(u)} connections`)
      assert.ok(m.connectionCount(u) <= 10, `host ${u}: ${m.connectionCount(u)} connections`)
    }
    // Everybody dials the bootstrap host first: it fills up to the cap, and no further.
    assert.equal(m.connectionCount(0), 10)
  })

  it('connects every host to the pinned leader, over its target', () => {
    const m = mesh(30, { targetPeers: 3 })
    m.pinned = 17
    m.dialPinned()
    for (let u = 0; u < 30; u++) if (u !== 17) assert.ok(m.connected(u, 17), `host ${u}`)
    assert.equal(m.route(17).order.filter((_, i) => m.route(17).hops[i] === 1).length, 29, 'the leader reaches everybody in one hop')
  })

  it('builds the same connections from the same seed', () => {
    const a = mesh(40, {}, 9)
    const b = mesh(40, {}, 9)
    for (let u = 0; u < 40; u++) assert.deepEqual(a.connections(u), b.connections(u))
  })

  it('expects as many copies received as the publish transmits', () => {
    // Every transmission lands on some host: its first copy, or a duplicate it pays for.
    for (const seed of [1, 2, 3]) {
      const m = mesh(40, {}, seed)
      for (const source of [0, 7, 23]) {
        const r = m.route(source)
        let copies = 0
        for (let i = 0; i < r.order.length; i++) copies += 1 + r.duplicates[i]
        assert.ok(r.duplicates.every(d => d >= 0), 'never fewer than one copy')
        assert.ok(Math.abs(copies - r.transmissions) <= 0.1 * r.transmissions, `seed ${seed}, source ${source}: ${copies.toFixed(1)} copies expected, ${r.transmissions} transmissions`)
      }
    }
  })

  it('names each later hop\'s parents: the mesh peers one hop closer, whose first read gates its copy', () => {
    for (const seed of [1, 2]) {
      const m = mesh(30, { targetPeers: 3, D: 2, Dlo: 1, Dhi: 3 }, seed)
      const r = m.route(5)
      let multiHop = 0
      for (let i = 0; i < r.order.length; i++) {
        const listed = [...r.parentList.subarray(r.parentStart[i], r.parentStart[i + 1])]
        if (r.hops[i] === 1) { assert.deepEqual(listed, [], 'the first hop comes from the publisher'); continue }
        multiHop++
        assert.ok(listed.length >= 1, 'a later hop has a parent')
        assert.equal(listed.length, r.parents[i])
        for (const p of listed) {
          assert.ok(p < i, 'a parent comes before its child in the route\'s order')
          assert.equal(r.hops[p], r.hops[i] - 1)
        }
      }
      assert.ok(multiHop > 0, `seed ${seed}: the route has later hops`)
    }
  })

  it('tells a killed supervisor\'s peers of it only after their CPU has torn its connections down', () => {
    const failover = (disconnectUs: number): number => {
      const s = parseScenario(`name: kill
duration: 40s
sites: [ { name: a, kind: on-prem, hosts: 5, latency: { medianMs: 5, jitterMs: 0, loss: 0 } } ]
services: [ { name: x, targetPerReplica: 10, minReplicas: 0, drainPerReplica: 10, sla: 100 } ]
gossip: { disconnectCpuUs: ${disconnectUs} }
faults:
  - { at: 20s, kind: crash, host: leader, site: a, mode: supervisor }
`, { file: 'kill.yaml', baseDir: ROOT })
      const p = runScenario({ scenario: s, policies: ['agentmesh'], seed: 3, durationMs: s.durationMs, version: 'test', reportPoints: 0 }).summary.policies[0]
      assert.deepEqual(p.invariants, { held: true })
      assert.equal(p.failoverS?.count, 1)
      return p.failoverS!.p50! * 1000
    }
    const free = failover(0)
    const slow = failover(300_000)
    assert.ok(slow >= free + 250, `300 ms of teardown before the hint: failover ${free} → ${slow} ms`)
  })

  it('delays a burst of messages behind the receiving host\'s CPU', () => {
    // A 20-host site at 1 ms links: its election is a burst of votes every host receives.
    const run = (cpuUs: number, cores = 0, dupUs = 0, idlePct = 0): { p50: number, p99: number } => {
      const s = parseScenario(`name: burst
duration: 20s
sites: [ { name: a, kind: on-prem, hosts: 20, latency: { medianMs: 1, jitterMs: 0, loss: 0 } } ]
services: [ { name: x, targetPerReplica: 10, minReplicas: 0, drainPerReplica: 10, sla: 100 } ]
gossip: { messageCpuUs: ${cpuUs}, duplicateCpuUs: ${dupUs}, connectCpuUs: 0, siteCores: ${cores}, idleCpuPct: ${idlePct} }
`, { file: 'burst.yaml', baseDir: ROOT })
      const p = runScenario({ scenario: s, policies: ['agentmesh'], seed: 2, durationMs: s.durationMs, version: 'test', reportPoints: 0 }).summary.policies[0]
      assert.deepEqual(p.invariants, { held: true })
      return { p50: p.propagationMs!.p50!, p99: p.propagationMs!.p99! }
    }
    const free = run(0)
    const busy = run(5000)
    const shared = run(5000, 1)
    assert.ok(free.p99 <= 3, `no CPU cost: a hop or two, got p99 ${free.p99} ms`)
    assert.ok(busy.p50 >= free.p50 + 5, `every message costs 5 ms: p50 ${free.p50} → ${busy.p50} ms`)
    assert.ok(busy.p99 >= 4 * 5, `a burst queues: p99 ${busy.p99} ms`)
    assert.ok(shared.p99 > busy.p99, `one core for the site queues more: p99 ${busy.p99} → ${shared.p99} ms`)
    const idleHeld = run(5000, 1, 0, 2)
    assert.ok(idleHeld.p99 > shared.p99, `20 idle hosts holding 2 % each leave the core 60 % for messages: p99 ${shared.p99} → ${idleHeld.p99} ms`)
    const duplicates = run(0, 0, 5000)
    assert.ok(duplicates.p99 >= free.p99 + 5, `duplicate copies cost their receiver too: p99 ${free.p99} → ${duplicates.p99} ms`)
  })
})
