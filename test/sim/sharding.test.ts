/**
 * The simulator sharded by site (sim/sharded-run.ts): a run spread over worker threads must be
 * the run on one thread, byte for byte. Every host's transcript (every input its core was fed,
 * when, and every output) is compared, and the summary and the report's details; on scenarios
 * where sites do reach each other: site summaries on the global topic, overflow run by another
 * site (whose replicas drain the origin's queue), partitions and a degraded link, a flapping
 * uplink, and faults drawn among every site's hosts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { runScenario } from '../../sim/run-scenario.js'
import { loadScenario, parseScenario } from '../../sim/scenario-parse.js'
import type { Scenario } from '../../sim/scenario.js'
import { runSharded, siteSteps, type ShardedRunOptions } from '../../sim/sharded-run.js'
import { assignSites } from '../../sim/site-assignment.js'
import { siteLatencyFloorsMs } from '../../sim/cross-site.js'
import { Simulation } from '../../sim/simulation.js'
import { ROOT } from './sim-helpers.js'

/** Three sites that talk: a fault among every site's hosts, a partition, a degraded link, a flapping edge. */
const WORLD = parseScenario(`name: sharding-world
duration: 4m
seed: 5
sites:
  - { name: plant, kind: on-prem, hosts: 5, slots: 2 }
  - { name: cloud, kind: cloud, hosts: 4, slots: 8 }
  - { name: edge, kind: edge, hosts: 3, slots: 2, flap: { up: 40s, down: 10s } }
services:
  - { name: web, targetPerReplica: 50, minReplicas: 1, maxReplicas: 12, drainPerReplica: 40, sla: 5000 }
load:
  - { service: web, sites: [plant], shape: step, rate: 40, steps: [ { at: 30s, rate: 600 } ] }
  - { service: web, sites: [cloud, edge], shape: constant, rate: 30 }
faults:
  - { at: 50s, kind: crash, host: random, count: 3, mode: host, restartAfter: 40s }
  - { at: 70s, kind: partition, groups: [[plant], [cloud-h0, edge]], healAfter: 30s }
  - { at: 90s, kind: degrade, between: [plant, cloud], medianMs: 30, restoreAfter: 30s }
  - { at: 2m, kind: restart, host: random, count: 2 }
  - { at: 150s, kind: crash, host: leader, site: cloud, mode: supervisor, restartAfter: 20s }
`, { file: 'sharding-world.yaml', baseDir: ROOT })

/** Every host's transcript; `without` turns an optimisation off (they default to on). */
type Optimisations = Pick<ShardedRunOptions, 'batchCrossSite' | 'batchDeliveries' | 'siteSteps'>

function transcripts (scenario: Scenario, workers: number, durationMs = scenario.durationMs, without: Optimisations = {}): Record<string, string> {
  const r = runSharded(scenario, { policy: 'agentmesh', seed: scenario.seed, durationMs, reportPoints: 0, workers, transcripts: true, ...without })
  assert.ok(r.transcripts !== undefined)
  return r.transcripts
}

function summaryAndDetails (scenario: Scenario, workers: number, durationMs = scenario.durationMs): string {
  const r = runScenario({ scenario, policies: ['agentmesh'], seed: scenario.seed, durationMs, version: 'test', reportPoints: 40, workers })
  return JSON.stringify(r)
}

/**
 * simulation.ts hands a delivered copy to the host's driver itself while the driver's listener
 * is the transport's only one (deliverTo): the same inputs, in the same order, as through the
 * transport. Another listener on every host's transport makes each copy go through it.
 */
function transcriptsOneQueue (scenario: Scenario, throughTransport: boolean): Record<string, string> {
  const sim = new Simulation(scenario, { policy: 'agentmesh', seed: scenario.seed, durationMs: scenario.durationMs, reportPoints: 0, transcripts: true })
  let heard = 0
  if (throughTransport) for (const h of sim.hosts) h.transport.onMessage(() => { heard++ })
  // Each run takes the path it is meant to check.
  assert.ok(sim.hosts.every(h => h.driverOnly === !throughTransport))
  sim.run()
  if (throughTransport) assert.ok(heard > 1000, `the extra listeners heard ${heard} copies`)
  return sim.transcriptDigests()
}

describe('the simulator sharded by site', () => {
  it('puts every site on some worker, once', () => {
    const scenario = loadScenario(join(ROOT, 'sim/scenarios/chimera.yaml'))
    for (const workers of [1, 2, 3, 4, 8]) {
      const a = assignSites(scenario, workers)
      assert.ok(a.length <= workers)
      assert.deepEqual(a.flat().sort((x, y) => x - y), scenario.sites.map((_, i) => i), `${workers} workers`)
    }
  })

  it('feeds every host the same inputs whether a delivered copy goes to its driver directly or through its transport', () => {
    assert.deepEqual(transcriptsOneQueue(WORLD, false), transcriptsOneQueue(WORLD, true))
  })

  it('feeds every host the same inputs and takes the same outputs with 1, 2 and 3 workers', () => {
    const one = transcripts(WORLD, 1)
    assert.equal(Object.keys(one).length, 12, 'a transcript for every host')
    for (const [host, digest] of Object.entries(one)) assert.ok(Number(digest.split(':')[0]) > 100, `${host} did things: ${digest}`)
    assert.deepEqual(transcripts(WORLD, 2), one, '2 workers')
    assert.deepEqual(transcripts(WORLD, 3), one, '3 workers')
  })

  it('steps each site by its own latencies: as far as the nearest site of its worker, half as far as another worker\'s', () => {
    // plant–cloud 25 ms (a degrade to 30 ms leaves it), edge 80 ms from both.
    const floors = siteLatencyFloorsMs(WORLD)
    const one = siteSteps(floors, 3, [0, 1, 2], [])
    assert.equal(one.roundMs, 25)
    assert.deepEqual([...one.rounds], [1, 1, 3], 'the edge runs 75 ms at once beside the others\' 25')
    const apart = siteSteps(floors, 3, [1, 2], [0])
    assert.equal(apart.roundMs, 12, 'half the cloud\'s 25 ms to the plant on the other worker')
    assert.deepEqual([...apart.rounds], [1, 3], 'the edge: half its 80 ms to the plant, in rounds of 12')
    assert.deepEqual([...siteSteps(floors, 3, [0, 1, 2], [], false).rounds], [1, 1, 1])
    assert.deepEqual([...siteSteps(floors, 3, [2], [0, 1]).rounds], [1], 'a site alone on its worker steps by rounds of its own')
  })

  it('feeds every host the same whether a site runs several rounds at once or every round', () => {
    // The optimisation: a site far from the others (the edge) runs a step of several rounds
    // at once. Without it every site runs every round of its worker.
    const stepped = transcripts(WORLD, 1)
    assert.deepEqual(transcripts(WORLD, 1, WORLD.durationMs, { siteSteps: false }), stepped, '1 worker')
    assert.deepEqual(transcripts(WORLD, 2, WORLD.durationMs, { siteSteps: false }), stepped, '2 workers')
  })

  it('feeds every host the same with the global topic\'s copies batched per message or sent one per site', () => {
    // The optimisation: one record per message for all the sites it reaches (split per worker),
    // instead of one per site. A 10,000-host fleet has 390 site leaders, each sending a summary to every other site.
    const batched = transcripts(WORLD, 1)
    assert.deepEqual(transcripts(WORLD, 1, WORLD.durationMs, { batchCrossSite: false }), batched, '1 worker')
    assert.deepEqual(transcripts(WORLD, 2, WORLD.durationMs, { batchCrossSite: false }), batched, '2 workers')
  })

  it('feeds every host the same with a message\'s copies queued once per delay or once per receiver', () => {
    // The optimisation: one queued delivery for every receiver a copy reaches at the same
    // millisecond (a digest or plan reaches most of its site at once), instead of one each.
    const batched = transcripts(WORLD, 1)
    assert.deepEqual(transcripts(WORLD, 1, WORLD.durationMs, { batchDeliveries: false }), batched, '1 worker')
    assert.deepEqual(transcripts(WORLD, 2, WORLD.durationMs, { batchDeliveries: false }), batched, '2 workers')
  })

  it('gives the same summary and report with 1 and 2 workers, where sites reached each other', () => {
    const one = summaryAndDetails(WORLD, 1)
    assert.equal(summaryAndDetails(WORLD, 2), one)
    const mesh = JSON.parse(one).summary.policies[0]
    assert.ok(mesh.invariants.held, JSON.stringify(mesh.invariants))
    assert.ok(mesh.elections >= 3, 'every site elected a leader')
    assert.ok(JSON.parse(one).details[0].markers.some((m: { text: string }) => m.text.startsWith('crash host 3 random')), 'the fleet fault was applied and marked')
  })

  it('runs overflow between sites the same with 1 and 2 workers (the cloud drains the plant\'s queue)', () => {
    const scenario = loadScenario(join(ROOT, 'sim/scenarios/spill-overflow.yaml'))
    const durationMs = 25 * 60_000
    const one = summaryAndDetails(scenario, 1, durationMs)
    assert.equal(summaryAndDetails(scenario, 2, durationMs), one)
    const markers = JSON.parse(one).details[0].markers as { kind: string }[]
    assert.ok(markers.some(m => m.kind === 'spill'), 'overflow ran in another site within the run')
    assert.deepEqual(transcripts(scenario, 2, durationMs), transcripts(scenario, 1, durationMs))
  })

  it('stops a run that breaks an invariant at the same violation, with the same figures, whatever the workers', () => {
    const one = runScenario({ scenario: WORLD, policies: ['agentmesh'], seed: WORLD.seed, durationMs: WORLD.durationMs, version: 'test', reportPoints: 20, workers: 1, bugs: [{ bug: 'lost-starts', host: '*', atMs: 0 }] })
    const two = runScenario({ scenario: WORLD, policies: ['agentmesh'], seed: WORLD.seed, durationMs: WORLD.durationMs, version: 'test', reportPoints: 20, workers: 2, bugs: [{ bug: 'lost-starts', host: '*', atMs: 0 }] })
    const inv = one.summary.policies[0].invariants
    assert.ok(!inv.held && inv.violation.invariant === 'container-replaced', JSON.stringify(inv))
    assert.equal(JSON.stringify(two), JSON.stringify(one))
  })
})
