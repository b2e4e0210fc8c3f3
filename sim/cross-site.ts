/**
 * What the sites of a sharded run share, and what crosses between them (sim/sharded-run.ts).
 *
 * Under agentmesh, sites never influence each other's decisions except through the global
 * topic (site summaries, overflow requests and offers) and through the overflow replicas one
 * site runs for another (they drain the other site's queue). Both cross an inter-site link, so
 * a site's effect on another lands at least the shortest inter-site latency later: each site
 * has its own event queue and random streams, and the sites are synchronised only every
 * `lookaheadMs` (conservative lookahead, as in parallel discrete-event simulation). What is
 * sent in one window arrives in a later one, and is put into the receiving site's queue between
 * windows in a fixed order (sending site, then the order it was sent in), so a run does not
 * depend on how the sites are spread over workers.
 *
 * The rest of the world is the same for every site and changes only between windows: the
 * network (partitions, degraded links, flapping uplinks), replicated in every worker, and the
 * faults that draw among all hosts (a `random` crash without a site), resolved in every worker
 * alike from the same snapshot of which machines run.
 */
import type { Message } from '../protocol/index.js'
import { Rng } from '../node/core/rng.js'
import { interSiteLink } from './defaults.js'
import type { Network } from './network.js'
import { hostIdOf } from './scenario-parse.js'
import type { FaultSpec, LinkSpec, Scenario } from './scenario.js'
import type { MsHistogram } from './stats.js'

/** A sharded run's handle on one site (the Simulation of that site alone). */
export interface SiteShard {
  site: number
  /** The fleet's network, shared by the sites of a worker; it changes only between windows. */
  net: Network
  /** The propagation histogram, shared by the sites of a worker (counts add up). */
  propagation: MsHistogram
  /** No record sent arrives before now + lookaheadMs. */
  lookaheadMs: number
  send: (record: CrossSiteRecord) => void
  /**
   * One record per global-topic message, for every site it goes to (split per worker when it
   * crosses to another); false: one record per receiving site (the reference the differential
   * test compares with: test/sim/sharding.test.ts). The run is the same either way.
   */
  batchRecords: boolean
}

/**
 * Where a record goes: a site, when it arrives there, and its number among what the sending
 * site sent (`seq`), so that records are put into the receiving queue in the same order
 * whatever the worker they come from and however they were batched.
 */
export interface CrossTarget { site: number, seq: number, arriveAtMs: number }

/** From one site to one or more others. */
export type CrossSiteRecord =
  /** A global-topic message that crossed the inter-site links: each receiving site hands it on inside. */
  | { kind: 'global', fromSite: number, targets: CrossTarget[], from: number, sentAtMs: number, bytes: number, message: Message }
  /** Overflow replicas of the receiving site's service started or stopped running elsewhere. */
  | { kind: 'running', fromSite: number, targets: CrossTarget[], service: number, delta: number }

/**
 * Records split by the worker of their targets' sites (`owner`): a record whose targets lie
 * with several workers is copied for each, with its targets there (the message is shared).
 */
export function splitByWorker (records: readonly CrossSiteRecord[], owner: (site: number) => number, workers: number): CrossSiteRecord[][] {
  const out: CrossSiteRecord[][] = Array.from({ length: workers }, () => [])
  for (const r of records) {
    const first = owner(r.targets[0].site)
    if (r.targets.every(t => owner(t.site) === first)) { out[first].push(r); continue }
    const parts: CrossTarget[][] = Array.from({ length: workers }, () => [])
    for (const t of r.targets) parts[owner(t.site)].push(t)
    parts.forEach((targets, w) => { if (targets.length > 0) out[w].push({ ...r, targets }) })
  }
  return out
}

/** Sites and records per site a sharded run can number (crossSiteOrder stays below 2^52). */
export const MAX_SITES = 2 ** 20
export const MAX_RECORDS_PER_SITE = 2 ** 32

/**
 * Where a record runs among those arriving in one millisecond: by sending site, then as sent.
 * Records run before the receiving site's own events of that millisecond (EventQueue.pushFront).
 */
export function crossSiteOrder (r: CrossSiteRecord, t: CrossTarget): number {
  return r.fromSite * MAX_RECORDS_PER_SITE + t.seq
}

/** Salt of the sites' random streams, apart from those the whole-world run forks (1–6). */
const SITE_STREAM_SALT = 0x51_7e_00

/**
 * One site's random streams in a sharded run: a function of the seed and the site's index
 * alone, never of the other sites nor of the worker that runs it.
 */
export function siteRng (seed: number, site: number): Rng {
  return new Rng(seed).fork(SITE_STREAM_SALT + site)
}

/**
 * The shortest delay anything can take between two sites, in whole ms (at least 1), per pair:
 * the link's median or any a `degrade` fault may set (a jitter only adds, and a lost copy
 * repaired by gossip comes later still). Row-major, sites × sites; the diagonal is Infinity.
 */
export function siteLatencyFloorsMs (scenario: Scenario): Float64Array {
  const sites = scenario.sites
  const n = sites.length
  const out = new Float64Array(n * n).fill(Infinity)
  const listed = new Map<string, LinkSpec>()
  for (const l of scenario.links) listed.set(pairKey(l.a, l.b), l)
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const l = listed.get(pairKey(sites[i].name, sites[j].name)) ?? interSiteLink(sites[i].kind, sites[j].kind)
      out[i * n + j] = out[j * n + i] = l.medianMs
    }
  }
  const index = new Map(sites.map((s, i) => [s.name, i]))
  for (const f of scenario.faults) {
    if (f.kind !== 'degrade' || f.sites[0] === f.sites[1] || f.link.medianMs === undefined) continue
    const a = index.get(f.sites[0])!
    const b = index.get(f.sites[1])!
    out[a * n + b] = out[b * n + a] = Math.min(out[a * n + b], f.link.medianMs)
  }
  for (let i = 0; i < out.length; i++) if (Number.isFinite(out[i])) out[i] = Math.max(1, Math.floor(out[i]))
  return out
}

/** The shortest delay between any site of `a` and any of `b` (siteLatencyFloorsMs); Infinity when there is no pair. */
export function lookaheadBetween (floors: Float64Array, sites: number, a: readonly number[], b: readonly number[]): number {
  let min = Infinity
  for (const i of a) for (const j of b) if (i !== j) min = Math.min(min, floors[i * sites + j])
  return min
}

/** The shortest delay between any two sites of the scenario (Infinity for one site). */
export function lookaheadMs (scenario: Scenario): number {
  const all = scenario.sites.map((_, i) => i)
  return lookaheadBetween(siteLatencyFloorsMs(scenario), all.length, all, all)
}

function pairKey (a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`
}

/** Where a fault is applied in a sharded run. */
export type FaultScope =
  /** The network: every worker changes its copy between windows. */
  | { scope: 'world' }
  /** Drawn among the hosts of every site: resolved between windows from a snapshot of which run. */
  | { scope: 'fleet' }
  /** Inside one site: that site's simulation schedules and applies it. */
  | { scope: 'site', site: number }

/** `hostSites`: every host id's site (hostSitesOf). */
export function faultScope (scenario: Scenario, f: FaultSpec, hostSites: ReadonlyMap<string, number>): FaultScope {
  const siteOf = (name: string): number => scenario.sites.findIndex(s => s.name === name)
  const siteOfHost = (hostId: string): number => hostSites.get(hostId) ?? -1
  switch (f.kind) {
    case 'partition': case 'heal': case 'degrade': return { scope: 'world' }
    case 'signal-kill': case 'signal-restore': return { scope: 'site', site: siteOf(f.site) }
    case 'inject-over-capacity': return { scope: 'site', site: siteOfHost(f.hostId) }
    case 'crash': case 'restart': case 'docker-stop': case 'docker-start': {
      const t = f.target
      if (t.type === 'site' || t.type === 'leader') return { scope: 'site', site: siteOf(t.site) }
      if (t.type === 'host') return { scope: 'site', site: siteOfHost(t.hostId) }
      return t.site === undefined ? { scope: 'fleet' } : { scope: 'site', site: siteOf(t.site) }
    }
  }
}

/** Every host id of the scenario, with its site's index. */
export function hostSitesOf (scenario: Scenario): Map<string, number> {
  const out = new Map<string, number>()
  scenario.sites.forEach((site, s) => { for (let i = 0; i < site.hosts; i++) out.set(hostIdOf(site.name, i, site.hosts), s) })
  return out
}
