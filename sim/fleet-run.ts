/**
 * `node [V8 flags] dist/sim/fleet-run.js THOUSANDS SECONDS [WORKERS]`: runs the generated
 * benchmark fleet (fleet.ts) under agentmesh, sharded over WORKERS threads (default 1), in its
 * own process, and prints one JSON line: wall and CPU time, events, deliveries, peak RSS, and
 * how long the workers waited for each other. The benchmark spawns it so that peak RSS is the
 * run's own.
 */
import { performance } from 'node:perf_hooks'
import { fleetScenario } from './fleet.js'
import { runSharded } from './sharded-run.js'

const [thousands, seconds, workersArg] = process.argv.slice(2).map(Number)
const workers = workersArg ?? 1
if (!(thousands >= 1) || !(seconds >= 1) || !Number.isInteger(workers) || workers < 1) {
  console.error('usage: node dist/sim/fleet-run.js THOUSANDS_OF_HOSTS SIMULATED_SECONDS [WORKERS]')
  process.exit(2)
}
const durationMs = seconds * 1000
const scenario = fleetScenario(thousands, durationMs)
const start = performance.now()
const cpu = process.cpuUsage()
const r = runSharded(scenario, { policy: 'agentmesh', seed: 1, durationMs, reportPoints: 0, workers })
const wallS = (performance.now() - start) / 1000
const used = process.cpuUsage(cpu)
const f = r.figures
const waitMs = r.workerStats.reduce((n, s) => n + s.waitMs, 0)
const busyMs = r.workerStats.reduce((n, s) => n + s.totalMs, 0)
console.log(JSON.stringify({
  hosts: f.hosts, sites: scenario.sites.length, simulatedS: Math.min(f.stoppedAtMs, durationMs) / 1000, wallS, cpuS: (used.user + used.system) / 1e6,
  events: f.events, deliveries: f.deliveries, peakRssMb: process.resourceUsage().maxRSS / 1024, invariantsHeld: f.violation === undefined,
  workers: r.workerStats.length, waitShare: busyMs > 0 ? waitMs / busyMs : 0,
}))
