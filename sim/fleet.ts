/**
 * A generated hybrid fleet for the scale benchmark: per 1,000 hosts, 5 on-prem sites of 40
 * hosts and 4 cloud regions of 50 (core profile lan: 500 ms heartbeats), and 30 edge clusters
 * of 20 devices (profile wan: 2 s heartbeats). Four services everywhere, diurnal load with a
 * burst per site, and a few crashes per hour so that elections and mesh repair run too.
 */
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, serviceSpec } from '../node/core/service-spec.js'
import { defaultBaseline, defaultGossip, INTRA_SITE_LINK, interSiteLink, PRIORITY_BY_KIND, PROFILE_BY_KIND, SIM_DEFAULTS, START_LATENCY } from './defaults.js'
import type { FaultSpec, InterSiteLink, LoadSpec, Scenario, SimService, SiteKind, SiteSpec } from './scenario.js'

export const FLEET_MIX: readonly { kind: SiteKind, sites: number, hostsPerSite: number }[] = [
  { kind: 'on-prem', sites: 5, hostsPerSite: 40 },
  { kind: 'cloud', sites: 4, hostsPerSite: 50 },
  { kind: 'edge', sites: 30, hostsPerSite: 20 },
]

export function fleetScenario (thousands: number, durationMs: number, seed = 1): Scenario {
  const sites: SiteSpec[] = []
  for (let k = 0; k < thousands; k++) {
    for (const mix of FLEET_MIX) {
      for (let i = 0; i < mix.sites; i++) {
        sites.push({
          name: `${mix.kind}-${String(k).padStart(2, '0')}-${String(i).padStart(2, '0')}`, kind: mix.kind, hosts: mix.hostsPerSite,
          slots: mix.kind === 'edge' ? 2 : 8, labels: {}, priority: PRIORITY_BY_KIND[mix.kind], profile: PROFILE_BY_KIND[mix.kind],
          latency: { ...INTRA_SITE_LINK[mix.kind] }, flap: undefined,
        })
      }
    }
  }
  const links: InterSiteLink[] = []
  const sorted = sites.map(s => s.name).sort()
  const kindOf = new Map(sites.map(s => [s.name, s.kind]))
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) links.push({ a: sorted[i], b: sorted[j], ...interSiteLink(kindOf.get(sorted[i])!, kindOf.get(sorted[j])!) })
  }
  const names = sites.map(s => s.name)
  const services: SimService[] = ['ingest', 'detect', 'model', 'forward'].map((name, i) => ({
    spec: serviceSpec(name, { targetPerReplica: 100, minReplicas: i === 2 ? 0 : 1, maxReplicas: 40, scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN }),
    drainPerReplicaPerS: 50, slaBacklog: 3000, sites: names,
  }))
  const load: LoadSpec[] = []
  sites.forEach((site, i) => {
    const scale = site.kind === 'edge' ? 0.2 : 1
    services.forEach((svc, j) => {
      load.push({ service: svc.spec.name, sites: [site.name], shape: { type: 'diurnal', mean: 150 * scale * (1 + j % 2), amplitude: 0.6, periodMs: 3_600_000, phaseMs: (i * 97_000) % 3_600_000 } })
    })
    load.push({ service: 'ingest', sites: [site.name], shape: { type: 'bursts', rate: 0, bursts: [{ atMs: (i * 613_000) % durationMs, durationMs: 120_000, rate: 400 * scale }] } })
  })
  const faults: FaultSpec[] = []
  for (let k = 0; k < 4 * thousands; k++) {
    const at = Math.floor(durationMs * (k + 1) / (4 * thousands + 1))
    faults.push({ kind: 'crash', atMs: at, target: { type: 'leader', site: names[(k * 7) % names.length] }, mode: 'host', restartAfterMs: 120_000 })
    faults.push({ kind: 'crash', atMs: at + 1000, target: { type: 'random', count: 2, site: undefined }, mode: 'supervisor', restartAfterMs: 30_000 })
  }
  return {
    name: `fleet-${thousands}k`, description: `generated fleet of ${thousands * 1000} hosts`, file: '', seed, durationMs,
    policies: ['agentmesh'], sites, links,
    containers: { startLatency: { ...START_LATENCY }, startFailure: SIM_DEFAULTS.containerStartFailure, crashMtbfMs: 0 },
    services, upstreams: [], load,
    signals: { intervalMs: SIM_DEFAULTS.signalIntervalMs, delayMs: SIM_DEFAULTS.signalDelayMs, reporters: SIM_DEFAULTS.signalReporters, rate: SIM_DEFAULTS.signalRate },
    faults,
    gossip: defaultGossip(),
    baseline: defaultBaseline(names[0]),
    loadStepMs: SIM_DEFAULTS.loadStepMs,
    replaceWithinMs: SIM_DEFAULTS.replaceWithinMs,
    measureFromMs: 0,
  }
}
