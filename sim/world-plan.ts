/**
 * The world outside a sharded run's sites (sharded-run.ts): the network's changes (partitions,
 * heals, degraded links, flapping uplinks) and the faults drawn among every site's hosts, the
 * same plan in every worker, drawn from the run's own streams as the whole-world run draws them.
 */
import { Rng } from '../node/core/rng.js'
import { shuffle } from './gossip-mesh.js'
import { hostIdOf } from './scenario-parse.js'
import type { FaultSpec, LinkSpec, Scenario } from './scenario.js'
import { faultText, type Marker } from './simulation.js'

export type WorldChange =
  | { atMs: number, kind: 'partition', groups: number[][] }
  | { atMs: number, kind: 'heal' }
  | { atMs: number, kind: 'degrade', id: number, a: number, b: number, link: Partial<LinkSpec> }
  | { atMs: number, kind: 'restore', id: number, a: number, b: number }
  | { atMs: number, kind: 'uplink', site: number, up: boolean }
  | { atMs: number, kind: 'fleet-fault', fault: FaultSpec }

export interface WorldPlan {
  /** In time order; at one time, in the order the whole-world run schedules them. */
  changes: WorldChange[]
  /** Every fault (and a partition's heal) as the report marks it. */
  markers: Marker[]
}

/**
 * The changes of the world outside the sites, the same in every worker: the partitions, heals
 * and degraded links of the scenario's faults, the uplinks' flaps (drawn up front from the flap
 * stream, as the whole-world run draws them), and the faults drawn among every site's hosts.
 */
export function worldPlan (scenario: Scenario, seed: number, durationMs: number): WorldPlan {
  const streams = runStreams(seed)
  const changes: WorldChange[] = []
  const markers: Marker[] = []
  const mark = (tMs: number, text: string): void => { if (tMs <= durationMs) markers.push({ tMs, kind: 'fault', site: '', text }) }
  const siteIndex = (name: string): number => scenario.sites.findIndex(s => s.name === name)
  const hostIndex = hostIndexOf(scenario)
  let degrades = 0
  for (const f of scenario.faults) {
    if (f.atMs > durationMs) continue
    mark(f.atMs, faultText(f))
    switch (f.kind) {
      case 'partition': {
        const groups = f.groups.map(g => g.flatMap(name => {
          const s = siteIndex(name)
          return s >= 0 ? hostsOfSite(scenario, s) : [hostIndex.get(name)!]
        }))
        changes.push({ atMs: f.atMs, kind: 'partition', groups })
        if (f.healAfterMs !== undefined) {
          changes.push({ atMs: f.atMs + f.healAfterMs, kind: 'heal' })
          mark(f.atMs + f.healAfterMs, 'heal')
        }
        break
      }
      case 'heal': changes.push({ atMs: f.atMs, kind: 'heal' }); break
      case 'degrade': {
        const id = degrades++
        const a = siteIndex(f.sites[0])
        const b = siteIndex(f.sites[1])
        changes.push({ atMs: f.atMs, kind: 'degrade', id, a, b, link: f.link })
        if (f.restoreAfterMs !== undefined) changes.push({ atMs: f.atMs + f.restoreAfterMs, kind: 'restore', id, a, b })
        break
      }
      case 'crash': case 'restart': case 'docker-stop': case 'docker-start':
        if (f.target.type === 'random' && f.target.site === undefined) changes.push({ atMs: f.atMs, kind: 'fleet-fault', fault: f })
        break
      default:
    }
  }
  scenario.sites.forEach((site, s) => {
    if (site.flap === undefined) return
    // The whole-world run's flap schedule (simulation.ts, scheduleWorld), from the same stream.
    let t = 0
    for (;;) {
      t += Math.max(1, Math.round(-Math.log(1 - streams.flaps.next()) * site.flap.upMs))
      if (t >= durationMs) break
      const down = Math.max(1, Math.round(-Math.log(1 - streams.flaps.next()) * site.flap.downMs))
      changes.push({ atMs: t, kind: 'uplink', site: s, up: false })
      changes.push({ atMs: Math.min(t + down, durationMs), kind: 'uplink', site: s, up: true })
      t += down
    }
  })
  const inRun = changes.filter(c => c.atMs <= durationMs)
  // Stable: at one time, in the order made.
  inRun.sort((a, b) => a.atMs - b.atMs)
  markers.sort((a, b) => a.tMs - b.tMs)
  return { changes: inRun, markers }
}

/** The run's own streams, forked as the whole-world run forks its faults' and flaps' (simulation.ts). */
export function runStreams (seed: number): { faults: Rng, flaps: Rng } {
  const root = new Rng(seed)
  root.fork(1)
  root.fork(2)
  root.fork(3)
  const faults = root.fork(4)
  root.fork(5)
  return { faults, flaps: root.fork(6) }
}

export function hostsOfSite (scenario: Scenario, site: number): number[] {
  let base = 0
  for (let s = 0; s < site; s++) base += scenario.sites[s].hosts
  return Array.from({ length: scenario.sites[site].hosts }, (_, i) => base + i)
}

function hostIndexOf (scenario: Scenario): Map<string, number> {
  const out = new Map<string, number>()
  let idx = 0
  for (const site of scenario.sites) for (let i = 0; i < site.hosts; i++) out.set(hostIdOf(site.name, i, site.hosts), idx++)
  return out
}

/**
 * The hosts a fault without a site picks among every site's: `count` of those whose machine
 * runs (any host for a restart), drawn from the run's fault stream, as the whole-world run draws them.
 */
export function fleetTargets (f: FaultSpec, up: Uint8Array, rng: Rng): number[] {
  if (f.kind !== 'crash' && f.kind !== 'restart' && f.kind !== 'docker-stop' && f.kind !== 'docker-start') return []
  if (f.target.type !== 'random') return []
  const pool: number[] = []
  for (let i = 0; i < up.length; i++) if (f.kind === 'restart' || up[i] === 1) pool.push(i)
  shuffle(pool, rng)
  return pool.slice(0, f.target.count)
}
