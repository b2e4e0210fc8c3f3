/**
 * Benchmark suite `converge`: a 50-host site where every host knows one bootstrap address (the
 * same seed) must find the rest through the mesh (addresses in heartbeats, peer exchange) and
 * converge: one leader and term named by every host, every member alive on every host, each host
 * connected to at least 4 members and with gossipsub mesh peers on the site topic.
 *
 * The 50 daemons run as 5 processes of 10 (test/daemon/daemon-group.ts) on real TCP, pnet,
 * Noise, yamux and gossipsub on 127.0.0.1, hosts starting five at a time 200 ms apart. On this
 * 2-core machine they run the `wan` profile with 5 s heartbeats and `network.targetPeers: 8`:
 * every gossip message is signed and each receipt costs its signature check and js-libp2p's
 * stream work (about 1 ms of CPU), so 50 hosts at `lan` rates need more than two cores. Even so
 * the machine is at its limit: some runs do not converge within the bound, which is why this is
 * a benchmark that reports what happened rather than a test that gates CI.
 */
import { waitFor } from '../test/daemon/harness.js'
import { GroupedSite } from '../test/daemon/grouped-site.js'
import { round, type Figure, type Suite } from './harness.js'

const HOSTS = 50
const HOSTS_PER_PROCESS = 10
const START_STAGGER_MS = 200
const CONVERGE_TIMEOUT_MS = 120_000
/** Reading 50 statuses is work for the same 2 cores: not too often. */
const STATUS_POLL_MS = 3000
const NEED = { minConnected: 4, minSiteMesh: 1 }

export const convergeSuite: Suite = {
  name: 'converge',
  description: 'a 50-host site where every host knows one bootstrap address: time until it converges',
  async run (log) {
    const t0 = performance.now()
    const site = await GroupedSite.start({
      site: 'C', hosts: HOSTS, hostsPerProcess: HOSTS_PER_PROCESS, staggerMs: START_STAGGER_MS,
      common: {
        profile: 'wan',
        log: { level: 'warn' },
        timings: { heartbeatIntervalMs: 5000, suspectAfterMs: 15_000, deadAfterMs: 40_000, leaderTimeoutMs: 10_000, leaderLeaseMs: 20_000, sampleMaxAgeMs: 20_000 },
        network: { redialIntervalMs: 500, redialBackoffMaxMs: 5000, targetPeers: 8, maxParallelDials: 4, dialTimeoutMs: 10_000 },
      },
    })
    try {
      log(`${HOSTS} daemons in ${site.procs.length} processes up after ${Math.round(performance.now() - t0)} ms`)
      let last = 'no status read yet'
      let convergedMs = -1
      try {
        const done = await waitFor('the site to converge', async () => {
          const views = await site.views()
          last = GroupedSite.describe(views)
          log(`${Math.round((performance.now() - t0) / 1000)} s: ${last}`)
          return GroupedSite.convergence(views, NEED)
        }, CONVERGE_TIMEOUT_MS, STATUS_POLL_MS)
        convergedMs = performance.now() - t0
        log(`converged: leader ${done.leaderId} term ${done.term}, min connected ${done.minConnected}, min site mesh ${done.minSiteMesh}`)
      } catch (err) {
        log(`did not converge: ${(err as Error).message}; last view: ${last}`)
      }
      return [
        { metric: 'mesh.converge_50_ms', value: round(convergedMs, 0), unit: convergedMs < 0 ? `ms (-1: not within ${CONVERGE_TIMEOUT_MS / 1000} s)` : 'ms (50 hosts, one seed, wan 5 s)', target: 'converges' },
        { metric: 'mesh.converge_50_rss_mb', value: round(site.rssBytes() / 1048576, 0), unit: 'MB (all 50 daemons)' },
      ] satisfies Figure[]
    } finally {
      await site.stop()
    }
  },
}
