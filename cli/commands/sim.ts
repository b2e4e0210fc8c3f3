/**
 * `agentmesh sim SCENARIO.yaml`: runs a scenario in the deterministic simulator (sim/),
 * writes the JSON summary and, if asked, the HTML report. Exit 0 when every invariant held,
 * 1 when one broke (the summary names it, the time and the replay command), 2 on bad input.
 */
import { writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { SimError, SimErrorCode } from '../../sim/errors.js'
import { ProgressBar } from '../../sim/progress-bar.js'
import { renderReport } from '../../sim/report-html.js'
import { runScenario, runScenarioAsync, type RunSummary } from '../../sim/run-scenario.js'
import { FORECAST_MODES, forecasts, simForecast, withForecast, type ForecastMode } from '../../sim/forecast-sim.js'
import { loadScenario, parseDurationMs } from '../../sim/scenario-parse.js'
import { POLICY_NAMES, type PolicyName } from '../../sim/scenario.js'
import { SIM_DEFAULTS } from '../../sim/defaults.js'
import { parseCommandArgs } from '../args.js'
import type { Command } from './command.js'
import { packageVersion } from '../package-version.js'

const USAGE = `usage: agentmesh sim SCENARIO.yaml [options]

Runs the scenario in the deterministic simulator: the real supervisor core on every simulated
host, over a simulated network, container runtime and load. Same scenario + seed + version
gives a byte-identical JSON summary.

options:
  --seed N          seed of the run (default: the scenario's seed, else 1)
  --duration D      simulated time, e.g. 90s, 10m, 2h (default: the scenario's duration)
  --policy P        agentmesh | hpa | keda | central | all (default: the scenario's policies)
  --json OUT.json   write the JSON summary there (default: print it on stdout)
  --report OUT.html write a self-contained HTML report
  --forecast F      scenario | on | off: load forecasting as each service's forecast block says
                    (default), the builtin model for every service, or none (docs/forecast.md);
                    compare on and off on the same seed
  --quiet           no progress bar and no table

examples:
  agentmesh sim sim/scenarios/chimera.yaml --policy all --report chimera.html
  agentmesh sim sim/scenarios/burst.yaml --seed 7 --duration 10m --json burst.json --quiet

exit status: 0 every invariant held, 1 an invariant broke, 2 bad input`

interface SimArgs {
  file: string
  seed: number | undefined
  durationMs: number | undefined
  policies: PolicyName[] | undefined
  json: string | undefined
  report: string | undefined
  quiet: boolean
  forecast: ForecastMode
}

const invalid = (message: string): SimError => new SimError(SimErrorCode.ArgsInvalid, message)

const OPTIONS = {
  seed: { type: 'string' },
  duration: { type: 'string' },
  policy: { type: 'string' },
  json: { type: 'string' },
  report: { type: 'string' },
  quiet: { type: 'boolean' },
  forecast: { type: 'string' },
} as const

export function parseSimArgs (argv: readonly string[]): SimArgs {
  const { values: v, positionals } = parseCommandArgs(argv, OPTIONS, 1, invalid)
  const args: SimArgs = { file: positionals[0] ?? '', seed: undefined, durationMs: undefined, policies: undefined, json: v.json, report: v.report, quiet: v.quiet === true, forecast: 'scenario' }
  if (v.forecast !== undefined) {
    if (!(FORECAST_MODES as readonly string[]).includes(v.forecast)) throw invalid(`--forecast must be one of ${FORECAST_MODES.join(', ')}, got "${v.forecast}"`)
    args.forecast = v.forecast as ForecastMode
  }
  if (v.seed !== undefined) {
    const n = Number(v.seed)
    if (!/^\d+$/.test(v.seed) || n > 2 ** 32 - 1) throw invalid(`--seed must be a whole number from 0 to 4294967295, got "${v.seed}"`)
    args.seed = n
  }
  if (v.duration !== undefined) {
    const ms = parseDurationMs(/^\d+(\.\d+)?$/.test(v.duration) ? Number(v.duration) : v.duration)
    if (ms === undefined || ms < 1000 || ms > SIM_DEFAULTS.maxDurationMs) throw invalid(`--duration must be a duration from 1s to 168h such as 90s, 10m, 2h, got "${v.duration}"`)
    args.durationMs = ms
  }
  if (v.policy !== undefined) {
    if (v.policy === 'all') args.policies = [...POLICY_NAMES]
    else if ((POLICY_NAMES as readonly string[]).includes(v.policy)) args.policies = [v.policy as PolicyName]
    else throw invalid(`--policy must be one of ${POLICY_NAMES.join(', ')}, all; got "${v.policy}"`)
  }
  if (args.file === '') throw invalid('a scenario file is required')
  return args
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'run a scenario in the deterministic simulator (JSON summary, HTML report)',
  usage: USAGE,
  async run (argv) {
    try {
      return await runSim(parseSimArgs(argv))
    } catch (err) {
      if (err instanceof SimError) {
        console.error(`agentmesh sim: ${err.code}: ${err.message}`)
        if (err.code === SimErrorCode.ArgsInvalid) console.error(`\n${USAGE}`)
        return 2
      }
      throw err
    }
  },
}

async function runSim (args: SimArgs): Promise<number> {
  const scenario = withForecast(loadScenario(args.file), args.forecast)
  const seed = args.seed ?? scenario.seed
  const durationMs = args.durationMs ?? scenario.durationMs
  const policies = args.policies ?? scenario.policies
  const bar = ProgressBar.forStderr(args.quiet)
  const startMs = performance.now()
  const req = {
    scenario, policies, seed, durationMs, version: packageVersion(), reportPoints: args.report === undefined ? 0 : SIM_DEFAULTS.reportPoints,
    onProgress: (policy: PolicyName, index: number, nowMs: number) => bar.update(`${policy} ${index + 1}/${policies.length}`, (index + nowMs / durationMs) / policies.length),
  }
  let result
  if (forecasts(scenario)) {
    const forecast = simForecast(scenario)
    try { result = await runScenarioAsync(req, forecast) } finally { await forecast.close() }
  } else {
    result = runScenario(req)
  }
  bar.done()
  const json = JSON.stringify(result.summary, null, 2) + '\n'
  try {
    if (args.json !== undefined) writeFileSync(args.json, json)
    else process.stdout.write(json)
    if (args.report !== undefined) writeFileSync(args.report, renderReport(result, scenario))
  } catch (err) {
    console.error(`agentmesh sim: ${SimErrorCode.Io}: ${(err as Error).message}`)
    return 2
  }
  if (!args.quiet) console.error(table(result.summary, (performance.now() - startMs) / 1000))
  for (const p of result.summary.policies) {
    if (!p.invariants.held) {
      const v = p.invariants.violation
      console.error(`INVARIANT BROKEN under ${p.policy}: ${v.invariant} at ${v.atS} s (site ${v.site}, host ${v.host}): ${v.detail}\n  replay: ${p.invariants.replay}`)
    }
  }
  return result.summary.ok ? 0 : 1
}

/** A short human-readable table on stderr (wall-clock time only here, never in the JSON). */
function table (s: RunSummary, wallS: number): string {
  const rows = s.policies.map(p => [
    p.policy, p.invariants.held ? 'held' : `BROKEN: ${p.invariants.violation.invariant}`, String(p.slaViolationS), String(p.containerSeconds),
    p.reactionS.p50 === null ? '-' : `${p.reactionS.p50}/${p.reactionS.p99}`,
    p.failoverS?.p50 == null ? '-' : `${p.failoverS.p50}/${p.failoverS.max}`,
  ])
  const head = ['policy', 'invariants', 'SLA viol. s', 'container-s', 'reaction p50/p99 s', 'failover p50/max s']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i])).join('  ')
  return [`${s.scenario}: ${s.policies[0]?.hosts ?? 0} hosts, ${s.durationS} s simulated, seed ${s.seed}, ${wallS.toFixed(1)} s wall`, line(head), ...rows.map(line)].join('\n')
}
