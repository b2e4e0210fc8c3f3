/**
 * The convergence case, shared by its test (one-seed-site.solo.test.ts) and the
 * `converge` benchmark: a 50-host site where every host knows one bootstrap address (the same
 * seed) must find the rest through the mesh (addresses in heartbeats, peer exchange) and
 * converge: one leader and term named by every host, every member alive on every host, each
 * host connected to at least 4 members and with gossipsub mesh peers on the site topic.
 *
 * The 50 daemons run as 5 processes of 10 (daemon-group.ts) on real TCP, pnet, Noise, yamux
 * and gossipsub on 127.0.0.1, hosts starting five at a time 200 ms apart, on the default `lan`
 * timings (500 ms heartbeats). Before leader-centric membership (docs/membership.md) every
 * host heard every heartbeat and this case needed the `wan` profile with 5 s heartbeats; now a
 * member hears the leader's digest and the leader hears the members, so only the network
 * options stay: `targetPeers: 8` (a member needs a few connections and the leader's, not all
 * 49) and a patient dial timeout while 50 hosts handshake at once.
 */
import { GroupedSite, type Convergence } from './grouped-site.js'
import { waitFor } from './harness.js'

export const ONE_SEED_SITE = {
  hosts: 50,
  hostsPerProcess: 10,
  startStaggerMs: 200,
  timeoutMs: 120_000,
  /**
   * Reading 50 statuses is work for the same 2 cores (about 50 ms of CPU a read), so not too
   * often; but the figure is only as precise as this (it was 3 s, half of it bias on average).
   */
  statusPollMs: 1000,
  need: { minConnected: 4, minSiteMesh: 1 },
} as const

export interface OneSeedResult {
  /** From the first process spawned; undefined when the site did not converge in time. */
  convergedMs: number | undefined
  converged: Convergence | undefined
  /** The last status summary read (GroupedSite.describe), or why none could be read. */
  last: string
  /** Resident memory of the 50 daemons, read after convergence (or at the timeout). */
  rssBytes: number
}

/** Starts the site, waits for convergence (at most ONE_SEED_SITE.timeoutMs), stops it. */
export async function convergeOneSeedSite (log: (line: string) => void): Promise<OneSeedResult> {
  const t0 = performance.now()
  const s = ONE_SEED_SITE
  const site = await GroupedSite.start({
    site: 'C', hosts: s.hosts, hostsPerProcess: s.hostsPerProcess, staggerMs: s.startStaggerMs,
    common: {
      log: { level: 'warn' },
      network: { redialIntervalMs: 500, redialBackoffMaxMs: 5000, targetPeers: 8, maxParallelDials: 4, dialTimeoutMs: 10_000 },
    },
  })
  try {
    log(`${s.hosts} daemons in ${site.procs.length} processes up after ${Math.round(performance.now() - t0)} ms`)
    let last = 'no status read yet'
    try {
      const converged = await waitFor('the site to converge', async () => {
        const views = await site.views()
        last = GroupedSite.describe(views)
        log(`${Math.round((performance.now() - t0) / 1000)} s: ${last}`)
        return GroupedSite.convergence(views, s.need)
      }, s.timeoutMs, s.statusPollMs)
      return { convergedMs: performance.now() - t0, converged, last, rssBytes: site.rssBytes() }
    } catch (err) {
      log(`did not converge: ${(err as Error).message}; last view: ${last}`)
      return { convergedMs: undefined, converged: undefined, last, rssBytes: site.rssBytes() }
    }
  } finally {
    await site.stop()
  }
}
