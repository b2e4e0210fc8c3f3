/**
 * The site leader's round, as a part of the core (no I/O): from the moment this host wins an
 * election until it stops leading, every planIntervalMs it turns the site's aggregated signals
 * into desired replicas per service (scaling-policy.ts), places them on the site's hosts
 * (placement.ts) and publishes the plan when it changed (or every planRepublishMs for hosts
 * that joined late); every summaryIntervalMs it gossips the site summary on the global topic.
 *
 * Taking over: the scalers start from the desired counts of the plan in force (or what runs)
 * and the drain rates it carries, and placement from that plan's assignments, so a new leader
 * does not reshuffle the site nor learn again what the last one knew.
 */
import type { Body, Capacity, Plan, SignalSample, SiteSummary } from '../../protocol/index.js'
import type { CoreTimings } from './config.js'
import type { CoreEvent, Topic } from './core-io.js'
import { forecastFloor } from './forecast-check.js'
import type { ForecastPort } from './forecast-port.js'
import { aggregateReadings, missingReading, type HostSamples } from './load-reading.js'
import type { Membership, Peer } from './membership.js'
import { place, type Assignments, type PlacementHost } from './placement.js'
import { scalerFor, type ReplicaRule } from './scaling-policy.js'
import { chooseSpillSite, overflowName, parseOverflowName, SpillHosting, type KnownSite } from './spill.js'
import type { ServiceSpec } from './service-spec.js'
import type { SiteView } from './site-view.js'

/** This host as its own leader sees it, at the time of a round. */
export interface LeaderSelf {
  signals: SignalSample[]
  capacity: Capacity
  runtimeOk: boolean
  /** Replicas this host holds per service (see site-view.ts). */
  held: ReadonlyMap<string, number>
  /** Services this host cannot start now. */
  unavailable: readonly string[]
}

export interface LeaderRoundComponents {
  hostId: string
  labels: ReadonlyMap<string, string>
  /** Sorted by name. */
  specs: readonly ServiceSpec[]
  timings: CoreTimings
  members: Membership
  /** The term this leadership belongs to: a new term ends it. */
  term: number
  self: (nowMs: number) => LeaderSelf
  /** The plan in force on this host. */
  adopted: () => Plan | undefined
  /** The site as this host sees it: replicas held, slots (site-view.ts). */
  siteView: () => SiteView
  publish: (topic: Topic, body: Body, nowMs: number) => void
  emit: (event: CoreEvent) => void
  /** A new plan version: this host adopts it as any host would. */
  adoptPlan: (plan: Plan) => void
  /** Load forecasts (forecast-port.ts); absent: every service scales reactively. */
  forecast?: ForecastPort
  /** This host's site. */
  site: string
  /** The other sites as their summaries last told (for overflow, spill.ts). */
  sites: () => ReadonlyMap<string, KnownSite>
}

/** A site summary older than this many summary intervals is not used to choose where to spill. */
const SPILL_SUMMARY_MAX_AGE_SUMMARIES = 3

export class LeaderRound {
  readonly sinceMs: number
  private readonly scalers: Map<string, ReplicaRule>
  private assignments: Assignments
  private unplaced = new Map<string, number>()
  /** Total fresh load per service at the last plan round. */
  private readonly load = new Map<string, number>()
  private nextPlanMs: number
  private lastPublishedMs = -Infinity
  private lastPlanMs = -Infinity
  /** The first round waits until then, or until planNow (every member has reported). */
  private firstPlanAtMs: number
  private nextSummaryMs: number
  /** Other sites' overflow this site runs (spill.ts). */
  private readonly hosting = new SpillHosting()
  /** Per service: when this leader last asked another site to take overflow, and how many. */
  private readonly asked = new Map<string, { atMs: number, replicas: number, toSite: string }>()
  private askSeq = 0

  /**
   * `firstPlanAtMs`: the first plan round waits until then (or planNow), so a leader that has
   * not heard its members' heartbeats yet does not place replicas on what it does not know.
   */
  constructor (private readonly c: LeaderRoundComponents, nowMs: number, firstPlanAtMs = nowMs) {
    this.sinceMs = nowMs
    this.scalers = this.takeOverScalers(nowMs)
    this.assignments = this.takeOverAssignments()
    this.takeOverHosting(nowMs)
    this.firstPlanAtMs = Math.max(nowMs, firstPlanAtMs)
    this.nextPlanMs = this.firstPlanAtMs
    // The summary reports the rounds' load: the first one follows the first round.
    this.nextSummaryMs = this.nextPlanMs
  }

  /** A member's load rose: plan at once, or riseGapMs after the last round if that is later. */
  planSoon (nowMs: number): void {
    // Before the first round a rise does not hurry it past firstPlanAtMs: the leader would place
    // replicas on members it has not heard yet (planNow ends that wait when they all reported).
    const earliestMs = Math.max(nowMs, this.lastPlanMs + this.c.timings.riseGapMs, this.firstPlanAtMs)
    this.nextPlanMs = Math.min(this.nextPlanMs, earliestMs)
  }

  nextDeadlineMs (): number {
    return Math.min(this.nextPlanMs, this.nextSummaryMs)
  }

  runDue (nowMs: number): void {
    if (nowMs >= this.nextPlanMs) this.planRound(nowMs)
    if (nowMs >= this.nextSummaryMs) this.publishSummary(nowMs)
  }

  /** Every member has reported: the waiting first round is due now. */
  planNow (nowMs: number): void {
    this.firstPlanAtMs = Math.min(this.firstPlanAtMs, nowMs)
    this.nextPlanMs = Math.min(this.nextPlanMs, nowMs)
    this.nextSummaryMs = Math.min(this.nextSummaryMs, nowMs)
  }

  /** The leader's latest decisions and unplaced replicas (for status). */
  get view (): { scalers: ReadonlyMap<string, ReplicaRule>, unplaced: ReadonlyMap<string, number>, load: ReadonlyMap<string, number> } {
    return { scalers: this.scalers, unplaced: this.unplaced, load: this.load }
  }

  private takeOverScalers (nowMs: number): Map<string, ReplicaRule> {
    const lastDesired = new Map<string, number>()
    const lastDrain = new Map<string, number>()
    for (const d of this.c.adopted()?.decisions ?? []) {
      lastDesired.set(d.service, d.desired)
      if (d.drainPerReplica !== undefined) lastDrain.set(d.service, d.drainPerReplica)
    }
    const held = this.c.siteView().held
    const scalers = new Map<string, ReplicaRule>()
    for (const spec of this.c.specs) {
      const current = lastDesired.get(spec.name) ?? held.get(spec.name) ?? 0
      scalers.set(spec.name, scalerFor(spec, current, nowMs, lastDrain.get(spec.name)))
    }
    return scalers
  }

  /** Overflow the last plan ran for other sites runs on for a lease, as if just asked. */
  private takeOverHosting (nowMs: number): void {
    const plan = this.c.adopted()
    if (plan === undefined) return
    plan.services.forEach((name, i) => {
      const o = parseOverflowName(name)
      if (o === undefined) return
      let n = 0
      for (const h of plan.hosts) n += h.replicas[i] ?? 0
      this.hosting.accept(o.origin, o.service, n, nowMs + this.c.timings.spillLeaseMs)
    })
  }

  /** A site this leader asked answers with what it took. */
  onSpillOffer (fromSite: string, offer: { service: string, replicas: number }): void {
    const a = this.asked.get(offer.service)
    if (a === undefined || a.toSite !== fromSite) return
    this.c.emit({ kind: 'spill-offered', service: offer.service, fromSite, replicas: offer.replicas, asked: a.replicas })
  }

  private takeOverAssignments (): Assignments {
    const assignments: Assignments = new Map()
    const plan = this.c.adopted()
    if (plan === undefined) return assignments
    for (const h of plan.hosts) {
      const counts = new Map<string, number>()
      plan.services.forEach((s, i) => { if (h.replicas[i] > 0) counts.set(s, h.replicas[i]) })
      assignments.set(h.hostId, counts)
    }
    return assignments
  }

  private planRound (nowMs: number): void {
    const t = this.c.timings
    this.nextPlanMs = nowMs + t.planIntervalMs
    this.lastPlanMs = nowMs
    const self = this.c.self(nowMs)
    const readings = aggregateReadings(this.hostSamples(self, nowMs), nowMs, t.sampleMaxAgeMs)
    const ready = this.c.siteView().ready
    const desired = new Map<string, number>()
    const overflow = new Map<string, number>()
    const decisions = []
    for (const spec of this.c.specs) {
      const scaler = this.scalers.get(spec.name)!
      const before = scaler.replicas
      const reading = readings.load.get(spec.name) ?? missingReading()
      this.load.set(spec.name, reading.total)
      const upstream = spec.upstream === undefined ? undefined : readings.upstream.get(spec.upstream.name)
      const rate = readings.rate.get(spec.name)
      const floor = this.c.forecast === undefined ? undefined : forecastFloor(this.c.forecast, spec, scaler.drainPerReplica, rate, nowMs)
      const spilling = this.isSpilling(spec.name, nowMs)
      const d = scaler.decide(reading, upstream, nowMs, { rate, ready: ready.get(spec.name) ?? 0, forecastFloor: floor, spilling })
      if (spec.spill && !d.failingStatic && !d.upstreamCapped && d.wanted !== undefined && d.wanted > spec.maxReplicas) overflow.set(spec.name, d.wanted - spec.maxReplicas)
      if (d.desired !== before) {
        this.c.emit({
          kind: 'scaled', service: spec.name, from: before, to: d.desired, recommended: d.recommended, failingStatic: d.failingStatic, upstreamCapped: d.upstreamCapped, rule: d.rule,
          ...(d.arrivalRate === undefined ? {} : { arrivalRate: d.arrivalRate }),
          ...(d.drainPerReplica === undefined ? {} : { drainPerReplica: d.drainPerReplica }),
        })
      }
      desired.set(spec.name, d.desired)
      decisions.push({ service: spec.name, desired: d.desired, failingStatic: d.failingStatic, ...(d.drainPerReplica === undefined ? {} : { drainPerReplica: d.drainPerReplica }) })
    }
    const hosts = this.placementHosts(self)
    const result = place({ services: this.c.specs, desired, hosts, previous: this.assignments })
    this.unplaced = result.unplaced
    for (const [service, n] of result.unplaced) {
      if (this.c.specs.find(s => s.name === service)?.spill === true) overflow.set(service, (overflow.get(service) ?? 0) + n)
    }
    this.askForSpill(overflow, nowMs)
    const assignments = this.placeHosted(hosts, result.assignments, nowMs)
    const adopted = this.c.adopted()
    const changed = !sameAssignments(assignments, this.assignments) || !sameDecisions(decisions, adopted?.decisions)
    this.assignments = assignments
    const stale = adopted === undefined || adopted.term !== this.c.term
    if (!changed && !stale && nowMs - this.lastPublishedMs < t.planRepublishMs) return
    const version = changed || stale ? (adopted?.version ?? 0) + 1 : adopted.version
    const plan = this.buildPlan(version, assignments, decisions)
    this.lastPublishedMs = nowMs
    this.c.publish('site', { kind: 'plan', plan }, nowMs)
    if (version !== adopted?.version || stale) {
      this.c.emit({ kind: 'plan-published', term: this.c.term, version })
      this.c.adoptPlan(plan)
    }
  }

  // ---- overflow between sites (spill.ts) -------------------------------------------------------

  /** This site has asked another for `service`'s overflow within the lease: it may be running. */
  private isSpilling (service: string, nowMs: number): boolean {
    const a = this.asked.get(service)
    return a !== undefined && nowMs - a.atMs < this.c.timings.spillLeaseMs
  }

  /** Asks, every spillIntervalMs per service, one other site to run what this one cannot. */
  private askForSpill (overflow: ReadonlyMap<string, number>, nowMs: number): void {
    const t = this.c.timings
    for (const [service, replicas] of overflow) {
      const last = this.asked.get(service)
      if (replicas <= 0 || (last !== undefined && nowMs - last.atMs < t.spillIntervalMs)) continue
      const toSite = chooseSpillSite(this.c.sites(), this.c.site, service, nowMs, SPILL_SUMMARY_MAX_AGE_SUMMARIES * this.summaryEveryMs())
      if (toSite === undefined) continue
      this.asked.set(service, { atMs: nowMs, replicas, toSite })
      const requestId = `${this.c.hostId}/${this.c.term}/${++this.askSeq}`
      this.c.publish('global', { kind: 'spillRequest', spillRequest: { requestId, service, replicas, term: this.c.term, toSite } }, nowMs)
      this.c.emit({ kind: 'spill-requested', service, toSite, replicas })
    }
  }

  /**
   * Another site asks this one to run overflow. Taken: up to the replicas asked, the service's
   * maxReplicas, and the slots free now plus those its overflow already holds; answered with
   * what was taken. A service this site is not configured for is answered with none.
   */
  onSpillRequest (origin: string, req: { requestId: string, service: string, replicas: number }, nowMs: number): void {
    const spec = this.c.specs.find(s => s.name === req.service)
    let taken = 0
    if (spec !== undefined && origin !== this.c.site) {
      const site = this.c.siteView()
      const free = Math.floor(site.slotsFree / spec.slotsPerReplica) + (site.held.get(overflowName(spec.name, origin)) ?? 0)
      taken = Math.max(0, Math.min(req.replicas, spec.maxReplicas, free))
      this.hosting.accept(origin, spec.name, taken, nowMs + this.c.timings.spillLeaseMs)
      this.planSoon(nowMs)
    }
    this.c.publish('global', { kind: 'spillOffer', spillOffer: { requestId: req.requestId, toSite: origin, service: req.service, replicas: taken, term: this.c.term } }, nowMs)
    this.c.emit({ kind: 'spill-hosted', service: req.service, fromSite: origin, replicas: taken, asked: req.replicas })
  }

  /**
   * The overflow this site runs for others, placed in the slots its own services leave: each as
   * `service@origin` with the service's spec (its selector and slots), never where the service
   * cannot start now.
   */
  private placeHosted (hosts: readonly PlacementHost[], own: Assignments, nowMs: number): Assignments {
    const hosted = this.hosting.active(nowMs)
    if (hosted.length === 0) return own
    const specs: ServiceSpec[] = []
    const desired = new Map<string, number>()
    for (const h of hosted) {
      const spec = this.c.specs.find(s => s.name === h.service)
      if (spec === undefined) continue
      specs.push({ ...spec, name: h.name, minReplicas: 0, maxReplicas: h.replicas, upstream: undefined })
      desired.set(h.name, h.replicas)
    }
    const slotsOf = (name: string): number => specs.find(s => s.name === name)?.slotsPerReplica ?? this.c.specs.find(s => s.name === name)?.slotsPerReplica ?? 1
    const left = hosts.map((h): PlacementHost => {
      let used = 0
      for (const [name, n] of own.get(h.hostId) ?? []) used += n * slotsOf(name)
      const unavailable = h.unavailable === undefined
        ? undefined
        : new Map([...h.unavailable, ...hosted.filter(x => h.unavailable!.has(x.service)).map((x): [string, number] => [x.name, 0])])
      return { ...h, slots: Math.max(0, h.slots - used), ...(unavailable === undefined ? {} : { unavailable }) }
    })
    const over = place({ services: specs, desired, hosts: left, previous: this.assignments })
    const merged: Assignments = new Map([...own].map(([host, counts]) => [host, new Map(counts)]))
    for (const [host, counts] of over.assignments) {
      const m = merged.get(host) ?? new Map<string, number>()
      for (const [name, n] of counts) m.set(name, n)
      merged.set(host, m)
    }
    return merged
  }

  private buildPlan (version: number, assignments: Assignments, decisions: Plan['decisions']): Plan {
    const overflowNames = new Set<string>()
    for (const counts of assignments.values()) for (const name of counts.keys()) if (parseOverflowName(name) !== undefined) overflowNames.add(name)
    const services = [...this.c.specs.map(s => s.name), ...[...overflowNames].sort()]
    // A host holds a few services of many: each count is written where its service sits (in
    // every column of that name, should a name come twice).
    const columns = new Map<string, number[]>()
    services.forEach((s, i) => { const c = columns.get(s); if (c === undefined) columns.set(s, [i]); else c.push(i) })
    const hosts = [...assignments.keys()].sort().map(hostId => {
      const replicas: number[] = services.map(() => 0)
      for (const [s, n] of assignments.get(hostId)!) for (const i of columns.get(s) ?? []) replicas[i] = n
      return { hostId, replicas }
    })
    return { term: this.c.term, version, services, hosts, decisions }
  }

  private * hostSamples (self: LeaderSelf, nowMs: number): Iterable<HostSamples> {
    yield { signals: self.signals, receivedAtMs: nowMs, reachable: true }
    for (const peer of this.c.members.values()) {
      yield { signals: peer.signals, receivedAtMs: peer.lastHeardMs, reachable: peer.state === 'alive' }
    }
  }

  private placementHosts (self: LeaderSelf): PlacementHost[] {
    const hosts: PlacementHost[] = [{
      hostId: this.c.hostId,
      labels: this.c.labels,
      slots: this.effectiveSlots(self.capacity, self.runtimeOk, self.held),
      state: 'alive',
      ...unavailableHere(self.unavailable, self.held),
    }]
    // Hosts that said goodbye a moment ago keep their replicas (as suspect hosts do) until
    // deadAfterMs: a supervisor restarted within it adopts them instead of the site moving them.
    const add = (peer: Peer): void => {
      // What runs there matters only to a host whose runtime is down or that cannot start a
      // service: the usual host needs no map of it (the leader does this for every member, every round).
      if (peer.runtimeOk && peer.unavailable.length === 0) {
        hosts.push({ hostId: peer.hostId, labels: peer.labels, slots: peer.capacity.slots, state: peer.state })
        return
      }
      const running = new Map(peer.running.map(r => [r.service, r.replicas]))
      hosts.push({ hostId: peer.hostId, labels: peer.labels, slots: this.effectiveSlots(peer.capacity, peer.runtimeOk, running), state: peer.state, ...unavailableHere(peer.unavailable, running) })
    }
    for (const peer of this.c.members.values()) add(peer)
    for (const peer of this.c.members.holding()) add(peer)
    return hosts.sort((a, b) => a.hostId < b.hostId ? -1 : 1)
  }

  /** While a host's runtime is down it can hold only what already runs there. */
  private effectiveSlots (capacity: Capacity, runtimeOk: boolean, running: ReadonlyMap<string, number>): number {
    if (runtimeOk) return capacity.slots
    let used = 0
    for (const spec of this.c.specs) used += (running.get(spec.name) ?? 0) * spec.slotsPerReplica
    return Math.min(used, capacity.slots)
  }

  /**
   * How often this leader sends its summary: summaryIntervalMs, or longer in a fleet of more
   * sites than the global topic may bring a leader summaries of (summariesPerSecondMax). Every
   * leader knows about as many sites, so every leader stretches alike.
   */
  private summaryEveryMs (): number {
    const t = this.c.timings
    return Math.max(t.summaryIntervalMs, Math.ceil(this.c.sites().size * 1000 / t.summariesPerSecondMax))
  }

  private publishSummary (nowMs: number): void {
    this.nextSummaryMs = nowMs + this.summaryEveryMs()
    const site = this.c.siteView()
    const services = this.c.specs.map(spec => ({
      service: spec.name,
      desired: this.scalers.get(spec.name)!.replicas,
      running: site.held.get(spec.name) ?? 0,
      load: this.load.get(spec.name) ?? 0,
      unplaced: this.unplaced.get(spec.name) ?? 0,
    }))
    const summary: SiteSummary = { term: this.c.term, hostsAlive: site.hostsAlive, slotsTotal: site.slotsTotal, slotsFree: site.slotsFree, services }
    this.c.publish('global', { kind: 'siteSummary', siteSummary: summary }, nowMs)
  }
}

/** A host's unavailable services, each with the replicas it holds of it (those stay; none is added). */
function unavailableHere (services: readonly string[], held: ReadonlyMap<string, number>): Pick<PlacementHost, 'unavailable'> {
  if (services.length === 0) return {}
  return { unavailable: new Map(services.map(s => [s, held.get(s) ?? 0])) }
}

/** Whether two placements are the same (by keys, not entries: each [key, value] pair is an array to allocate). */
function sameAssignments (a: Assignments, b: Assignments): boolean {
  if (a.size !== b.size) return false
  for (const host of a.keys()) {
    const counts = a.get(host)!
    const other = b.get(host)
    if (other === undefined || other.size !== counts.size) return false
    for (const s of counts.keys()) if (other.get(s) !== counts.get(s)) return false
  }
  return true
}

function sameDecisions (a: Plan['decisions'], b: Plan['decisions'] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false
  return a.every((d, i) => d.service === b[i].service && d.desired === b[i].desired && d.failingStatic === b[i].failingStatic)
}
