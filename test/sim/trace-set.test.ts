/**
 * The real-trace set's aggregation (sim/trace-set.ts): how runs become the benchmark's
 * agentmesh ÷ baseline figures, and that the set covers what the issue asks of it.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { compare, costOverClairvoyant, hasFaults, traceSetFiles, type SetRun } from '../../sim/trace-set.js'
import { loadScenario } from '../../sim/scenario-parse.js'
import type { PolicyName } from '../../sim/scenario.js'
import { ROOT } from './sim-helpers.js'

function run (seed: number, figures: Partial<Record<PolicyName, [number, number]>>): SetRun {
  return {
    scenario: 's', file: 's.yaml', faults: false, seed, clairvoyantContainerSeconds: 100,
    policies: Object.entries(figures).map(([policy, [sla, cost]]) => ({ policy: policy as PolicyName, slaViolationS: sla, containerSeconds: cost, costOverClairvoyant: cost / 100, invariantsHeld: true })),
  }
}

describe('the real-trace set', () => {
  it('averages agentmesh ÷ baseline per run, leaves out runs where the baseline had no violation, and counts them', () => {
    const runs = [
      run(1, { agentmesh: [10, 80], keda: [40, 100] }),
      run(2, { agentmesh: [0, 90], keda: [0, 100] }),
      run(3, { agentmesh: [5, 120], keda: [0, 100] }),
      run(4, { agentmesh: [30, 110], keda: [20, 100] }),
    ]
    const c = compare(runs, 'keda')
    assert.deepEqual(c.slaRatio, { mean: (0.25 + 1.5) / 2, min: 0.25, max: 1.5, n: 2 })
    assert.equal(c.slaBaselineZeroRuns, 2)
    assert.equal(c.slaBothZeroRuns, 1)
    assert.equal(c.costRatio?.n, 4)
    assert.ok(Math.abs(c.costRatio!.mean - 1) < 1e-12)
    assert.equal(c.meshSlaS, 45 / 4, 'both figures are reported, per run')
    assert.equal(c.baseSlaS, 60 / 4)
    assert.equal(c.worseOnBoth, 2, 'runs 3 and 4: more violation and more cost at once')
    assert.deepEqual(costOverClairvoyant(runs), { mean: 1, min: 0.8, max: 1.2, n: 4 })
  })

  it('covers diurnal, spiky and idle-then-burst load on cloud and edge sites, with and without faults, from real traces only', () => {
    const scenarios = traceSetFiles().map(f => loadScenario(f))
    assert.ok(scenarios.some(s => hasFaults(s)) && scenarios.some(s => !hasFaults(s)))
    for (const kind of ['cloud', 'edge'] as const) assert.ok(scenarios.some(s => s.sites.some(x => x.kind === kind)), kind)
    const traces = new Set(scenarios.flatMap(s => s.load.map(l => l.shape.type === 'trace' ? l.shape.file : 'not a trace')))
    assert.ok(!traces.has('not a trace'), 'every load is a trace')
    for (const name of ['worldcup98', 'nasa-http', 'azure-llm-conv', 'azure-llm-code']) assert.ok([...traces].some(t => t.includes(name)), name)
    assert.ok(scenarios.some(s => s.services.some(v => v.spec.minReplicas === 0)), 'a scale-to-zero workload')
  })

  it('ships each excerpt small, with its credit and terms in sim/traces/README.md', () => {
    const readme = readFileSync(join(ROOT, 'sim', 'traces', 'README.md'), 'utf8')
    const files = new Set(traceSetFiles().flatMap(f => loadScenario(f).load.map(l => l.shape.type === 'trace' ? l.shape.file.split('/').pop()! : '')))
    for (const f of files) {
      assert.ok(readme.includes(`\`${f}\``), `${f} is described`)
      assert.ok(statSync(join(ROOT, 'sim', 'traces', f)).size < 64 * 1024, `${f} is small`)
    }
    for (const credit of ['CC-BY 4.0', 'Arlitt', 'worldcup98-COPYRIGHT.html', 'NASA-HTTP']) assert.ok(readme.includes(credit), credit)
  })
})
