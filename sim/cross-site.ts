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
}

/**
 * From one site to another. `seq` numbers what a site sends, so that records are put into the
 * receiving queue in the same order whatever the worker they come from.
 */
export type CrossSiteRecord =
  /** A global-topic message that crossed the inter-site link: the receiving site hands it on inside. */
  | { kind: 'global', fromSite: number, seq: number, toSite: number, arriveAtMs: number, from: number, sentAtMs: number, bytes: number, message: Message }
  /** Overflow replicas of the receiving site's service started or stopped running elsewhere. */
  | { kind: 'running', fromSite: number, seq: number, toSite: number, arriveAtMs: number, service: number, delta: number }

/** Put into the receiving site's queue in this order: by sending site, then as sent. */
export function byCanonicalOrder (a: CrossSiteRecord, b: CrossSiteRecord): number {
  return a.fromSite - b.fromSite || a.seq - b.seq
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
 * The shortest delay anything can take from one site to another, in whole ms (at least 1): the
 * lowest median of every link between two different sites, those a `degrade` fault may set
 * included (a jitter only adds, and a lost copy repaired by gossip comes later still).
 * Infinity for one site.
 */
export function lookaheadMs (scenario: Scenario): number {
  const sites = scenario.sites
  if (sites.length < 2) return Infinity
  const listed = new Map<string, LinkSpec>()
  for (const l of scenario.links) listed.set(pairKey(l.a, l.b), l)
  let min = Infinity
  for (let i = 0; i < sites.length; i++) {
    for (let j = i + 1; j < sites.length; j++) {
      const l = listed.get(pairKey(sites[i].name, sites[j].name)) ?? interSiteLink(sites[i].kind, sites[j].kind)
      min = Math.min(min, l.medianMs)
    }
  }
  for (const f of scenario.faults) {
    if (f.kind === 'degrade' && f.sites[0] !== f.sites[1] && f.link.medianMs !== undefined) min = Math.min(min, f.link.medianMs)
  }
  return Math.max(1, Math.floor(min))
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
