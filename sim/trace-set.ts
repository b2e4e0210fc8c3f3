/**
 * The real-trace set (sim/scenarios/trace-set/*.yaml) as a standard test: every scenario under
 * every policy on several seeds, and agentmesh ÷ each baseline aggregated over the runs. The
 * benchmark (bench/sim-suite.ts) prints the aggregates; whoever changes agentmesh's scaling
 * policy runs the same set to see what the change does, scenario by scenario:
 *
 *   SIM_BENCH_PARTS=traces,faults SIM_BENCH_RUNS_JSON=runs.json npm run bench -- sim
 *
 * A ratio against a baseline that had no SLA violation at all is meaningless (anything ÷ 0):
 * such runs are left out of the SLA ratio and counted, and both figures are always reported.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RateRules } from '../node/core/service-spec.js'
import { runScenario, type RunSummary } from './run-scenario.js'
import { loadScenario } from './scenario-parse.js'
import { BASELINE_NAMES, POLICY_NAMES, type BaselineName, type PolicyName, type Scenario } from './scenario.js'

export const TRACE_SET_DIR = fileURLToPath(new URL('../../sim/scenarios/trace-set/', import.meta.url))

/** Seeds every scenario of the set runs on by default. */
export const TRACE_SET_SEEDS = [1, 2, 3, 4, 5] as const

export interface PolicyFigures {
  policy: PolicyName
  slaViolationS: number
  containerSeconds: number
  costOverClairvoyant: number | null
  invariantsHeld: boolean
}

/** One scenario on one seed under every policy. */
export interface SetRun {
  scenario: string
  file: string
  /** The scenario has faults (crashes, partitions, flapping uplinks…). */
  faults: boolean
  seed: number
  clairvoyantContainerSeconds: number
  policies: PolicyFigures[]
}

/** The set's scenario files, sorted. */
export function traceSetFiles (dir = TRACE_SET_DIR): string[] {
  return readdirSync(dir).filter(f => f.endsWith('.yaml')).sort().map(f => join(dir, f))
}

/** Whether a scenario belongs to the fault part of the set. */
export function hasFaults (scenario: Scenario): boolean {
  return scenario.faults.length > 0 || scenario.sites.some(s => s.flap !== undefined)
}

/**
 * One scenario on one seed. `rate` overrides the rate policy's settings of every service (the
 * policy sweep, which chose the defaults); it changes agentmesh and central alike.
 */
export function runOne (file: string, seed: number, policies: readonly PolicyName[] = POLICY_NAMES, rate?: Partial<RateRules>): SetRun {
  const scenario = loadScenario(file)
  if (rate !== undefined) for (const svc of scenario.services) svc.spec = { ...svc.spec, rate: { ...svc.spec.rate, ...rate } }
  const { summary } = runScenario({ scenario, policies: [...policies], seed, durationMs: scenario.durationMs, version: 'trace-set', reportPoints: 0 })
  return fromSummary(summary, file, hasFaults(scenario))
}

export function fromSummary (summary: RunSummary, file: string, faults: boolean): SetRun {
  return {
    scenario: summary.scenario, file, faults, seed: summary.seed, clairvoyantContainerSeconds: summary.clairvoyantContainerSeconds,
    policies: summary.policies.map(p => ({
      policy: p.policy, slaViolationS: p.slaViolationS, containerSeconds: p.containerSeconds,
      costOverClairvoyant: p.costOverClairvoyant, invariantsHeld: p.invariants.held,
    })),
  }
}

export interface Spread { mean: number, min: number, max: number, n: number }

export interface Comparison {
  baseline: BaselineName
  /** agentmesh ÷ baseline SLA violation seconds, over runs where the baseline had some. */
  slaRatio: Spread | null
  /** Runs left out of slaRatio because the baseline had 0 s (of which agentmesh also had 0). */
  slaBaselineZeroRuns: number
  slaBothZeroRuns: number
  costRatio: Spread | null
  /** Mean SLA violation seconds and container-seconds per run, each policy. */
  meshSlaS: number
  baseSlaS: number
  meshCostS: number
  baseCostS: number
  /** Runs where agentmesh was worse than the baseline on SLA and on cost at once. */
  worseOnBoth: number
}

export function spread (values: readonly number[]): Spread | null {
  if (values.length === 0) return null
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (const v of values) { sum += v; if (v < min) min = v; if (v > max) max = v }
  return { mean: sum / values.length, min, max, n: values.length }
}

function figures (run: SetRun, policy: PolicyName): PolicyFigures | undefined {
  return run.policies.find(p => p.policy === policy)
}

export function compare (runs: readonly SetRun[], baseline: BaselineName): Comparison {
  const sla: number[] = []
  const cost: number[] = []
  let zero = 0
  let bothZero = 0
  let worse = 0
  let meshSla = 0
  let baseSla = 0
  let meshCost = 0
  let baseCost = 0
  let n = 0
  for (const run of runs) {
    const mesh = figures(run, 'agentmesh')
    const base = figures(run, baseline)
    if (mesh === undefined || base === undefined) continue
    n++
    meshSla += mesh.slaViolationS; baseSla += base.slaViolationS
    meshCost += mesh.containerSeconds; baseCost += base.containerSeconds
    if (base.slaViolationS > 0) sla.push(mesh.slaViolationS / base.slaViolationS)
    else { zero++; if (mesh.slaViolationS === 0) bothZero++ }
    if (base.containerSeconds > 0) cost.push(mesh.containerSeconds / base.containerSeconds)
    if (mesh.slaViolationS > base.slaViolationS && mesh.containerSeconds > base.containerSeconds) worse++
  }
  const per = (x: number): number => n === 0 ? 0 : x / n
  return {
    baseline, slaRatio: spread(sla), slaBaselineZeroRuns: zero, slaBothZeroRuns: bothZero, costRatio: spread(cost),
    meshSlaS: per(meshSla), baseSlaS: per(baseSla), meshCostS: per(meshCost), baseCostS: per(baseCost), worseOnBoth: worse,
  }
}

export function compareAll (runs: readonly SetRun[]): Comparison[] {
  return BASELINE_NAMES.map(b => compare(runs, b))
}

/** agentmesh's container-seconds ÷ the clairvoyant lower bound, over the runs. */
export function costOverClairvoyant (runs: readonly SetRun[], policy: PolicyName = 'agentmesh'): Spread | null {
  const values: number[] = []
  for (const run of runs) {
    const f = figures(run, policy)
    if (f?.costOverClairvoyant !== null && f?.costOverClairvoyant !== undefined) values.push(f.costOverClairvoyant)
  }
  return spread(values)
}
