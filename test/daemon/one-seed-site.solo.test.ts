/**
 * The convergence requirement: a 50-host site where every host knows one bootstrap
 * address converges (one-seed-site.ts). It needs both cores for 30-60 s, so `npm test` runs
 * `*.solo.test.js` files after the rest, one at a time, rather than beside another file.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ONE_SEED_SITE, convergeOneSeedSite } from './one-seed-site.js'

test(`a ${ONE_SEED_SITE.hosts}-host site where every host knows one seed converges`, { timeout: ONE_SEED_SITE.timeoutMs + 90_000 }, async (t) => {
  const lines: string[] = []
  const r = await convergeOneSeedSite((l) => { lines.push(l) })
  t.diagnostic(lines.at(-1) ?? '')
  assert.ok(r.converged !== undefined, `did not converge within ${ONE_SEED_SITE.timeoutMs} ms:\n${lines.join('\n')}`)
  assert.ok(r.converged.minConnected >= ONE_SEED_SITE.need.minConnected)
  assert.ok(r.converged.term >= 1)
  t.diagnostic(`converged in ${Math.round(r.convergedMs!)} ms: leader ${r.converged.leaderId}, term ${r.converged.term}, min connected ${r.converged.minConnected}, min site mesh ${r.converged.minSiteMesh}`)
})
