/**
 * Benchmark suite `faults`: the fault suite of test/faults/ run N times (default 20; `--runs N`
 * or AGENTMESH_BENCH_FAULT_RUNS). One world (5 network-namespace hosts, each with its own Docker
 * engine) serves every run; each run is a fresh site of 5 supervisors running 5 replicas, and
 * goes through every scenario once, in order.
 *
 * Figures: runs; terms with two leaders (split brain), replicas lost and duplicated, and orphaned
 * containers, summed over every scenario of every run (each counted from the engines once the
 * site is steady after the heal); recovery time after heal (to one leader for all, the plan met
 * and the counts right), median and max over every scenario. A scenario that never became steady
 * or a run that failed is counted too, and its recovery is left out of the median and max.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FaultSite, FaultWorld } from '../test/faults/fault-site.js'
import { FAULTS_DIR } from '../test/faults/net-hosts.js'
import { RECOVERY_TIMEOUT_MS, runScenario, SCENARIOS } from '../test/faults/scenarios.js'
import { median, round, type Figure, type Suite } from './harness.js'

export const FAULT_RUNS_DEFAULT = 20
export const FAULT_RUNS_ENV = 'AGENTMESH_BENCH_FAULT_RUNS'
const HOSTS = 5
const REPLICAS = 5
const SLOTS_PER_HOST = 2
/** Every run's scenario lines and, for a scenario that went wrong, each host's last log lines. */
export const FAULT_BENCH_LOG = join(FAULTS_DIR, 'bench-last.log')
/** Log lines of each supervisor kept in the file when a scenario went wrong. */
const LOG_LINES_KEPT = 80

export const faultsSuite: Suite = {
  name: 'faults',
  description: `real faults (namespaces, one Docker engine per host): every scenario, N runs (default ${FAULT_RUNS_DEFAULT}; --runs N)`,
  async run (print, options) {
    const runs = options?.runs ?? runsFromEnv()
    // --json silences `print`; the file keeps what a failure needs to be understood.
    mkdirSync(FAULTS_DIR, { recursive: true, mode: 0o700 })
    writeFileSync(FAULT_BENCH_LOG, '')
    const log = (line: string): void => { appendFileSync(FAULT_BENCH_LOG, line + '\n'); print(line) }
    process.stderr.write(`faults: log in ${FAULT_BENCH_LOG}\n`)
    const world = await FaultWorld.create({ hosts: HOSTS, log })
    const recoveries: number[] = []
    let splitBrain = 0
    let lost = 0
    let duplicates = 0
    let orphans = 0
    let unrecovered = 0
    let stuck = 0
    let checkFailures = 0
    let failedRuns = 0
    try {
      for (let r = 1; r <= runs; r++) {
        log(`run ${r}/${runs}`)
        const site = await FaultSite.create(world, { replicas: REPLICAS, slotsPerHost: SLOTS_PER_HOST })
        try {
          site.startAll()
          const steady = await site.waitSteady(RECOVERY_TIMEOUT_MS)
          if (!steady.steady) throw new Error(`the site never became steady: ${steady.why}`)
          for (const scenario of SCENARIOS) {
            const unavailable = scenario.unavailable?.()
            if (unavailable !== undefined) { log(`${scenario.name} skipped: ${unavailable}`); continue }
            const res = await runScenario(site, scenario, log)
            lost += res.counts.lost
            duplicates += res.counts.duplicates
            orphans += res.counts.orphans
            checkFailures += res.verifyProblems.length + res.problems.length
            stuck += res.newlyStuck.length
            if (res.recoveryMs === undefined) unrecovered++
            else recoveries.push(res.recoveryMs)
            const wrong = !res.steady || res.counts.lost + res.counts.duplicates + res.counts.orphans + res.splitBrain.length + res.newlyStuck.length > 0
            if (wrong) await dumpEvidence(site, log)
            // The scenarios after an unsteady one cannot start: end this run, count it failed.
            if (!res.steady) throw new Error(`${scenario.name} left the site unsteady`)
          }
          splitBrain += site.splitBrainTerms().length
        } catch (err) {
          failedRuns++
          splitBrain += site.splitBrainTerms().length
          log(`run ${r} failed: ${(err as Error).message}`)
        } finally {
          await site.close().catch((err: Error) => log(`closing run ${r}: ${err.message}`))
        }
      }
    } finally {
      await world.destroy()
    }
    return [
      { metric: 'faults.runs', value: runs, unit: `runs of ${SCENARIOS.length} scenarios` },
      { metric: 'faults.split_brain', value: splitBrain, unit: 'terms', target: '0' },
      { metric: 'faults.lost_containers', value: lost, unit: 'containers', target: '0' },
      { metric: 'faults.duplicate_containers', value: duplicates, unit: 'containers', target: '0' },
      { metric: 'faults.orphans', value: orphans, unit: 'containers', target: '0' },
      { metric: 'faults.recovery_ms_median', value: recoveries.length > 0 ? round(median(recoveries), 1) : -1, unit: 'ms' },
      { metric: 'faults.recovery_ms_max', value: recoveries.length > 0 ? Math.max(...recoveries) : -1, unit: 'ms' },
      { metric: 'faults.stuck_in_engine', value: stuck, unit: 'containers (engine failed to remove)', target: '0' },
      { metric: 'faults.unrecovered', value: unrecovered, unit: 'scenarios', target: '0' },
      { metric: 'faults.check_failures', value: checkFailures, unit: 'checks (adoption …)', target: '0' },
      { metric: 'faults.failed_runs', value: failedRuns, unit: 'runs', target: '0' },
    ] satisfies Figure[]
  },
}

async function dumpEvidence (site: FaultSite, log: (line: string) => void): Promise<void> {
  for (const [s, list] of await site.containersByHost().catch(() => new Map())) {
    log(`  engine of ${s.hostId}: ${list.map((c: { id: string, state: string, host: string }) => `${c.id} ${c.state} (for ${c.host})`).join(', ') || 'nothing'}`)
  }
  for (const s of site.sups) log(`  ${s.hostId} (${s.running ? 'running' : 'not running'}):\n    ${s.lines.slice(-LOG_LINES_KEPT).join('\n    ')}`)
}

function runsFromEnv (): number {
  const text = process.env[FAULT_RUNS_ENV]
  if (text === undefined || text === '') return FAULT_RUNS_DEFAULT
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${FAULT_RUNS_ENV} must be a whole number ≥ 1, got "${text}"`)
  return n
}
