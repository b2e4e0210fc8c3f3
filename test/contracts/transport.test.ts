/**
 * The transport contract (transport.contract.ts) against both shells: the daemon's libp2p Mesh
 * (three real nodes on 127.0.0.1: TCP, pnet, Noise, gossipsub, each message through the
 * MessageGate), the scenario simulator's gossip (simulation.ts) and the site sim's network
 * (site-sim.ts).
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { generateKey } from '@libp2p/pnet'
import { Mesh, type MeshInit } from '../../node/daemon/mesh.js'
import { parseScenario } from '../../sim/scenario-parse.js'
import { Simulation } from '../../sim/simulation.js'
import { SiteSim } from '../../sim/site-sim.js'
import { realEventually, simulatedEventually } from './shell-time.js'
import { transportContract, type TransportHost } from './transport.contract.js'

/** Bound on one wait, real time: a gossipsub hop on a loaded machine is milliseconds; the mesh forms within seconds. */
const REAL_BOUND_MS = 20_000
/** Bound on one wait, simulated time: several gossip heartbeats, so a repaired copy arrives too. */
const SIM_BOUND_MS = 10_000

transportContract('the daemon\'s libp2p Mesh (three nodes on 127.0.0.1)', async () => {
  const swarmKey = new Uint8Array(95)
  generateKey(swarmKey)
  const init = async (hostId: string, site: string, bootstrap: string[]): Promise<MeshInit> => ({
    hostId, site, privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap,
    maxConnections: 50, targetPeers: 8, redialIntervalMs: 500, redialBackoffMaxMs: 5_000, dialTimeoutMs: 5_000, dialSettleMs: 3000, maxParallelDials: 4,
    pingIntervalMs: 0, inboundConnectionsPerSecond: 50, ipColocationWhitelist: ['127.0.0.1'], gossipD: 3, gossipDlo: 2, gossipDhi: 6,
    maxTrackedSenders: 100, rebindQuietMs: 30_000,
  })
  const a1 = new Mesh(await init('a1', 'A', []), {}, () => performance.now())
  await a1.start()
  const seed = a1.dialableAddrs()
  const a2 = new Mesh(await init('a2', 'A', seed), {}, () => performance.now())
  const b1 = new Mesh(await init('b1', 'B', seed), {}, () => performance.now())
  await Promise.all([a2.start(), b1.start()])
  // Subscriptions travel after connections open, and gossipsub grafts its meshes on its
  // heartbeat: wait until each topic's mesh holds the peers that share it.
  await realEventually('the gossip meshes to form', () =>
    a1.meshPeers('site').length === 1 && a2.meshPeers('site').length === 1 &&
    a1.meshPeers('global').length === 2 && a2.meshPeers('global').length >= 1 && b1.meshPeers('global').length >= 1, REAL_BOUND_MS)
  return {
    a1: { hostId: 'a1', site: 'A', transport: a1 },
    a2: { hostId: 'a2', site: 'A', transport: a2 },
    b1: { hostId: 'b1', site: 'B', transport: b1 },
    eventually: async (what, done) => { await realEventually(what, done, REAL_BOUND_MS) },
    close: async () => { await Promise.all([a1, a2, b1].map(async m => { await m.stop() })) },
  }
})

/** Two sites on links that lose nothing (the contract is about who hears what, not about loss). */
const SCENARIO = `
name: transport-contract
duration: 10m
policies: [agentmesh]
sites:
  - { name: A, kind: on-prem, hosts: 2, slots: 2 }
  - { name: B, kind: on-prem, hosts: 1, slots: 2 }
links:
  - { between: [A, B], medianMs: 10, jitterMs: 4, loss: 0 }
services:
  - { name: ingest, targetPerReplica: 100, minReplicas: 0, maxReplicas: 2, drainPerReplica: 60, sla: 2000 }
load:
  - { service: ingest, shape: constant, rate: 1 }
gossip:
  globalSubscribers: all
`

transportContract('the scenario simulator\'s gossip (Simulation)', async () => {
  const scenario = parseScenario(SCENARIO, { file: 'transport-contract.yaml', baseDir: '.' })
  const sim = new Simulation(scenario, { policy: 'agentmesh', seed: 11, durationMs: 600_000, reportPoints: 0 })
  sim.runUntil(3000) // every supervisor started and the site meshes built
  const host = (id: string): TransportHost => {
    const h = sim.hosts.find(x => x.id === id)!
    return { hostId: h.id, site: scenario.sites[h.site].name, transport: h.transport }
  }
  const wait = simulatedEventually(() => sim.now, t => sim.runUntil(t), SIM_BOUND_MS)
  return { a1: host('A-h0'), a2: host('A-h1'), b1: host('B-h0'), eventually: wait, close: async () => {} }
})

transportContract('the site sim\'s network (SiteSim)', async () => {
  const c = new SiteSim({ seed: 11, hosts: [{ hostId: 'a1', site: 'A' }, { hostId: 'a2', site: 'A' }, { hostId: 'b1', site: 'B' }], delayMs: [0, 50] })
  c.runFor(1000)
  const host = (id: string): TransportHost => ({ hostId: id, site: c.host(id).spec.site, transport: c.host(id).transport })
  const wait = simulatedEventually(() => c.nowMs, t => c.runUntil(t), SIM_BOUND_MS)
  return { a1: host('a1'), a2: host('a2'), b1: host('b1'), eventually: wait, close: async () => {} }
})
