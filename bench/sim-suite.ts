/**
 * Simulator benchmarks: wall time of a simulated hour at 1,000 and 10,000 hosts, event rate,
 * peak memory, and agentmesh against the HPA and KEDA baselines on the flagship scenario.
 *
 * The fleets are generated (sim/fleet.ts): per 1,000 hosts, 5 on-prem sites of 40 hosts and
 * 4 cloud regions of 50 (500 ms heartbeats), 30 edge clusters of 20 devices (2 s heartbeats),
 * four services, diurnal load with bursts, a few crashes. Each fleet runs in its own process
 * with a 64 MiB young generation (--max-semi-space-size=64): heartbeats live about a second in
 * every receiver's membership table, and with V8's default semi-space they are all copied and
 * promoted, which costs a third of the run.
 *
 * The 10,000-host figure runs SIM_BENCH_10K_S simulated seconds (default 300) and scales the
 * wall time to an hour linearly (the fleet's work per simulated second is steady); the unit
 * says so. Set SIM_BENCH_10K_S=3600 to measure the whole hour.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { loadScenario } from '../sim/scenario-parse.js'
import { runScenario } from '../sim/run-scenario.js'
import { POLICY_NAMES } from '../sim/scenario.js'
import { round, type Figure, type Suite } from './harness.js'

const HOUR_S = 3600
const FLEET_RUN = fileURLToPath(new URL('../sim/fleet-run.js', import.meta.url))
const CHIMERA = fileURLToPath(new URL('../../sim/scenarios/chimera.yaml', import.meta.url))

interface FleetRun { hosts: number, sites: number, simulatedS: number, wallS: number, events: number, deliveries: number, peakRssMb: number, invariantsHeld: boolean }

function fleetRun (thousands: number, seconds: number): FleetRun {
  const r = spawnSync(process.execPath, ['--max-semi-space-size=64', FLEET_RUN, String(thousands), String(seconds)], { encoding: 'utf8', maxBuffer: 1 << 20 })
  if (r.status !== 0) throw new Error(`fleet run ${thousands}k × ${seconds} s failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as FleetRun
}

export const simSuite: Suite = {
  name: 'sim',
  description: 'simulator: wall time of a simulated hour at 1k and 10k hosts, events/s, RSS, SLA and cost vs HPA and KEDA on chimera.yaml',
  async run (log) {
    const figures: Figure[] = []
    const oneK = fleetRun(1, HOUR_S)
    log(`sim 1k: ${oneK.hosts} hosts in ${oneK.sites} sites, ${oneK.simulatedS} s simulated in ${round(oneK.wallS, 1)} s wall, ${oneK.events} events, ${oneK.deliveries} deliveries, invariants ${oneK.invariantsHeld ? 'held' : 'BROKEN'}`)
    figures.push({ metric: 'sim.wall_s_1k_1h', value: round(oneK.wallS, 1), unit: 's', target: '< 30' })

    const tenKSeconds = Number(process.env.SIM_BENCH_10K_S ?? 300)
    const tenK = fleetRun(10, tenKSeconds)
    const scale = HOUR_S / tenKSeconds
    log(`sim 10k: ${tenK.hosts} hosts in ${tenK.sites} sites, ${tenK.simulatedS} s simulated in ${round(tenK.wallS, 1)} s wall, ${tenK.events} events, ${tenK.deliveries} deliveries, peak RSS ${round(tenK.peakRssMb, 0)} MB, invariants ${tenK.invariantsHeld ? 'held' : 'BROKEN'}`)
    figures.push({
      metric: 'sim.wall_s_10k_1h', value: round(tenK.wallS * scale, 1),
      unit: scale === 1 ? 's' : `s (extrapolated x${round(scale, 2)} from ${tenKSeconds} s simulated)`, target: '< 300',
    })
    figures.push({ metric: 'sim.events_per_s', value: Math.round(tenK.events / tenK.wallS), unit: 'events/s (10k hosts)' })
    figures.push({ metric: 'sim.rss_mb_10k', value: round(tenK.peakRssMb, 0), unit: 'MB', target: '< 4096' })

    const scenario = loadScenario(CHIMERA)
    const { summary } = runScenario({ scenario, policies: [...POLICY_NAMES], seed: scenario.seed, durationMs: scenario.durationMs, version: 'bench', reportPoints: 0 })
    for (const p of summary.policies) log(`chimera ${p.policy}: SLA violation ${p.slaViolationS} s, ${p.containerSeconds} container-s, invariants ${p.invariants.held ? 'held' : 'BROKEN'}`)
    const c = summary.comparison
    figures.push({ metric: 'sim.sla_ratio_hpa', value: c.slaRatio_hpa ?? NaN, unit: 'ratio', target: '< 0.5' })
    figures.push({ metric: 'sim.sla_ratio_keda', value: c.slaRatio_keda ?? NaN, unit: 'ratio', target: '< 0.5' })
    figures.push({ metric: 'sim.cost_ratio_hpa', value: c.costRatio_hpa ?? NaN, unit: 'ratio', target: '<= 1.0' })
    figures.push({ metric: 'sim.cost_ratio_keda', value: c.costRatio_keda ?? NaN, unit: 'ratio', target: '<= 1.0' })
    return figures
  },
}
