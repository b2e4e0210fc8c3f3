/**
 * Benchmark suite `mesh`: real supervisor processes on loopback (the integration tests' harness).
 *
 * - failover: a 5-host site on the default `lan` timings; the leader is SIGKILLed 10 times
 *   (restarted and rejoined between rounds); each figure is from the kill until every
 *   survivor's /v1/status names the same new leader (polled every 20 ms).
 * - propagation, RSS, idle CPU: 20 processes in one site. On this 2-core machine 20 supervisors
 *   on 500 ms heartbeats take both cores (every host receives 38 signed messages a second, and
 *   js-libp2p costs a few ms of CPU per delivery), so this part runs the `wan` profile (2 s
 *   heartbeats), and the unit says so. Propagation is the daemons' own
 *   `agentmesh_gossip_propagation_seconds` histogram (sentAtMs in the envelope to acceptance on
 *   every other supervisor, one machine so one clock), summed over all 20 and read as
 *   Prometheus' histogram_quantile does (linear within a bucket).
 */
import { readFileSync } from 'node:fs'
import { Cluster, waitFor, type Supervisor } from '../test/daemon/harness.js'
import { median, round, type Figure, type Suite } from './harness.js'

const FAILOVER_ROUNDS = 10
const PROPAGATION_HOSTS = 20
const MEASURE_WINDOW_MS = 20_000

export const meshSuite: Suite = {
  name: 'mesh',
  description: 'real supervisor processes on loopback: leader failover, gossip propagation, RSS and idle CPU',
  async run (log) {
    const figures: Figure[] = []
    figures.push(...await failover(log))
    figures.push(...await twentyNodes(log))
    return figures
  },
}

async function failover (log: (l: string) => void): Promise<Figure[]> {
  const cluster = await Cluster.create({ hosts: ['f1', 'f2', 'f3', 'f4', 'f5'].map(hostId => ({ hostId, site: 'F' })), common: { log: { level: 'warn' } } })
  const times: number[] = []
  try {
    cluster.startAll()
    for (let round = 0; round < FAILOVER_ROUNDS; round++) {
      const before = await waitFor('site F agreement with every host', async () => {
        const a = await cluster.siteAgreement('F')
        return a !== undefined && a.statuses.length === 5 && a.statuses.every(s => s.peers.every(p => p.state === 'alive')) ? a : undefined
      }, 30_000)
      const victim = cluster.byId(before.leaderId)
      const t0 = performance.now()
      await victim.kill('SIGKILL')
      await waitFor('a new leader', async () => {
        const a = await cluster.siteAgreement('F', [victim.hostId])
        return a !== undefined && a.leaderId !== victim.hostId ? a : undefined
      }, 30_000, 20)
      const ms = performance.now() - t0
      times.push(ms)
      log(`failover round ${round + 1}: ${ms.toFixed(0)} ms`)
      victim.start()
    }
  } finally {
    await cluster.stopAll()
  }
  return [
    { metric: 'mesh.failover_ms_median', value: round(median(times), 1), unit: 'ms', target: '< 1000' },
    { metric: 'mesh.failover_ms_max', value: round(Math.max(...times), 1), unit: 'ms' },
  ]
}

async function twentyNodes (log: (l: string) => void): Promise<Figure[]> {
  const hosts = Array.from({ length: PROPAGATION_HOSTS }, (_, i) => ({ hostId: `p${String(i).padStart(2, '0')}`, site: 'P' }))
  const cluster = await Cluster.create({ hosts, common: { profile: 'wan', log: { level: 'warn' }, network: { redialIntervalMs: 500, redialBackoffMaxMs: 5000 } } })
  try {
    for (const s of cluster.sups) { s.start(); await new Promise(resolve => setTimeout(resolve, 100)) }
    await waitFor('20 supervisors to agree and see each other alive', async () => {
      const a = await cluster.siteAgreement('P')
      return a !== undefined && a.statuses.every(s => s.peers.filter(p => p.state === 'alive').length === PROPAGATION_HOSTS - 1) ? a : undefined
    }, 180_000, 1000)
    log('20 supervisors converged')
    const h0 = await Promise.all(cluster.sups.map(histogram))
    const cpu0 = cluster.sups.map(cpuTicks)
    const t0 = performance.now()
    await new Promise(resolve => setTimeout(resolve, MEASURE_WINDOW_MS))
    const cpu1 = cluster.sups.map(cpuTicks)
    const windowS = (performance.now() - t0) / 1000
    const h1 = await Promise.all(cluster.sups.map(histogram))
    const merged = new Map<number, number>()
    h1.forEach((h, i) => { for (const [le, n] of h) merged.set(le, (merged.get(le) ?? 0) + n - (h0[i].get(le) ?? 0)) })
    const cpuPct = cpu1.map((t, i) => (t - cpu0[i]) / CLOCK_TICKS_PER_S / windowS * 100)
    const rssMb = cluster.sups.map(s => rssBytes(s) / 1048576)
    log(`deliveries in window: ${merged.get(Infinity)}`)
    return [
      { metric: 'mesh.propagation_p50_ms', value: round(quantile(merged, 0.5) * 1000, 2), unit: 'ms (20 hosts, wan)', target: '-' },
      { metric: 'mesh.propagation_p99_ms', value: round(quantile(merged, 0.99) * 1000, 2), unit: 'ms (20 hosts, wan)', target: '< 200' },
      { metric: 'mesh.rss_mb', value: round(median(rssMb), 1), unit: 'MB (median of 20)', target: '< 120' },
      { metric: 'mesh.idle_cpu_pct', value: round(median(cpuPct), 2), unit: '% core (20 hosts, wan)', target: '< 2' },
    ]
  } finally {
    await cluster.stopAll()
  }
}

/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ). */
const CLOCK_TICKS_PER_S = 100

function cpuTicks (s: Supervisor): number {
  const fields = readFileSync(`/proc/${s.proc!.pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

function rssBytes (s: Supervisor): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${s.proc!.pid}/status`, 'utf8'))
  return Number(m?.[1] ?? NaN) * 1024
}

/** Cumulative bucket counts of the site topic's propagation histogram, by upper bound. */
async function histogram (s: Supervisor): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  for (const line of (await s.metricsText()).split('\n')) {
    const m = /^agentmesh_gossip_propagation_seconds_bucket\{le="([^"]+)",topic="site"\} (\d+)/.exec(line)
    if (m !== null) out.set(m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2]))
  }
  return out
}

/** histogram_quantile: linear interpolation inside the bucket that holds the q-th observation. */
export function quantile (cumulative: Map<number, number>, q: number): number {
  const buckets = [...cumulative].sort((a, b) => a[0] - b[0])
  const total = buckets[buckets.length - 1]?.[1] ?? 0
  if (total === 0) return NaN
  const rank = q * total
  let prevLe = 0
  let prevCount = 0
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return prevLe
      return prevLe + (le - prevLe) * (rank - prevCount) / Math.max(1, count - prevCount)
    }
    prevLe = le
    prevCount = count
  }
  return prevLe
}
