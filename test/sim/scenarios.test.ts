import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { loadScenario } from '../../sim/scenario-parse.js'
import { runScenario } from '../../sim/run-scenario.js'
import { POLICY_NAMES } from '../../sim/scenario.js'
import { ROOT, shippedScenarios, traceSetScenarios } from './sim-helpers.js'

/** Long enough to reach the flagship's leader crash and its partition's heal, short enough for CI. */
const MAX_TEST_DURATION_MS = 35 * 60_000

describe('every shipped scenario', () => {
  for (const file of [...shippedScenarios(), ...traceSetScenarios()]) {
    it(`${file} holds every invariant under agentmesh, hpa, keda and central`, () => {
      const scenario = loadScenario(join(ROOT, file))
      const durationMs = Math.min(scenario.durationMs, MAX_TEST_DURATION_MS)
      const { summary } = runScenario({ scenario, policies: [...POLICY_NAMES], seed: scenario.seed, durationMs, version: 'test', reportPoints: 0 })
      for (const p of summary.policies) {
        assert.deepEqual(p.invariants, { held: true }, `${file} under ${p.policy}`)
        assert.equal(p.simulatedS, durationMs / 1000, 'ran to the end')
        assert.ok(p.containerSeconds > 0, 'something ran')
      }
      const mesh = summary.policies.find(p => p.policy === 'agentmesh')!
      assert.ok(mesh.elections >= scenario.sites.length, 'every site elected a leader')
      assert.ok(mesh.propagationMs !== null && mesh.propagationMs.deliveries > 0)
    })
  }
})

describe('the flagship scenario', () => {
  it('beats both baselines on SLA violation time over its full hour', () => {
    const scenario = loadScenario(join(ROOT, 'sim/scenarios/chimera.yaml'))
    const { summary } = runScenario({ scenario, policies: [...POLICY_NAMES], seed: scenario.seed, durationMs: scenario.durationMs, version: 'test', reportPoints: 0 })
    assert.ok(summary.ok)
    assert.ok((summary.comparison.slaRatio_hpa ?? Infinity) < 0.5, `vs hpa: ${summary.comparison.slaRatio_hpa}`)
    assert.ok((summary.comparison.slaRatio_keda ?? Infinity) < 0.5, `vs keda: ${summary.comparison.slaRatio_keda}`)
    const mesh = summary.policies.find(p => p.policy === 'agentmesh')!
    assert.ok(mesh.failoverS !== null && mesh.failoverS.count >= 1, 'the leader crash was measured')
    assert.ok(mesh.failoverS.max! < 5, `failover within a few heartbeats, got ${mesh.failoverS.max} s`)
  })
})
