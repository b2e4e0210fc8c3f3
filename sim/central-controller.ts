/**
 * The baselines: one central controller, as operators run today, on the identical scenario.
 *
 * - hpa: the Kubernetes HPA. Metrics are scraped every hpaScrape (Prometheus, 15 s) and the
 *   controller syncs every hpaSync (15 s) on the latest scrape. The HPA cannot scale to zero
 *   (minReplicas ≥ 1 without the alpha HPAScaleToZero gate).
 * - keda: KEDA polls the signal every kedaPoll (30 s) and feeds the same HPA rule; KEDA itself
 *   takes a service from zero to one when the signal is above its activation threshold, and
 *   back to zero once it has been at or below it for kedaCooldown (300 s).
 *
 * Both use the core's own ServiceScaler for the HPA rule (tolerance, stabilisation windows,
 * rate limits) and the core's placement, so the comparison is about the architecture (polling
 * periods, one controller for every site, a single point of failure), not about a different
 * formula. Host liveness is seen instantly, which is kinder than Kubernetes' 40 s node grace
 * period. A controller that is down, or cut off from a site, scales nothing there: the hosts
 * keep running their last orders (their local agent, like a kubelet, still replaces crashed
 * containers).
 */
import { missingReading, type LoadReading } from '../node/core/load-reading.js'
import { place, type Assignments, type PlacementHost } from '../node/core/placement.js'
import { ServiceScaler } from '../node/core/service-scaler.js'
import type { ServiceSpec } from '../node/core/service-spec.js'
import type { LoadModel } from './load-model.js'
import type { Scenario } from './scenario.js'

export interface ControllerPorts {
  controllerUp: () => boolean
  /** The controller can talk to the site right now. */
  reachable: (site: number) => boolean
  /** The pair's backlog as its signal shows it now (delayed), or undefined when the source is dead. */
  readSignal: (pair: number) => number | undefined
  /** The site's hosts the controller sees up, sorted by id. */
  placementHosts: (site: number) => PlacementHost[]
  /** Orders a host to run these replicas (delivered after the network's latency). */
  send: (hostIdx: number, wanted: Map<string, number>) => void
  hostIndex: (hostId: string) => number
}

interface Metric { value: number, atMs: number }

interface KedaState { zero: boolean, lastActiveMs: number }

export class CentralController {
  private readonly scalers = new Map<number, ServiceScaler>()
  private readonly metrics = new Map<number, Metric>()
  private readonly keda = new Map<number, KedaState>()
  private readonly assignments: Assignments[]
  private readonly desiredByPair: Float64Array

  constructor (
    readonly mode: 'hpa' | 'keda',
    private readonly scenario: Scenario,
    private readonly load: LoadModel,
    private readonly siteSpecs: readonly ServiceSpec[][],
    private readonly ports: ControllerPorts,
  ) {
    this.assignments = scenario.sites.map(() => new Map())
    this.desiredByPair = new Float64Array(load.pairs.length)
    for (const p of load.pairs) {
      const spec = this.scalerSpec(scenario.services[p.service].spec)
      this.scalers.set(p.index, new ServiceScaler(spec, spec.minReplicas, 0))
      this.desiredByPair[p.index] = spec.minReplicas
      if (mode === 'keda' && scenario.services[p.service].spec.minReplicas === 0) {
        this.keda.set(p.index, { zero: true, lastActiveMs: -Infinity })
        this.desiredByPair[p.index] = 0
      }
    }
  }

  /** The HPA manages 1..max; only KEDA's own layer goes to and from zero. */
  private scalerSpec (spec: ServiceSpec): ServiceSpec {
    return { ...spec, minReplicas: Math.max(1, spec.minReplicas), maxReplicas: Math.max(1, spec.maxReplicas) }
  }

  desired (pair: number): number {
    return this.desiredByPair[pair]
  }

  /** Prometheus scrapes every reachable site's signals (hpa). */
  scrape (nowMs: number): void {
    if (!this.ports.controllerUp()) return
    for (const p of this.load.pairs) {
      if (!this.ports.reachable(p.site)) continue
      const value = this.ports.readSignal(p.index)
      if (value !== undefined) this.metrics.set(p.index, { value, atMs: nowMs })
    }
  }

  /** One controller sync (hpa) or poll (keda, which reads the signal itself first). */
  sync (nowMs: number): void {
    if (!this.ports.controllerUp()) return
    if (this.mode === 'keda') this.scrape(nowMs)
    const maxAgeMs = 2 * (this.mode === 'hpa' ? this.scenario.baseline.hpaScrapeMs : this.scenario.baseline.kedaPollMs)
    this.scenario.sites.forEach((_, site) => {
      if (!this.ports.reachable(site)) return
      const desired = new Map<string, number>()
      for (const spec of this.siteSpecs[site]) {
        const pair = this.load.pair(site, this.scenario.services.findIndex(s => s.spec.name === spec.name))
        const m = this.metrics.get(pair)
        const reading: LoadReading = m !== undefined && nowMs - m.atMs <= maxAgeMs
          ? { status: 'fresh', total: m.value, reporters: 1, staleReporters: 0 }
          : missingReading()
        desired.set(spec.name, this.decide(pair, spec, reading, nowMs))
      }
      this.placeSite(site, desired)
    })
  }

  private decide (pair: number, spec: ServiceSpec, reading: LoadReading, nowMs: number): number {
    const k = this.keda.get(pair)
    if (k !== undefined && reading.status === 'fresh') {
      const active = reading.total > spec.activationThreshold
      if (active) k.lastActiveMs = nowMs
      if (k.zero && active) {
        k.zero = false
        this.scalers.set(pair, new ServiceScaler(this.scalerSpec(spec), 1, nowMs))
      } else if (!k.zero && !active && nowMs - k.lastActiveMs >= this.scenario.baseline.kedaCooldownMs) {
        k.zero = true
      }
    }
    let desired: number
    if (k?.zero === true) desired = 0
    else desired = this.scalers.get(pair)!.decide(reading, undefined, nowMs).desired
    this.desiredByPair[pair] = desired
    return desired
  }

  private placeSite (site: number, desired: Map<string, number>): void {
    const hosts = this.ports.placementHosts(site)
    const previous = this.assignments[site]
    const result = place({ services: this.siteSpecs[site], desired, hosts, previous })
    // Level-triggered, like a controller whose state lives in etcd and kubelets that watch it:
    // every sync restates every reachable host's orders, so a restarted host gets them again.
    for (const h of hosts) this.ports.send(this.ports.hostIndex(h.hostId), result.assignments.get(h.hostId) ?? new Map<string, number>())
    this.assignments[site] = result.assignments
  }
}
