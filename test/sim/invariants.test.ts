/**
 * A negative test for every invariant the observer checks (sim/observer.ts): a run with a
 * deliberate bug (simulation.ts, InjectedBug) must stop on exactly that invariant, and the same
 * run without the bug must hold them all. Without these, a checker that silently stopped
 * checking would go unnoticed: the shipped scenarios only ever show invariants holding.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { INVARIANTS, type InvariantName } from '../../sim/observer.js'
import { runScenario } from '../../sim/run-scenario.js'
import { parseScenario } from '../../sim/scenario-parse.js'
import type { PolicyName } from '../../sim/scenario.js'
import type { InjectedBug } from '../../sim/simulation.js'
import { ROOT } from './sim-helpers.js'

// Load of 1000 against a target of 100 wants 10 replicas; the bound is 4 (on 3 hosts of 2 slots),
// so a site whose hosts believe in a higher bound plans above it, and a host that starts two
// containers per start overflows. replaceWithin is short so a lost container is noticed in time.
const SCENARIO = parseScenario(`name: broken
sites: [ { name: plant, kind: on-prem, hosts: 3, slots: 2 } ]
services: [ { name: ingest, targetPerReplica: 100, minReplicas: 1, maxReplicas: 4, drainPerReplica: 50, sla: 5000 } ]
load: [ { service: ingest, shape: constant, rate: 1000 } ]
containers: { startFailure: 0 }
replaceWithin: 5s
baseline: { controllerSite: plant }
`, { file: 'broken.yaml', baseDir: ROOT })

const DURATION_MS = 60_000

function violation (policy: PolicyName, bugs: InjectedBug[]): { invariant: InvariantName, atS: number } | undefined {
  const { summary } = runScenario({ scenario: SCENARIO, policies: [policy], seed: 3, durationMs: DURATION_MS, version: 'test', reportPoints: 0, bugs })
  const inv = summary.policies[0].invariants
  return inv.held ? undefined : { invariant: inv.violation.invariant, atS: inv.violation.atS }
}

const CASES: [InvariantName, PolicyName, InjectedBug][] = [
  ['single-leader-per-term', 'agentmesh', { bug: 'forged-leader', host: '*', atMs: 0 }],
  ['host-capacity', 'agentmesh', { bug: 'over-capacity', host: '*', atMs: 0 }],
  ['stale-plan-executed', 'agentmesh', { bug: 'stale-term', host: '*', atMs: 0 }],
  ['replicas-within-bounds', 'agentmesh', { bug: 'spec-drift', host: 'plant-h0', atMs: 10_000 }],
  ['container-replaced', 'agentmesh', { bug: 'lost-starts', host: '*', atMs: 0 }],
  ['core-no-throw', 'agentmesh', { bug: 'clock-back', host: 'plant-h2', atMs: 10_000 }],
  ['message-encodable', 'agentmesh', { bug: 'oversize-label', host: 'plant-h2', atMs: 10_000 }],
  ['codec-round-trip', 'agentmesh', { bug: 'codec-asymmetry', host: 'plant-h1', atMs: 0 }],
  // The invariants that apply to the baselines' host agents too.
  ['container-replaced', 'hpa', { bug: 'lost-starts', host: '*', atMs: 0 }],
  ['host-capacity', 'central', { bug: 'over-capacity', host: '*', atMs: 0 }],
]

describe('every invariant, broken on purpose', () => {
  it('holds every invariant without a bug, under every policy', () => {
    for (const policy of ['agentmesh', 'hpa', 'keda', 'central'] as const) assert.equal(violation(policy, []), undefined, policy)
  })

  it('has a negative test for each of the observer\'s invariants', () => {
    assert.deepEqual([...new Set(CASES.map(c => c[0]))].sort(), [...INVARIANTS].sort())
  })

  for (const [invariant, policy, bug] of CASES) {
    it(`${invariant} breaks under ${policy} with ${bug.bug} on ${bug.host}`, () => {
      const v = violation(policy, [bug])
      assert.equal(v?.invariant, invariant, JSON.stringify(v))
      assert.ok(v.atS * 1000 >= bug.atMs, 'not before the bug is in')
    })
  }
})
