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

describe('cross-site overflow (sim/scenarios/spill-overflow.yaml)', () => {
  it('moves what a full site cannot run to a site with free slots, which changes the outcome', () => {
    const scenario = loadScenario(join(ROOT, 'sim/scenarios/spill-overflow.yaml'))
    const run = (spill: boolean): ReturnType<typeof runScenario> => {
      const s = { ...scenario, services: scenario.services.map(svc => ({ ...svc, spec: { ...svc.spec, spill } })) }
      return runScenario({ scenario: s, policies: ['agentmesh'], seed: scenario.seed, durationMs: scenario.durationMs, version: 'test', reportPoints: 200 })
    }
    const withSpill = run(true)
    const without = run(false)
    const plant = (r: ReturnType<typeof runScenario>): { slaViolationS: number } => r.summary.policies[0].pairs.find(p => p.site === 'plant')!
    assert.ok(withSpill.summary.ok && without.summary.ok, 'invariants hold either way')
    // The plant's 16 slots cannot keep up with the flash crowd: its queue breaks the SLA for
    // over half an hour without overflow, and not at all with it.
    assert.ok(plant(without).slaViolationS > 1800, `without overflow: ${plant(without).slaViolationS} s`)
    assert.equal(plant(withSpill).slaViolationS, 0)
    // The cloud region ran the overflow: the report marks it, and more replicas served the
    // plant's queue than the plant has slots.
    const spills = withSpill.details[0].markers.filter(m => m.kind === 'spill' && m.site === 'plant')
    assert.ok(spills.length >= 1 && spills.some(m => /^cloud-eu runs [1-9]\d* of web/.test(m.text)), JSON.stringify(spills))
    const pair = withSpill.summary.policies[0].pairs.findIndex(p => p.site === 'plant')
    assert.ok(Math.max(...withSpill.details[0].series.running[pair]) > 16, 'replicas beyond the plant\'s 16 slots drained its queue')
    assert.equal(without.details[0].markers.filter(m => m.kind === 'spill').length, 0)
  })
})
