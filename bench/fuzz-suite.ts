/**
 * `npm run bench -- fuzz`: both fuzzers of test/fuzz run for longer than `npm test` allows —
 * the protocol decoder under seeded mutations, then a live supervisor's HTTP API — and their
 * counts are the figures. A failure is printed with its seed and case; `FUZZ_SEED=N` replays a
 * run, `FUZZ_SECONDS` sets each fuzzer's time (default 60).
 */
import { fuzzProtocol } from '../test/fuzz/protocol-fuzzer.js'
import { fuzzHttp } from '../test/fuzz/http-fuzzer.js'
import { startFuzzDaemon } from '../test/fuzz/http-daemon.js'
import { fuzzSeed } from '../test/fuzz/seed.js'
import { round, type Figure, type Suite } from './harness.js'

const DEFAULT_SECONDS = 60
/** The corpus of valid encodings the protocol fuzzer mutates (plus the golden messages). */
const PROTOCOL_CORPUS = 512

export const fuzzSuite: Suite = {
  name: 'fuzz',
  description: `the protocol decoder and a live daemon's HTTP API under seeded fuzzing (FUZZ_SECONDS each, default ${DEFAULT_SECONDS}; FUZZ_SEED replays)`,
  async run (log) {
    const seconds = Number(process.env.FUZZ_SECONDS ?? DEFAULT_SECONDS)
    if (!(seconds > 0)) throw new Error(`FUZZ_SECONDS must be a number of seconds > 0, got ${process.env.FUZZ_SECONDS}`)
    const seed = fuzzSeed()
    log(`fuzz: seed ${seed} (replay with FUZZ_SEED=${seed}), ${seconds} s per fuzzer`)

    const p = fuzzProtocol({ seed, cases: Number.MAX_SAFE_INTEGER, timeBudgetMs: seconds * 1000, corpusSize: PROTOCOL_CORPUS })
    log(`protocol: ${p.cases} cases, ${p.decoded} decoded, refused ${JSON.stringify(p.refused)}`)
    for (const f of p.failures) log(`protocol failure: seed ${f.seed} case ${f.caseIndex} (${f.mutations.join(', ')}): ${f.error}; bytes ${f.hex}`)

    const d = await startFuzzDaemon()
    let h
    try {
      h = await fuzzHttp(d.target, { seed, requests: Number.MAX_SAFE_INTEGER, timeBudgetMs: seconds * 1000, log })
    } finally {
      await d.cluster.stopAll()
    }
    log(`http: ${h.requests} requests, ${h.answered} answered, by status ${JSON.stringify(h.byStatus)}, ${h.connectionsDropped} connections dropped, ${h.streamsRefused} streams refused, ${h.answersLostToReset} answers lost to a reset after a closing request, ${h.healthChecks} health checks`)

    const figures: Figure[] = [
      { metric: 'fuzz.seed', value: seed, unit: 'seed' },
      { metric: 'fuzz.protocol_cases', value: p.cases, unit: 'cases', target: '-' },
      { metric: 'fuzz.protocol_cases_per_s', value: round(p.cases / (p.elapsedMs / 1000), 0), unit: 'cases/s' },
      { metric: 'fuzz.protocol_failures', value: p.failures.length, unit: 'cases', target: '0' },
      { metric: 'fuzz.http_requests', value: h.requests, unit: 'requests' },
      { metric: 'fuzz.http_requests_per_s', value: round(h.requests / (h.elapsedMs / 1000), 0), unit: 'requests/s' },
      { metric: 'fuzz.http_failures', value: h.failuresCount, unit: 'requests', target: '0' },
      { metric: 'fuzz.http_health_checks', value: h.healthChecks, unit: 'checks' },
      { metric: 'fuzz.daemon_crashes', value: h.daemonCrashed ? 1 : 0, unit: 'crashes', target: '0' },
    ]
    return figures
  },
}
