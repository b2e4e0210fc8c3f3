/**
 * Sites to the workers of a sharded run (sharded-run.ts): close sites together, the work about
 * even. Only speed depends on this.
 */
import { timingsFor } from '../node/core/config.js'
import { siteLatencyFloorsMs } from './cross-site.js'
import type { Scenario } from './scenario.js'

/**
 * A site assignment may load a worker this much above an even share to keep close sites
 * together. Workers wait on each other less the farther apart their sites are, and that can
 * be worth more than an even share: on the 1,000-host benchmark fleet (30 November 2026, two
 * runs each of 600 simulated seconds, 2 workers) the on-prem and cloud sites on one worker and
 * the edge on the other (80 ms apart, an estimated 58 % of the work on the first) took 10.8 and
 * 11.7 s, an even split 25 ms apart 13.4 and 13.9 s.
 */
const ASSIGN_SLACK = 1.2

/**
 * A site's share of the work, per host: a part every host costs whatever its profile (ticks,
 * samples, observations, its leader's rounds) and a part per heartbeat interval (its heartbeat,
 * the digest it takes, a sweep of its peers). Fitted to a 1,000-host benchmark fleet timed site by
 * site on one thread (30 November 2026, 600 simulated seconds): 18 ms per on-prem host (500 ms
 * heartbeats, sites of 40), 17.5 per cloud host (500 ms, sites of 50), 8.7 per edge host (2 s,
 * sites of 20). Since members send their heartbeats to the leader alone (docs/membership.md) a
 * host's work hardly grows with its site's size; before, each heard every other's heartbeat.
 */
const HOST_COST_FIXED = 5.6
const HOST_COST_PER_HEARTBEAT_PER_S = 6.2

function siteLoad (scenario: Scenario, s: number): number {
  const site = scenario.sites[s]
  return site.hosts * (HOST_COST_FIXED + HOST_COST_PER_HEARTBEAT_PER_S * 1000 / timingsFor(site.profile).heartbeatIntervalMs)
}

/**
 * Sites to workers. Sites closer than a threshold go to the same worker, so that what crosses
 * between workers takes at least that long and workers wait on each other less; the threshold
 * is the highest for which no such group is much more than an even share of the work. The
 * groups then go, biggest first, to the least loaded worker. Only speed depends on this.
 */
export function assignSites (scenario: Scenario, workers: number): number[][] {
  const n = scenario.sites.length
  const all = scenario.sites.map((_, i) => i)
  if (workers <= 1 || n <= 1) return [all]
  const floors = siteLatencyFloorsMs(scenario)
  const load = all.map(s => siteLoad(scenario, s))
  const total = load.reduce((a, b) => a + b, 0)
  const thresholds = [...new Set([...floors].filter(Number.isFinite))].sort((a, b) => b - a)
  let groups = all.map(s => [s])
  for (const t of thresholds) {
    const g = groupsCloserThan(floors, n, t)
    if (Math.max(...g.map(x => x.reduce((a, s) => a + load[s], 0))) <= ASSIGN_SLACK * total / workers) { groups = g; break }
  }
  const out: number[][] = Array.from({ length: workers }, () => [])
  const given = new Array(workers).fill(0)
  const sized = groups.map(g => ({ g, load: g.reduce((a, s) => a + load[s], 0) })).sort((a, b) => b.load - a.load || a.g[0] - b.g[0])
  for (const { g, load: l } of sized) {
    let w = 0
    for (let k = 1; k < workers; k++) if (given[k] < given[w]) w = k
    out[w].push(...g)
    given[w] += l
  }
  return out.map(sites => sites.sort((a, b) => a - b)).filter(sites => sites.length > 0)
}

/** Sites in groups: two sites less than `t` ms apart are in one group (transitively). */
function groupsCloserThan (floors: Float64Array, n: number, t: number): number[][] {
  const parent = Array.from({ length: n }, (_, i) => i)
  const find = (i: number): number => { while (parent[i] !== i) { parent[i] = parent[parent[i]]; i = parent[i] } return i }
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (floors[i * n + j] < t) parent[find(i)] = find(j)
  const groups = new Map<number, number[]>()
  for (let i = 0; i < n; i++) {
    const r = find(i)
    const g = groups.get(r)
    if (g === undefined) groups.set(r, [i])
    else g.push(i)
  }
  return [...groups.values()]
}
