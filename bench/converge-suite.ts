/**
 * Benchmark suite `converge`: how long the 50-host, one-seed site takes to converge
 * (test/daemon/one-seed-site.ts says what is run and what converged means; the same case is
 * a test, one-seed-site.solo.test.ts).
 */
import { ONE_SEED_SITE, convergeOneSeedSite } from '../test/daemon/one-seed-site.js'
import { round, type Figure, type Suite } from './harness.js'

export const convergeSuite: Suite = {
  name: 'converge',
  description: 'a 50-host site where every host knows one bootstrap address: time until it converges',
  async run (log) {
    const r = await convergeOneSeedSite(log)
    if (r.converged !== undefined) log(`converged: leader ${r.converged.leaderId} term ${r.converged.term}, min connected ${r.converged.minConnected}, min site mesh ${r.converged.minSiteMesh}`)
    const ms = r.convergedMs ?? -1
    return [
      { metric: 'mesh.converge_50_ms', value: round(ms, 0), unit: ms < 0 ? `ms (-1: not within ${ONE_SEED_SITE.timeoutMs / 1000} s)` : 'ms (50 hosts, one seed, lan)', target: 'converges' },
      { metric: 'converge.s_50', value: ms < 0 ? -1 : round(ms / 1000, 1), unit: ms < 0 ? `s (-1: not within ${ONE_SEED_SITE.timeoutMs / 1000} s)` : 's (50 hosts, one seed, lan)', target: '<= 15' },
      { metric: 'mesh.converge_50_rss_mb', value: round(r.rssBytes / 1048576, 0), unit: 'MB (all 50 daemons)' },
    ] satisfies Figure[]
  },
}
