/**
 * The baselines: a central controller, as operators run one today, on the identical scenario.
 * Each is modelled the way its own documentation describes it; the sources are cited where the
 * behaviour is built. The controller is sans-IO like the core: the simulation calls runDue(now)
 * no later than nextDueMs() and hostChanged(now) when a host stops or starts; everything it
 * sees and does goes through ControllerPorts.
 *
 * hpa — the Kubernetes HorizontalPodAutoscaler on an external metric served by
 *   prometheus-adapter:
 *   - Prometheus scrapes the signal every hpaScrape (30 s: the Prometheus Operator's default
 *     `scrapeInterval`, https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.CommonPrometheusFields);
 *     a failed scrape marks the series stale, so the HPA then has no value
 *     (https://prometheus.io/docs/prometheus/latest/querying/basics/#staleness);
 *   - prometheus-adapter runs its query against Prometheus on every HPA request
 *     (https://github.com/kubernetes-sigs/prometheus-adapter/blob/master/docs/config.md, "Querying"),
 *     so it adds no delay of its own; hpaMetricDelay models anything more (recording rules, an
 *     exporter's cache);
 *   - the HPA controller syncs every hpaSync (15 s, --horizontal-pod-autoscaler-sync-period,
 *     https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#how-does-a-horizontalpodautoscaler-work)
 *     on the latest scraped value, with the HPA rule, its `behavior` (stabilisation windows, rate
 *     limits: #configurable-scaling-behavior, #default-behavior) or, with hpaBehavior: legacy,
 *     the rule of an HPA created without `behavior` (hpa-legacy.ts);
 *   - it cannot go below one replica (minReplicas ≥ 1 unless the alpha HPAScaleToZero gate is on:
 *     https://kubernetes.io/docs/reference/command-line-tools-reference/feature-gates/).
 * keda — KEDA in front of the same HPA
 *   (https://keda.sh/docs/2.15/concepts/scaling-deployments/#activating-and-scaling-thresholds):
 *   - activation, 0↔1, is KEDA's own: every pollingInterval (30 s) the operator asks the scaler
 *     whether it is active (value > activation threshold, strictly); a service at zero that is
 *     active goes to one, a service not active since cooldownPeriod (300 s) goes to zero
 *     (https://keda.sh/docs/2.15/reference/scaledobject-spec/#pollinginterval, #cooldownperiod);
 *     with minReplicas ≥ 1 the scaler is always active and activation is ignored;
 *   - 1..N is the HPA's, at its 15 s sync, on a live value: the HPA asks KEDA's metrics server,
 *     which queries the scaler on each request unless useCachedMetrics is set (default false,
 *     https://keda.sh/docs/2.15/concepts/scaling-deployments/#caching-metrics);
 *   - KEDA creates that HPA without `behavior` unless the ScaledObject sets
 *     advanced.horizontalPodAutoscalerConfig.behavior (kedacore/keda controllers/keda/hpa.go);
 *     hpaBehavior: legacy models that, the default gives it the service's behaviour (faster from
 *     small counts: never slower).
 * central — agentmesh's own scaling rule (AGENTMESH_POLICY: scaling-policy.ts's scalerFor, the
 *   service's policy with the upstream cap and failing static), run by one controller at the loop
 *   period agentmesh's site leaders use (each site's planIntervalMs), brought forward (at most
 *   once per riseGapMs) when a read shows a rise in load, as a leader's round is when a member
 *   tells it of one. It reads every signal reporter each signals.interval (rate signals too) and
 *   aggregates what it read with the core's aggregateReadings, as a leader does with the samples
 *   its peers gossip (stale after sampleMaxAgeMs; a reporter it cannot read makes the reading
 *   partial until reapAfterMs); it knows each service's ready replicas exactly (as an API server
 *   does; a leader knows them from heartbeats); it learns of a lost host after deadAfterMs, as a
 *   leader's membership does. It differs from agentmesh only in architecture: one place decides
 *   for every site it can reach. The ablation: what does going peer-to-peer buy?
 *
 * For all three, the controller is a highly available control plane: it runs on the first of
 * controllerReplicas hosts of its site that is up; when that host is lost, a standby takes over
 * once the lost one's lease has expired (leaseMs, 15 s: kube-controller-manager's
 * --leader-elect-lease-duration,
 * https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/).
 * The new leader starts its loops at once, its scalers from the counts in force (recommendation
 * history is in memory and is lost, as in Kubernetes; the count it starts from holds scale-down
 * for one window, as agentmesh's new leader does). KEDA's last-active time survives (it is in the
 * ScaledObject's status). With controllerPerSite every site has its own control plane.
 *
 * Kinder than reality, so that no baseline is weakened: Prometheus and KEDA's metrics server never
 * fail; hpa and keda see a lost host at once (Kubernetes waits out a 40 s node-monitor grace period
 * and, by default, a 300 s not-ready toleration before replacing its pods); a partition inside the
 * control plane is not modelled; a host cut off from the controller (not down) is dropped from
 * placement at once, under central too. A site the active controller cannot reach is
 * not scaled: its hosts keep running their last orders (their agent, like a kubelet, still replaces
 * crashed containers).
 */
import type { SignalSample } from '../protocol/index.js'
import { aggregateReadings, missingReading, type HostSamples, type LoadReading, type UpstreamReading } from '../node/core/load-reading.js'
import { place, type Assignments, type PlacementHost } from '../node/core/placement.js'
import { ServiceScaler } from '../node/core/service-scaler.js'
import { scalerFor, type ReplicaRule } from '../node/core/scaling-policy.js'
import type { ServiceSpec } from '../node/core/service-spec.js'
import { timingsFor, type CoreTimings } from '../node/core/config.js'
import { loadRose } from '../node/core/signal-rise.js'
import { simAssert } from './errors.js'
import { LegacyHpaScaler } from './hpa-legacy.js'
import type { LoadModel } from './load-model.js'
import type { BaselineName, Scenario } from './scenario.js'


/**
 * agentmesh's scaling rule, as a site leader builds it when it takes over (leader-round.ts,
 * takeOverScalers). The `central` baseline runs exactly this; whoever changes the rule the leader
 * uses changes it here too, so the ablation keeps comparing the same policy.
 */
export const AGENTMESH_POLICY = scalerFor

/** Prometheus' instant-query lookback (--query.lookback-delta, 5 min): an older sample is no value. */
const PROMETHEUS_LOOKBACK_MS = 300_000

export interface ControllerPorts {
  /** The host's machine and agent run. */
  hostUp: (hostIdx: number) => boolean
  /** `fromHost` can talk to at least one host of the site. */
  reachable: (fromHost: number, site: number) => boolean
  /**
   * The pair's backlog as its signal shows it from `fromHost` now, `extraDelayMs` older than
   * the signal's own delay; undefined when it cannot be read (dead source, reporters unreachable).
   */
  readSignal: (fromHost: number, pair: number, extraDelayMs: number) => number | undefined
  /**
   * What each of the site's signal reporters reports now, as agentmesh's supervisors gossip it
   * (its share of every service's backlog, the upstreams' saturation), or undefined for a
   * reporter `fromHost` cannot read (down, cut off).
   */
  reporterSamples: (fromHost: number, site: number) => { host: number, signals: SignalSample[] | undefined }[]
  /** Replicas of the pair running (not starting), as the control plane's API server knows them. */
  ready: (pair: number) => number
  /**
   * The site's hosts `fromHost` sees up, sorted by id; with graceMs > 0 also the hosts down for
   * less than that, as suspect (they keep their replicas, get no new ones).
   */
  placementHosts: (fromHost: number, site: number, graceMs: number) => PlacementHost[]
  /** Orders a host to run these replicas (delivered after the network's latency). */
  send: (fromHost: number, hostIdx: number, wanted: Map<string, number>) => void
  hostIndex: (hostId: string) => number
  /** Where each timer of the controller starts in its period (seeded by the simulation; 0 in tests). */
  phaseMs: (periodMs: number) => number
}

interface Stamped { value: number, atMs: number }

interface Timer {
  nextMs: number
  lastMs: number
  periodMs: number
  /** Decision loops restart when a new leader takes over; metric pipelines run on. */
  restartsOnTakeover: boolean
  run: (nowMs: number) => void
}

/** One control plane: the sites it scales, the hosts that can run it, which one does. */
interface Group {
  sites: number[]
  replicas: number[]
  /** Host index of the active controller, -1 while none. */
  active: number
  /** A standby may take over from this time on (the lost leader's lease has expired). */
  leaseFreeAtMs: number
  timers: Timer[]
}

interface KedaState { zero: boolean, lastActiveMs: number }

export class CentralController {
  private readonly rules = new Map<number, ReplicaRule>()
  private readonly keda = new Map<number, KedaState>()
  /** Prometheus' last scrape per pair (hpa). */
  private readonly metrics = new Map<number, Stamped>()
  /** central: each reporter's last samples, when they were read, and since when it cannot be read. */
  private readonly samples = new Map<number, { signals: SignalSample[], atMs: number, unreadSinceMs: number }>()
  private readonly assignments: Assignments[]
  private readonly desiredByPair: Float64Array
  private readonly groups: Group[] = []
  private readonly groupOfSite: Int32Array
  private readonly serviceIndex: Map<string, number>
  private readonly timings: CoreTimings[]
  /** central: each site's planning loop, which a rise in load brings forward. */
  private readonly planTimers = new Map<number, Timer>()

  constructor (
    readonly policy: BaselineName,
    private readonly scenario: Scenario,
    private readonly load: LoadModel,
    private readonly siteSpecs: readonly ServiceSpec[][],
    private readonly ports: ControllerPorts,
    /** Host indices of each site, sorted by id. */
    siteHosts: readonly number[][],
  ) {
    this.assignments = scenario.sites.map(() => new Map())
    this.desiredByPair = new Float64Array(load.pairs.length)
    this.serviceIndex = new Map(scenario.services.map((s, i) => [s.spec.name, i]))
    this.timings = scenario.sites.map(s => timingsFor(s.profile))
    this.groupOfSite = new Int32Array(scenario.sites.length).fill(-1)
    for (const p of load.pairs) {
      const spec = scenario.services[p.service].spec
      const kedaZero = policy === 'keda' && spec.minReplicas === 0
      if (kedaZero) this.keda.set(p.index, { zero: true, lastActiveMs: -Infinity })
      const start = kedaZero ? 0 : this.ruleSpec(spec).minReplicas
      this.desiredByPair[p.index] = start
      // A KEDA service at zero gets its HPA's rule when it activates (at one replica).
      this.rules.set(p.index, this.newRule(spec, kedaZero ? 1 : start, 0))
    }
    this.buildGroups(siteHosts)
  }

  /** What the controller wants for the pair now. */
  desired (pair: number): number {
    return this.desiredByPair[pair]
  }

  /** Host index of the controller that scales the site now; -1 while none. */
  activeHost (site: number): number {
    return this.groups[this.groupOfSite[site]].active
  }

  /** The hosts that can run the controller of the site (active first when there is one). */
  controllerHosts (site: number): readonly number[] {
    return this.groups[this.groupOfSite[site]].replicas
  }

  nextDueMs (): number {
    let due = Infinity
    for (const g of this.groups) {
      // With no standby up there is nothing to wait for: hostChanged() brings the next one.
      if (g.active < 0 && g.leaseFreeAtMs < due && g.replicas.some(h => this.ports.hostUp(h))) due = g.leaseFreeAtMs
      for (const t of g.timers) if (t.nextMs < due) due = t.nextMs
    }
    return due
  }

  /** Runs every timer that is due, in a fixed order (group, then timer). */
  runDue (nowMs: number): void {
    for (const g of this.groups) {
      this.maybeTakeOver(g, nowMs)
      for (const t of g.timers) {
        if (t.nextMs > nowMs) continue
        t.nextMs = nowMs + t.periodMs
        t.lastMs = nowMs
        t.run(nowMs)
      }
    }
  }

  /** A host stopped or started: a lost leader starts its lease's countdown. */
  hostChanged (nowMs: number): void {
    for (const g of this.groups) {
      if (g.active >= 0 && !this.ports.hostUp(g.active)) {
        g.active = -1
        g.leaseFreeAtMs = nowMs + this.scenario.baseline.leaseMs
      }
    }
  }

  // ---- control planes ------------------------------------------------------------------------

  private buildGroups (siteHosts: readonly number[][]): void {
    const b = this.scenario.baseline
    const sites = this.scenario.sites.map((_, s) => s)
    const planes = b.controllerPerSite
      ? sites.map(s => ({ sites: [s], home: s }))
      : [{ sites, home: sites[this.scenario.sites.findIndex(x => x.name === b.controllerSite)] }]
    for (const plane of planes) {
      simAssert(plane.home !== undefined && plane.home >= 0, 'the controller site exists')
      const replicas = siteHosts[plane.home].slice(0, b.controllerReplicas)
      // The first replica leads from the start, as soon as its host is up: no lease to wait out.
      const g: Group = { sites: plane.sites, replicas, active: replicas[0], leaseFreeAtMs: 0, timers: [] }
      g.timers = this.timersFor(g)
      for (const s of plane.sites) this.groupOfSite[s] = this.groups.length
      this.groups.push(g)
    }
  }

  private timersFor (g: Group): Timer[] {
    const b = this.scenario.baseline
    const timer = (periodMs: number, restartsOnTakeover: boolean, run: (nowMs: number) => void): Timer =>
      ({ nextMs: this.ports.phaseMs(periodMs), lastMs: -Infinity, periodMs, restartsOnTakeover, run })
    switch (this.policy) {
      case 'hpa': return [
        timer(b.hpaScrapeMs, false, now => this.scrape(g, now)),
        timer(b.hpaSyncMs, true, now => this.hpaSync(g, now)),
      ]
      case 'keda': return [
        timer(b.kedaPollMs, true, now => this.kedaPoll(g, now)),
        timer(b.hpaSyncMs, true, now => this.hpaSync(g, now)),
      ]
      case 'central': {
        const plans = g.sites.map(site => {
          const t = timer(this.timings[site].planIntervalMs, true, now => this.centralPlan(g, site, now))
          this.planTimers.set(site, t)
          return t
        })
        return [timer(this.scenario.signals.intervalMs, false, now => this.readReporters(g, now)), ...plans]
      }
    }
  }

  /** A standby takes over once the lease is free: new scalers from the counts in force, loops restart now. */
  private maybeTakeOver (g: Group, nowMs: number): void {
    if (g.active >= 0 || nowMs < g.leaseFreeAtMs) return
    const next = g.replicas.find(h => this.ports.hostUp(h))
    if (next === undefined) return
    g.active = next
    for (const site of g.sites) {
      for (const spec of this.siteSpecs[site]) {
        const pair = this.pairOf(site, spec)
        if (this.keda.get(pair)?.zero === true) continue
        // What the last leader learnt of the drain rate survives (kept in the object's status, as
        // KEDA keeps its last-active time), as a new agentmesh leader finds it in the plan.
        this.rules.set(pair, this.newRule(spec, this.desiredByPair[pair], nowMs, this.rules.get(pair)?.drainPerReplica))
      }
    }
    for (const t of g.timers) if (t.restartsOnTakeover) t.nextMs = nowMs
  }

  /** The active controller if its host is up. */
  private leader (g: Group): number {
    return g.active >= 0 && this.ports.hostUp(g.active) ? g.active : -1
  }

  // ---- the three baselines ---------------------------------------------------------------------

  /**
   * Prometheus' scrape (hpa), from the control plane's site (any of its hosts that is up): the
   * value hpaMetricDelay older than the signal shows it; a failed scrape leaves a stale marker,
   * so the HPA then has no value.
   */
  private scrape (g: Group, nowMs: number): void {
    const from = g.replicas.find(h => this.ports.hostUp(h))
    if (from === undefined) return
    for (const site of g.sites) {
      for (const spec of this.siteSpecs[site]) {
        const pair = this.pairOf(site, spec)
        const value = this.ports.reachable(from, site) ? this.ports.readSignal(from, pair, this.scenario.baseline.hpaMetricDelayMs) : undefined
        if (value !== undefined) this.metrics.set(pair, { value, atMs: nowMs })
        else this.metrics.delete(pair)
      }
    }
  }

  /**
   * central reads every reporter as agentmesh's leader hears them: a reporter it cannot read
   * keeps its last samples, which age into staleness (the reading turns partial: no scale-down),
   * until reapAfterMs after it was last read, when it is forgotten as a reaped member is.
   */
  private readReporters (g: Group, nowMs: number): void {
    const from = g.replicas.find(h => this.ports.hostUp(h))
    if (from === undefined) return
    for (const site of g.sites) {
      for (const r of this.ports.reporterSamples(from, site)) {
        const last = this.samples.get(r.host)
        // As agentmesh's leader plans at once when a member tells it of a rise (supervisor-core.ts,
        // signal-rise.ts), so does central when a read shows one: the same loop, the same trigger.
        if (r.signals !== undefined && loadRose(last?.signals ?? [], r.signals)) this.planSoon(site, nowMs)
        if (r.signals !== undefined) this.samples.set(r.host, { signals: r.signals, atMs: nowMs, unreadSinceMs: Infinity })
        else if (last !== undefined && last.unreadSinceMs === Infinity) last.unreadSinceMs = nowMs
      }
    }
  }

  private planSoon (site: number, nowMs: number): void {
    const t = this.planTimers.get(site)!
    t.nextMs = Math.min(t.nextMs, Math.max(nowMs, t.lastMs + this.timings[site].riseGapMs))
  }

  /** The HPA controller's sync: hpa on Prometheus' latest value, keda on a live one from its metrics server. */
  private hpaSync (g: Group, nowMs: number): void {
    const from = this.leader(g)
    if (from < 0) return
    for (const site of g.sites) {
      if (!this.ports.reachable(from, site)) continue
      const desired = new Map<string, number>()
      for (const spec of this.siteSpecs[site]) {
        const pair = this.pairOf(site, spec)
        const reading = this.policy === 'hpa' ? this.scraped(pair, nowMs, PROMETHEUS_LOOKBACK_MS) : this.live(from, pair)
        // While KEDA holds a service at zero the HPA does not scale it ("scaling is disabled since
        // the replica count of the target is zero").
        if (this.keda.get(pair)?.zero !== true) this.desiredByPair[pair] = this.rules.get(pair)!.decide(reading, undefined, nowMs).desired
        desired.set(spec.name, this.desiredByPair[pair])
      }
      this.placeSite(from, site, desired)
    }
  }

  /** KEDA's scale loop: activation only (0↔1), for services that may go to zero. */
  private kedaPoll (g: Group, nowMs: number): void {
    const from = this.leader(g)
    if (from < 0) return
    for (const site of g.sites) {
      if (!this.ports.reachable(from, site)) continue
      let changed = false
      for (const spec of this.siteSpecs[site]) {
        const pair = this.pairOf(site, spec)
        const k = this.keda.get(pair)
        const reading = this.live(from, pair)
        // A scaler error changes nothing: KEDA neither activates nor scales to zero on it.
        if (k === undefined || reading.status !== 'fresh') continue
        const active = reading.total > spec.activationThreshold
        if (active) k.lastActiveMs = nowMs
        if (k.zero && active) {
          k.zero = false
          this.desiredByPair[pair] = 1
          this.rules.set(pair, this.newRule(spec, 1, nowMs))
          changed = true
        } else if (!k.zero && !active && nowMs - k.lastActiveMs >= this.scenario.baseline.kedaCooldownMs) {
          k.zero = true
          this.desiredByPair[pair] = 0
          changed = true
        }
      }
      if (changed) this.placeSite(from, site, new Map(this.siteSpecs[site].map(spec => [spec.name, this.desiredByPair[this.pairOf(site, spec)]])))
    }
  }

  /** agentmesh's rule, centrally, at the site's plan interval, on the readings agentmesh's leader would aggregate. */
  private centralPlan (g: Group, site: number, nowMs: number): void {
    const from = this.leader(g)
    if (from < 0 || !this.ports.reachable(from, site)) return
    const t = this.timings[site]
    const hosts: HostSamples[] = []
    for (const r of this.ports.reporterSamples(from, site)) {
      const s = this.samples.get(r.host)
      if (s === undefined) continue
      if (nowMs - s.atMs >= t.reapAfterMs) { this.samples.delete(r.host); continue }
      hosts.push({ signals: s.signals, receivedAtMs: s.atMs, reachable: s.unreadSinceMs === Infinity })
    }
    const readings = aggregateReadings(hosts, nowMs, t.sampleMaxAgeMs)
    const desired = new Map<string, number>()
    for (const spec of this.siteSpecs[site]) {
      const pair = this.pairOf(site, spec)
      const reading = readings.load.get(spec.name) ?? missingReading()
      const upstream = spec.upstream === undefined ? undefined : readings.upstream.get(spec.upstream.name)
      const context = { rate: readings.rate.get(spec.name), ready: this.ports.ready(pair) }
      this.desiredByPair[pair] = this.rules.get(pair)!.decide(reading, upstream, nowMs, context).desired
      desired.set(spec.name, this.desiredByPair[pair])
    }
    this.placeSite(from, site, desired)
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private scraped (pair: number, nowMs: number, maxAgeMs: number): LoadReading {
    const m = this.metrics.get(pair)
    return m !== undefined && nowMs - m.atMs <= maxAgeMs ? fresh(m.value) : missingReading()
  }

  private live (from: number, pair: number): LoadReading {
    const value = this.ports.readSignal(from, pair, 0)
    return value === undefined ? missingReading() : fresh(value)
  }

  /** The HPA manages 1..max (KEDA's own layer alone goes to and from zero); central keeps the service's bounds. */
  private ruleSpec (spec: ServiceSpec): ServiceSpec {
    if (this.policy === 'central') return spec
    return { ...spec, minReplicas: Math.max(1, spec.minReplicas), maxReplicas: Math.max(1, spec.maxReplicas) }
  }

  private newRule (spec: ServiceSpec, current: number, nowMs: number, drainPerReplica?: number): ReplicaRule {
    const s = this.ruleSpec(spec)
    if (this.policy === 'central') return AGENTMESH_POLICY(s, current, nowMs, drainPerReplica)
    if (this.scenario.baseline.hpaBehavior === 'legacy') return new LegacyHpaScaler(s, current, this.scenario.baseline.hpaDownscaleStabilizationMs)
    return new ServiceScaler(s, current, nowMs)
  }

  private pairOf (site: number, spec: ServiceSpec): number {
    return this.load.pair(site, this.serviceIndex.get(spec.name)!)
  }

  private placeSite (from: number, site: number, desired: Map<string, number>): void {
    // central learns of a lost host as agentmesh's leader does, once it has been silent for
    // deadAfterMs; the Kubernetes baselines see it at once (kinder than the node-monitor grace
    // period of 40 s plus the 300 s not-ready toleration before its pods are replaced).
    const graceMs = this.policy === 'central' ? this.timings[site].deadAfterMs : 0
    const hosts = this.ports.placementHosts(from, site, graceMs)
    const result = place({ services: this.siteSpecs[site], desired, hosts, previous: this.assignments[site] })
    // Level-triggered, like a controller whose state lives in etcd and kubelets that watch it:
    // every decision restates every reachable host's orders, so a restarted host gets them again.
    for (const h of hosts) this.ports.send(from, this.ports.hostIndex(h.hostId), result.assignments.get(h.hostId) ?? new Map<string, number>())
    this.assignments[site] = result.assignments
  }
}

function fresh (total: number): LoadReading {
  return { status: 'fresh', total, reporters: 1, staleReporters: 0 }
}
