/**
 * The HTTP API of a live supervisor process under seeded fuzzing (http-fuzzer.ts), bounded for
 * `npm test`. The seed is printed; `FUZZ_SEED=N` replays it. `npm run bench -- fuzz` runs longer.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { fuzzHttp } from './http-fuzzer.js'
import { startFuzzDaemon, type FuzzDaemon } from './http-daemon.js'
import { fuzzSeed } from './seed.js'

const REQUESTS = 3000
const BUDGET_MS = 12_000

describe('HTTP API of a live daemon under fuzzing', { timeout: 120_000 }, () => {
  let d: FuzzDaemon
  before(async () => { d = await startFuzzDaemon() })
  after(async () => { await d?.cluster.stopAll() })

  const seed = fuzzSeed()
  it(`stays up, answers /healthz, and answers every request well-formed (seed ${seed})`, async () => {
    const r = await fuzzHttp(d.target, { seed, requests: REQUESTS, timeBudgetMs: BUDGET_MS, log: (l) => console.log(l) })
    console.log(`http fuzz: seed ${seed}, ${r.requests} requests, ${r.answered} answered in ${r.elapsedMs} ms, by status ${JSON.stringify(r.byStatus)}, ${r.connectionsDropped} connections dropped, ${r.streamsRefused} streams refused, ${r.healthChecks} health checks, ${r.failuresCount} failures`)
    const replay = `replay: FUZZ_SEED=${seed} node --test dist/test/fuzz/http-fuzz.test.js`
    assert.equal(r.daemonCrashed, false, `the daemon exited; ${replay}\n${d.sup.lines.slice(-20).join('\n')}`)
    assert.deepEqual(r.failures, [], replay)
    assert.ok(r.requests >= 300, `only ${r.requests} requests`)
    assert.ok(d.sup.running)
    assert.ok(!d.sup.lines.some(l => l.includes('HTTP handler failed')), 'no handler failed')
  })
})
