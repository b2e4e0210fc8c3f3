/**
 * `node [--max-semi-space-size=64] dist/sim/fleet-run.js THOUSANDS SECONDS`: runs the generated
 * benchmark fleet (fleet.ts) under agentmesh in its own process and prints one JSON line with
 * the wall time, events and peak RSS. The benchmark spawns it so that peak RSS is the run's own.
 */
import { performance } from 'node:perf_hooks'
import { fleetScenario } from './fleet.js'
import { runScenario } from './run-scenario.js'

const [thousands, seconds] = process.argv.slice(2).map(Number)
if (!(thousands >= 1) || !(seconds >= 1)) {
  console.error('usage: node dist/sim/fleet-run.js THOUSANDS_OF_HOSTS SIMULATED_SECONDS')
  process.exit(2)
}
const scenario = fleetScenario(thousands, seconds * 1000)
const start = performance.now()
const { summary } = runScenario({ scenario, policies: ['agentmesh'], seed: 1, durationMs: seconds * 1000, version: 'bench', reportPoints: 0 })
const wallS = (performance.now() - start) / 1000
const p = summary.policies[0]
console.log(JSON.stringify({
  hosts: p.hosts, sites: p.sites, simulatedS: p.simulatedS, wallS, events: p.events,
  deliveries: p.propagationMs?.deliveries ?? 0, peakRssMb: process.resourceUsage().maxRSS / 1024, invariantsHeld: p.invariants.held,
}))
