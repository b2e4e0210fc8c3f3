/**
 * The protocol decoder under seeded mutation fuzzing (protocol-fuzzer.ts), bounded for
 * `npm test`: a fixed seed, and a fresh one printed for replay. `FUZZ_SEED=N` replays a seed
 * (as the fresh one); `npm run bench -- fuzz` runs far more cases.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ProtocolErrorCode } from '../../protocol/errors.js'
import { checkCase, findVarints, fuzzProtocol, protocolCorpus } from './protocol-fuzzer.js'
import { fuzzSeed } from './seed.js'

const FIXED_SEED = 20261211
const CASES = 100_000
const BUDGET_MS = 2500

function run (seed: number): void {
  const r = fuzzProtocol({ seed, cases: CASES, timeBudgetMs: BUDGET_MS })
  console.log(`protocol fuzz: seed ${seed}, ${r.cases} cases in ${r.elapsedMs} ms, ${r.decoded} decoded, refused ${JSON.stringify(r.refused)}, ${r.failures.length} failures`)
  assert.deepEqual(r.failures, [], `replay with FUZZ_SEED=${seed} node --test dist/test/fuzz/protocol-fuzz.test.js`)
  assert.ok(r.cases >= 1000, `only ${r.cases} cases ran`)
  // The mutations reach past the first checks: some inputs decode, some are refused for limits.
  assert.ok(r.decoded > 0 && (r.refused[ProtocolErrorCode.Malformed] ?? 0) > 0, JSON.stringify(r))
}

describe('protocol decoder under mutation fuzzing', () => {
  it('finds the protobuf length fields it corrupts in every corpus message', () => {
    for (const bytes of protocolCorpus(1, 16)) {
      const lengths = findVarints(bytes, 1, bytes.length).filter(v => v.isLength)
      assert.ok(lengths.length > 0)
      assert.equal(checkCase(bytes).kind, 'decoded')
    }
  })

  it(`decodes or refuses with a ProtocolError, and re-encodes what it decodes (seed ${FIXED_SEED})`, () => run(FIXED_SEED))

  const fresh = fuzzSeed()
  it(`does the same under a fresh seed (${fresh})`, () => run(fresh))
})
