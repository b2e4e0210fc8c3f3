/**
 * `node dist/sim/trace-set-run.js SCENARIO.yaml SEED`: runs one scenario of the real-trace set on
 * one seed under every policy, in its own process (the benchmark runs several at once with
 * SIM_BENCH_JOBS), and prints one JSON line: a SetRun (trace-set.ts).
 */
import { runOne } from './trace-set.js'

const [file, seedText] = process.argv.slice(2)
const seed = Number(seedText)
if (file === undefined || !Number.isInteger(seed) || seed < 0) {
  console.error('usage: node dist/sim/trace-set-run.js SCENARIO.yaml SEED')
  process.exit(2)
}
console.log(JSON.stringify(runOne(file, seed)))
