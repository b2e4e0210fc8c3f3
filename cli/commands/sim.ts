/**
 * `agentmesh sim SCENARIO.yaml`: runs a scenario in the deterministic simulator (sim/),
 * writes the JSON summary and, if asked, the HTML report. Exit 0 when every invariant held,
 * 1 when one broke (the summary names it, the time and the replay command), 2 on bad input.
 * `agentmesh sim --from-config agentmesh.yaml ...` builds the scenario from a host's config
 * first (sim-from-config.ts) and then runs it the same way.
 */
import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { performance } from 'node:perf_hooks'
import { SimError, SimErrorCode } from '../../sim/errors.js'
import { ProgressBar } from '../../sim/progress-bar.js'
import { renderReport } from '../../sim/report-html.js'
import { runScenario, runScenarioAsync, type RunSummary } from '../../sim/run-scenario.js'
import { FORECAST_MODES, forecasts, simForecast, withForecast, type ForecastMode } from '../../sim/forecast-sim.js'
import { loadScenario, parseDurationMs, SCENARIO_NUMBERS } from '../../sim/scenario-parse.js'
import { POLICY_NAMES, SITE_KINDS, type PolicyName, type Scenario, type SiteKind } from '../../sim/scenario.js'
import { SIM_DEFAULTS } from '../../sim/defaults.js'
import { intFlag, parseCommandArgs } from '../args.js'
import { buildWhatIf, nonNegativeNumber, perServiceFlag, positiveNumber, readHostShape, readNodeShape, type WhatIfFlags } from './sim-from-config.js'
import type { Command } from './command.js'
import { packageVersion } from '../package-version.js'

/** `--workers auto` runs a fleet of fewer hosts on one thread: starting workers costs more than they save. */
const WORKERS_AUTO_MIN_HOSTS = 1000
/** The most --workers may ask for. */
const WORKERS_MAX = 256

const USAGE = `usage: agentmesh sim SCENARIO.yaml [options]
       agentmesh sim --from-config agentmesh.yaml (--hosts N | --from-node URL) --trace [SERVICE=]FILE
                     --drain [SERVICE=]N --sla [SERVICE=]N [what-if options] [options]

Runs the scenario in the deterministic simulator: the real supervisor core on every simulated
host, over a simulated network, container runtime and load. Same scenario + seed + version
gives a byte-identical JSON summary.

what-if (--from-config): the scenario is built from a host's agentmesh.yaml, so a policy change
can be tried on the site's own shape: its site, labels, priority, timing profile, slots per
host and services (read as the daemon reads them). The rest comes from flags; each missing
piece is named. A node keeps no history of its signals, so the load is a trace file.
  --from-config FILE     the host config (other sections are not checked here: supervise --check)
  --hosts N              hosts in the site (1 to ${SIM_DEFAULTS.maxHosts})
  --slots N              agent slots per host (default: the config's capacity.slots)
  --from-node URL        instead of --hosts/--slots: a live node's GET URL/v1/sites (hosts alive,
                         slots; no token needed), e.g. http://127.0.0.1:7421
  --trace [S=]FILE,...   the site's arrival rate per service: CSV t_seconds,rate (sim/traces/);
                         a bare FILE is the load of every service not named
  --drain [S=]N,...      backlog one replica drains per second
  --sla [S=]N,...        backlog above which the service's SLA is violated
  --upstream NAME=N,...  messages per second an upstream the services name can feed
  --site-kind KIND       on-prem | cloud | edge: start latencies and links (default: edge for
                         profile wan, else on-prem)
  --print-scenario       print the built scenario (YAML) on stdout and exit, to edit and run
  The duration defaults to the longest trace; policies to agentmesh.

options:
  --seed N          seed of the run (default: the scenario's seed, else 1)
  --duration D      simulated time, e.g. 90s, 10m, 2h (default: the scenario's duration)
  --policy P        agentmesh | hpa | keda | central | all (default: the scenario's policies)
  --json OUT.json   write the JSON summary there (default: print it on stdout)
  --report OUT.html write a self-contained HTML report
  --forecast F      scenario | on | off: load forecasting as each service's forecast block says
                    (default), the builtin model for every service, or none (docs/forecast.md);
                    compare on and off on the same seed
  --workers N|auto  worker threads an agentmesh run spreads its sites over (default auto: one
                    under ${WORKERS_AUTO_MIN_HOSTS} hosts, else the machine's cores, at most one per site);
                    the summary and report are the same bytes whatever the number
  --quiet           no progress bar and no table

examples:
  agentmesh sim sim/scenarios/chimera.yaml --policy all --report chimera.html
  agentmesh sim sim/scenarios/burst.yaml --seed 7 --duration 10m --json burst.json --quiet
  agentmesh sim --from-config /etc/agentmesh/agentmesh.yaml --hosts 12 --slots 8 \\
    --trace sim/traces/worldcup98-0707-day.csv --drain 50 --sla 2000 --policy all --report whatif.html
  agentmesh sim --from-config agentmesh.yaml --from-node http://127.0.0.1:7421 \\
    --trace ingest=ingest.csv --drain ingest=20 --sla ingest=500 --print-scenario > whatif.yaml

exit status: 0 every invariant held (or --print-scenario printed it), 1 an invariant broke or
--from-node could not read the node (E_SIM_NODE_UNREACHABLE), 2 bad input (E_SIM_ARGS_INVALID,
E_SIM_CONFIG_INVALID, E_SIM_SCENARIO_INVALID, E_SIM_TRACE_INVALID, E_SIM_IO): nothing ran`

interface SimArgs {
  /** The scenario file; '' with --from-config. */
  file: string
  whatIf: WhatIfFlags | undefined
  printScenario: boolean
  seed: number | undefined
  durationMs: number | undefined
  policies: PolicyName[] | undefined
  json: string | undefined
  report: string | undefined
  quiet: boolean
  forecast: ForecastMode
  /** undefined: auto (workersFor). */
  workers: number | undefined
}


/** What `--workers auto` means for this scenario on this machine. */
export function workersFor (scenario: Scenario): number {
  const hosts = scenario.sites.reduce((n, s) => n + s.hosts, 0)
  return hosts < WORKERS_AUTO_MIN_HOSTS ? 1 : Math.max(1, Math.min(availableParallelism(), scenario.sites.length))
}

const invalid = (message: string): SimError => new SimError(SimErrorCode.ArgsInvalid, message)

const OPTIONS = {
  seed: { type: 'string' },
  duration: { type: 'string' },
  policy: { type: 'string' },
  json: { type: 'string' },
  report: { type: 'string' },
  quiet: { type: 'boolean' },
  workers: { type: 'string' },
  'from-config': { type: 'string' },
  hosts: { type: 'string' },
  slots: { type: 'string' },
  'from-node': { type: 'string' },
  trace: { type: 'string' },
  drain: { type: 'string' },
  sla: { type: 'string' },
  upstream: { type: 'string' },
  'site-kind': { type: 'string' },
  'print-scenario': { type: 'boolean' },
  forecast: { type: 'string' },
} as const

const WHAT_IF_FLAGS = ['hosts', 'slots', 'from-node', 'trace', 'drain', 'sla', 'upstream', 'site-kind', 'print-scenario'] as const

export function parseSimArgs (argv: readonly string[]): SimArgs {
  const { values: v, positionals } = parseCommandArgs(argv, OPTIONS, 1, invalid)
  const args: SimArgs = { file: positionals[0] ?? '', whatIf: undefined, printScenario: v['print-scenario'] === true, seed: undefined, durationMs: undefined, policies: undefined, json: v.json, report: v.report, quiet: v.quiet === true, forecast: 'scenario', workers: undefined }
  if (v.workers !== undefined && v.workers !== 'auto') args.workers = intFlag('--workers', v.workers, 1, WORKERS_MAX, invalid)
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
  if (v['from-config'] !== undefined) {
    if (args.file !== '') throw invalid(`give a scenario file or --from-config, not both (got "${args.file}")`)
    args.whatIf = parseWhatIf(v)
    return args
  }
  const stray = WHAT_IF_FLAGS.find(f => v[f] !== undefined)
  if (stray !== undefined) throw invalid(`--${stray} builds a what-if: it needs --from-config`)
  if (args.file === '') throw invalid('a scenario file (or --from-config) is required')
  return args
}

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values']

function parseWhatIf (v: Values): WhatIfFlags {
  if (v['from-node'] !== undefined && (v.hosts !== undefined || v.slots !== undefined)) throw invalid('give --from-node, or --hosts and --slots, not both')
  if (v['from-node'] === undefined && v.hosts === undefined) throw invalid('--from-config needs the site\'s hosts: --hosts N (and --slots N), or --from-node URL to read them from a live node')
  if (v['from-node'] !== undefined) {
    try { new URL(v['from-node']) } catch { throw invalid(`--from-node must be a URL such as http://127.0.0.1:7421, got "${v['from-node']}"`) } // eslint-disable-line no-new
  }
  const kind = v['site-kind']
  if (kind !== undefined && !(SITE_KINDS as readonly string[]).includes(kind)) throw invalid(`--site-kind must be one of ${SITE_KINDS.join(', ')}, got "${kind}"`)
  const upstreams = new Map<string, number>()
  if (v.upstream !== undefined) {
    const u = perServiceFlag('--upstream', v.upstream, positiveNumber, 'N > 0')
    if (u.all !== undefined) throw invalid('--upstream takes NAME=N for each upstream')
    for (const [k, n] of u.byService) upstreams.set(k, n)
  }
  return {
    configFile: v['from-config']!,
    hosts: v.hosts === undefined ? undefined : intFlag('--hosts', v.hosts, 1, SIM_DEFAULTS.maxHosts, invalid),
    slots: v.slots === undefined ? undefined : intFlag('--slots', v.slots, SCENARIO_NUMBERS.slots.min, SCENARIO_NUMBERS.slots.max, invalid),
    nodeUrl: v['from-node'],
    traces: v.trace === undefined ? { all: undefined, byService: new Map() } : perServiceFlag('--trace', v.trace, s => s === '' ? undefined : s, 'FILE'),
    drain: v.drain === undefined ? { all: undefined, byService: new Map() } : perServiceFlag('--drain', v.drain, positiveNumber, 'N > 0'),
    sla: v.sla === undefined ? { all: undefined, byService: new Map() } : perServiceFlag('--sla', v.sla, nonNegativeNumber, 'N ≥ 0'),
    upstreams,
    siteKind: kind as SiteKind | undefined,
  }
}

/** The scenario to run: the file, or one built from a host's config. Undefined when --print-scenario printed it. */
async function scenarioOf (args: SimArgs): Promise<Scenario | undefined> {
  if (args.whatIf === undefined) return loadScenario(args.file)
  const w = args.whatIf
  const shape = readHostShape(w.configFile)
  let hosts: { hosts: number, slots: number, from: string }
  if (w.nodeUrl !== undefined) {
    const node = await readNodeShape(w.nodeUrl, shape.site)
    if (node.note !== undefined) console.error(`agentmesh sim: note: ${node.note}`)
    hosts = { hosts: node.hosts, slots: node.slots, from: `read from ${w.nodeUrl}/v1/sites` }
  } else {
    hosts = { hosts: w.hosts!, slots: w.slots ?? shape.slots, from: w.slots === undefined ? '--hosts, the config\'s slots' : '--hosts and --slots' }
  }
  const built = buildWhatIf(w, shape, hosts, process.cwd())
  for (const note of built.notes) console.error(`agentmesh sim: note: ${note}`)
  if (args.printScenario) {
    process.stdout.write(built.text)
    return undefined
  }
  return built.scenario
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'run a scenario, or a what-if built from a host config, in the deterministic simulator',
  usage: USAGE,
  async run (argv) {
    try {
      return await runSim(parseSimArgs(argv))
    } catch (err) {
      if (err instanceof SimError) {
        console.error(`agentmesh sim: ${err.code}: ${err.message}`)
        if (err.code === SimErrorCode.ArgsInvalid && err.problems.length === 0) console.error(`\n${USAGE}`)
        return err.code === SimErrorCode.NodeUnreachable ? 1 : 2
      }
      throw err
    }
  },
}

async function runSim (args: SimArgs): Promise<number> {
  const built = await scenarioOf(args)
  if (built === undefined) return 0
  const scenario = withForecast(built, args.forecast)
  const seed = args.seed ?? scenario.seed
  const durationMs = args.durationMs ?? scenario.durationMs
  const policies = args.policies ?? scenario.policies
  const bar = ProgressBar.forStderr(args.quiet)
  const startMs = performance.now()
  const req = {
    scenario, policies, seed, durationMs, version: packageVersion(), reportPoints: args.report === undefined ? 0 : SIM_DEFAULTS.reportPoints, workers: args.workers ?? workersFor(scenario),
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
