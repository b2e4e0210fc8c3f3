import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { loadScenario } from '../../sim/scenario-parse.js'
import { runScenario } from '../../sim/run-scenario.js'
import { POLICY_NAMES } from '../../sim/scenario.js'
import { renderReport } from '../../sim/report-html.js'
import { ROOT } from './sim-helpers.js'

const TEN_MINUTES_MS = 600_000

function summaryJson (file: string, seed: number, reportPoints = 0): string {
  const scenario = loadScenario(join(ROOT, file))
  const r = runScenario({ scenario, policies: [...POLICY_NAMES], seed, durationMs: TEN_MINUTES_MS, version: 'test', reportPoints })
  return JSON.stringify(r.summary)
}

describe('determinism', () => {
  it('gives a byte-identical summary for the same scenario, seed and version', () => {
    const a = summaryJson('sim/scenarios/chimera.yaml', 7)
    const b = summaryJson('sim/scenarios/chimera.yaml', 7, 50)
    assert.equal(a, b, 'report sampling does not change the run either')
  })

  it('gives a different run for a different seed', () => {
    assert.notEqual(summaryJson('sim/scenarios/chimera.yaml', 7), summaryJson('sim/scenarios/chimera.yaml', 8))
  })

  it('renders a self-contained report that needs no network', () => {
    const scenario = loadScenario(join(ROOT, 'sim/scenarios/burst.yaml'))
    const r = runScenario({ scenario, policies: [...POLICY_NAMES], seed: 1, durationMs: 120_000, version: 'test', reportPoints: 60 })
    const html = renderReport(r, scenario)
    assert.match(html, /<svg class="chart"/)
    assert.doesNotMatch(html, /(src|href)="https?:/, 'no external resources')
    for (const policy of POLICY_NAMES) assert.match(html, new RegExp(`<th>${policy}</th>`))
  })

  it('holds every invariant on a few fresh seeds (printed, to replay a failure)', () => {
    const scenario = loadScenario(join(ROOT, 'sim/scenarios/leader-failover.yaml'))
    for (let i = 0; i < 3; i++) {
      const seed = Math.floor(Math.random() * 2 ** 32)
      const r = runScenario({ scenario, policies: ['agentmesh'], seed, durationMs: scenario.durationMs, version: 'test', reportPoints: 0 })
      assert.ok(r.summary.ok, `seed ${seed}: replay with agentmesh sim sim/scenarios/leader-failover.yaml --seed ${seed} --policy agentmesh; ${JSON.stringify(r.summary.policies[0].invariants)}`)
    }
  })
})
