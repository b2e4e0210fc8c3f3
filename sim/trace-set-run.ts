/**
 * `node dist/sim/trace-set-run.js SCENARIO.yaml SEED [POLICIES] [RATE_JSON]`: runs one scenario of
 * the real-trace set on one seed under every policy (or the comma list POLICIES), in its own
 * process (the benchmark runs several at once with SIM_BENCH_JOBS), and prints one JSON line: a
 * SetRun (trace-set.ts). RATE_JSON overrides the rate policy's settings (the policy sweep).
 */
import type { RateRules } from '../node/core/service-spec.js'
import { POLICY_NAMES, type PolicyName } from './scenario.js'
import { runOne } from './trace-set.js'

const [file, seedText, policiesText, rateText] = process.argv.slice(2)
const seed = Number(seedText)
const policies = policiesText === undefined || policiesText === '' ? POLICY_NAMES : policiesText.split(',') as PolicyName[]
if (file === undefined || !Number.isInteger(seed) || seed < 0 || policies.some(p => !POLICY_NAMES.includes(p))) {
  console.error(`usage: node dist/sim/trace-set-run.js SCENARIO.yaml SEED [POLICIES: comma list of ${POLICY_NAMES.join(', ')}] [RATE_JSON]`)
  process.exit(2)
}
const rate = rateText === undefined ? undefined : JSON.parse(rateText) as Partial<RateRules>
console.log(JSON.stringify(runOne(file, seed, policies, rate)))
