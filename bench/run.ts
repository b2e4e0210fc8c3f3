/**
 * `npm run bench -- [SUITE...] [--json] [--list] [--runs N]`: runs benchmark suites and prints figures.
 */
import { coreSuite } from './core-suite.js'
import { simSuite } from './sim-suite.js'
import { meshSuite } from './mesh-suite.js'
import { e2eSuite } from './e2e-suite.js'
import { convergeSuite } from './converge-suite.js'
import { FAULT_RUNS_DEFAULT, FAULT_RUNS_ENV, faultsSuite } from './faults-suite.js'
import { fuzzSuite } from './fuzz-suite.js'
import { forecastSuite } from './forecast-suite.js'
import { fidelitySuite } from './fidelity-suite.js'
import type { Suite, SuiteOptions } from './harness.js'

const SUITES: Suite[] = [coreSuite, simSuite, meshSuite, convergeSuite, e2eSuite, faultsSuite, fuzzSuite, forecastSuite, fidelitySuite]

const USAGE = `usage: npm run bench -- [SUITE...] [--json] [--list] [--runs N]

  SUITE     one or more of: ${SUITES.map(s => s.name).join(', ')} (default: all)
  --json    one JSON object per line: {"metric": NAME, "value": N, "unit": U}
  --list    list the suites and exit
  --runs N  how many times the faults suite runs its scenarios (default ${FAULT_RUNS_DEFAULT},
            or ${FAULT_RUNS_ENV}); needs root (network namespaces, one Docker engine per host)`

async function main (argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  if (argv.includes('--help') || argv.includes('-h')) { console.log(USAGE); return 0 }
  if (argv.includes('--list')) {
    for (const s of SUITES) console.log(`${s.name.padEnd(8)} ${s.description}`)
    return 0
  }
  const options: SuiteOptions = {}
  const runsAt = argv.indexOf('--runs')
  if (runsAt >= 0) {
    const text = argv[runsAt + 1] ?? ''
    const runs = Number(text)
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(runs) || runs < 1) { console.error(`--runs needs a whole number ≥ 1, got "${text}"\n\n${USAGE}`); return 2 }
    options.runs = runs
    argv = argv.filter((_, i) => i !== runsAt && i !== runsAt + 1)
  }
  const unknownFlag = argv.find(a => a.startsWith('-') && a !== '--json')
  if (unknownFlag !== undefined) { console.error(`unknown option ${unknownFlag}\n\n${USAGE}`); return 2 }
  const names = argv.filter(a => !a.startsWith('-'))
  const chosen: Suite[] = []
  for (const name of names) {
    const suite = SUITES.find(s => s.name === name)
    if (suite === undefined) { console.error(`unknown suite "${name}"; known: ${SUITES.map(s => s.name).join(', ')}`); return 2 }
    chosen.push(suite)
  }
  const log = (line: string): void => { if (!json) console.error(line) }
  for (const suite of chosen.length > 0 ? chosen : SUITES) {
    const figures = await suite.run(log, options)
    for (const f of figures) {
      if (json) console.log(JSON.stringify({ metric: f.metric, value: f.value, unit: f.unit }))
      else console.log(`${f.metric.padEnd(32)} ${String(f.value).padStart(12)} ${f.unit.padEnd(14)} target ${f.target ?? '-'}`)
    }
  }
  return 0
}

process.exitCode = await main(process.argv.slice(2))
