/**
 * Runs a scenario under one or more policies and builds the JSON summary. The summary is a
 * pure function of (scenario, seed, duration, version): no wall-clock figure goes in it.
 */
import type { PolicyName, Scenario } from './scenario.js'
import { Simulation, type InjectedBug, type Marker, type RunFigures, type RunSeries } from './simulation.js'
import type { SimForecast } from './forecast-sim.js'
import type { Violation } from './observer.js'
import { runSharded, runShardedAsync } from './sharded-run.js'
import { percentileOf, round3 } from './stats.js'

export interface RunRequest {
  scenario: Scenario
  policies: PolicyName[]
  seed: number
  durationMs: number
  version: string
  reportPoints: number
  onProgress?: (policy: PolicyName, index: number, nowMs: number) => void
  /** Test only: deliberate bugs (simulation.ts, InjectedBug). */
  bugs?: readonly InjectedBug[]
  /**
   * Worker threads an agentmesh run spreads its sites over (sharded-run.ts; default 1: this
   * thread). The summary is the same bytes whatever the number.
   */
  workers?: number
}

export interface PolicySummary {
  policy: PolicyName
  hosts: number
  sites: number
  simulatedS: number
  events: number
  invariants: { held: true } | { held: false, violation: Omit<Violation, 'atMs'> & { atS: number }, replay: string }
  /** Seconds a (site, service) pair's backlog was above its SLA, summed over pairs. */
  slaViolationS: number
  /** Seconds during which at least one pair was above its SLA. */
  slaViolationAnyS: number
  /** Container-seconds: every starting or running container, integrated over time. */
  containerSeconds: number
  /** containerSeconds ÷ the run's clairvoyantContainerSeconds (null when that is 0). */
  costOverClairvoyant: number | null
  /** From a step up in load to the first extra replica running in that site. */
  reactionS: { p50: number | null, p99: number | null, count: number, censored: number }
  /** From the loss of a site's leader (a crash) to the next election there; null for the baselines. */
  failoverS: { p50: number | null, max: number | null, count: number } | null
  /** Publish to delivery, over every delivery; null for the baselines (no gossip). */
  propagationMs: { p50: number | null, p99: number | null, deliveries: number, lost: number } | null
  gossipBytesPerHostPerS: number | null
  elections: number
  pairs: { site: string, service: string, slaViolationS: number, backlogEnd: number, runningEnd: number }[]
}

export interface RunSummary {
  scenario: string
  file: string
  version: string
  seed: number
  durationS: number
  /**
   * A lower bound no policy can beat: each load step, just enough replicas to drain that step's
   * arrivals, no start latency (see LoadModel.clairvoyantMs); the same for every policy.
   */
  clairvoyantContainerSeconds: number
  policies: PolicySummary[]
  /** agentmesh over each baseline, when both ran: under 1 is better for agentmesh. */
  comparison: Record<string, number | null>
  /** Exit status: every invariant held under every policy. */
  ok: boolean
}

export interface RunResult {
  summary: RunSummary
  /** For the HTML report: series and markers per policy. */
  details: { policy: PolicyName, series: RunSeries, markers: Marker[] }[]
}

export function replayCommand (scenario: Scenario, seed: number, durationMs: number, policy: PolicyName): string {
  const file = scenario.file === '' ? 'SCENARIO.yaml' : scenario.file
  return `agentmesh sim ${file} --seed ${seed} --duration ${durationMs / 1000}s --policy ${policy}`
}

/**
 * agentmesh runs sharded by site (sharded-run.ts: each site its own queue and random streams,
 * over `workers` threads); a baseline runs the whole world on one queue (its controller reads
 * every site at once).
 */
export function runScenario (req: RunRequest): RunResult {
  const runs = new PolicyRuns(req)
  req.policies.forEach((policy, index) => {
    if (policy === 'agentmesh') {
      runs.add(runSharded(req.scenario, runs.shardedOptions(policy, index, undefined)).figures, policy)
      return
    }
    const sim = runs.simulation(policy, index, undefined)
    sim.run()
    runs.add(sim.figures(), policy)
  })
  return runs.result()
}

/**
 * runScenario with load forecasting (sim/forecast-sim.ts): services with a `forecast` block run
 * their model through onnxruntime-node in every simulated leader. The summary is as
 * deterministic as runScenario's: one summary per seed, byte for byte.
 */
export async function runScenarioAsync (req: RunRequest, forecast: SimForecast): Promise<RunResult> {
  const runs = new PolicyRuns(req)
  for (const [index, policy] of req.policies.entries()) {
    if (policy === 'agentmesh') {
      runs.add((await runShardedAsync(req.scenario, runs.shardedOptions(policy, index, forecast))).figures, policy)
      continue
    }
    const sim = runs.simulation(policy, index, forecast)
    await sim.runAsync()
    runs.add(sim.figures(), policy)
  }
  return runs.result()
}

class PolicyRuns {
  private readonly policies: PolicySummary[] = []
  private readonly details: RunResult['details'] = []
  private clairvoyantS = 0

  constructor (private readonly req: RunRequest) {}

  simulation (policy: PolicyName, index: number, forecast: SimForecast | undefined): Simulation {
    const req = this.req
    return new Simulation(req.scenario, {
      policy, seed: req.seed, durationMs: req.durationMs, reportPoints: req.reportPoints, bugs: req.bugs,
      onProgress: req.onProgress === undefined ? undefined : (now) => req.onProgress!(policy, index, now),
      forecast: policy === 'agentmesh' ? forecast : undefined,
    })
  }

  shardedOptions (policy: PolicyName, index: number, forecast: SimForecast | undefined): Parameters<typeof runSharded>[1] {
    const req = this.req
    return {
      policy, seed: req.seed, durationMs: req.durationMs, reportPoints: req.reportPoints, bugs: req.bugs, forecast, workers: req.workers ?? 1,
      onProgress: req.onProgress === undefined ? undefined : (now) => req.onProgress!(policy, index, now),
    }
  }

  add (fig: RunFigures, policy: PolicyName): void {
    let bound = 0
    for (const p of fig.pairs) bound += p.clairvoyantMs
    this.clairvoyantS = round3(bound / 1000)
    this.policies.push(summarise(fig, this.req, policy, this.clairvoyantS))
    this.details.push({ policy, series: fig.series, markers: fig.markers })
  }

  result (): RunResult {
    return assemble(this.req, this.policies, this.details, this.clairvoyantS)
  }
}

function assemble (req: RunRequest, policies: PolicySummary[], details: RunResult['details'], clairvoyantS: number): RunResult {
  const comparison: Record<string, number | null> = {}
  const mesh = policies.find(p => p.policy === 'agentmesh')
  for (const base of policies) {
    if (mesh === undefined || base.policy === 'agentmesh') continue
    comparison[`slaRatio_${base.policy}`] = ratio(mesh.slaViolationS, base.slaViolationS)
    comparison[`costRatio_${base.policy}`] = ratio(mesh.containerSeconds, base.containerSeconds)
  }
  return {
    summary: {
      scenario: req.scenario.name, file: req.scenario.file, version: req.version, seed: req.seed,
      durationS: req.durationMs / 1000, clairvoyantContainerSeconds: clairvoyantS, policies, comparison, ok: policies.every(p => p.invariants.held),
    },
    details,
  }
}

/** a / b, 1 when both are zero, null when only b is. */
export function ratio (a: number, b: number): number | null {
  if (b === 0) return a === 0 ? 1 : null
  return round3(a / b)
}

function summarise (sim: RunFigures, req: RunRequest, policy: PolicyName, clairvoyantS: number): PolicySummary {
  const v = sim.violation
  const simulatedMs = Math.min(sim.stoppedAtMs, req.durationMs)
  let sla = 0
  for (const p of sim.pairs) sla += p.slaViolationMs
  const mesh = policy === 'agentmesh'
  return {
    policy,
    hosts: sim.hosts,
    sites: req.scenario.sites.length,
    simulatedS: simulatedMs / 1000,
    events: sim.events,
    invariants: v === undefined
      ? { held: true }
      : { held: false, violation: { invariant: v.invariant, atS: v.atMs / 1000, site: v.site, host: v.host, detail: v.detail }, replay: replayCommand(req.scenario, req.seed, req.durationMs, policy) },
    slaViolationS: round3(sla / 1000),
    slaViolationAnyS: round3(sim.anySlaViolationMs / 1000),
    containerSeconds: round3(sim.containerMs / 1000),
    costOverClairvoyant: clairvoyantS > 0 ? round3(sim.containerMs / 1000 / clairvoyantS) : null,
    reactionS: {
      p50: sec(percentileOf(sim.reactionsMs, 50)), p99: sec(percentileOf(sim.reactionsMs, 99)),
      count: sim.reactionsMs.length, censored: sim.reactionsCensored,
    },
    failoverS: mesh ? { p50: sec(percentileOf(sim.failoversMs, 50)), max: sec(percentileOf(sim.failoversMs, 100)), count: sim.failoversMs.length } : null,
    propagationMs: mesh ? { p50: sim.propagation.percentile(50), p99: sim.propagation.percentile(99), deliveries: sim.deliveries, lost: sim.lostDeliveries } : null,
    gossipBytesPerHostPerS: mesh && simulatedMs > 0 ? round3(sim.gossipBytes / sim.hosts / (simulatedMs / 1000)) : null,
    elections: sim.elections,
    pairs: sim.pairs.map(p => ({
      site: req.scenario.sites[p.site].name,
      service: req.scenario.services[p.service].spec.name,
      slaViolationS: round3(p.slaViolationMs / 1000),
      backlogEnd: round3(p.backlog),
      runningEnd: p.running,
    })),
  }
}

function sec (ms: number | null): number | null {
  return ms === null ? null : round3(ms / 1000)
}
