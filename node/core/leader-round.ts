/**
 * The site leader's round, as a part of the core (no I/O): from the moment this host wins an
 * election until it stops leading, every planIntervalMs it turns the site's aggregated signals
 * into desired replicas per service (ServiceScaler), places them on the site's hosts
 * (placement.ts) and publishes the plan when it changed (or every planRepublishMs for hosts
 * that joined late); every summaryIntervalMs it gossips the site summary on the global topic.
 *
 * Taking over: the scalers start from the desired counts of the plan in force (or what runs),
 * and placement from that plan's assignments, so a new leader does not reshuffle the site.
 */
import type { Body, Capacity, Plan, SignalSample, SiteSummary } from '../../protocol/index.js'
import type { CoreTimings } from './config.js'
import type { CoreEvent, Topic } from './core-io.js'
import { aggregateReadings, missingReading, type HostSamples } from './load-reading.js'
import type { Membership } from './membership.js'
import { place, type Assignments, type PlacementHost } from './placement.js'
import { ServiceScaler } from './service-scaler.js'
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
}

export class LeaderRound {
  readonly sinceMs: number
  private readonly scalers: Map<string, ServiceScaler>
  private assignments: Assignments
  private unplaced = new Map<string, number>()
  /** Total fresh load per service at the last plan round. */
  private readonly load = new Map<string, number>()
  private nextPlanMs: number
  private lastPublishedMs = -Infinity
  private nextSummaryMs: number

  /**
   * `firstPlanAtMs`: the first plan round waits until then (or planNow), so a leader that has
   * not heard its members' heartbeats yet does not place replicas on what it does not know.
   */
  constructor (private readonly c: LeaderRoundComponents, nowMs: number, firstPlanAtMs = nowMs) {
    this.sinceMs = nowMs
    this.scalers = this.takeOverScalers(nowMs)
    this.assignments = this.takeOverAssignments()
    this.nextPlanMs = Math.max(nowMs, firstPlanAtMs)
    // The summary reports the rounds' load: the first one follows the first round.
    this.nextSummaryMs = this.nextPlanMs
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
    this.nextPlanMs = Math.min(this.nextPlanMs, nowMs)
    this.nextSummaryMs = Math.min(this.nextSummaryMs, nowMs)
  }

  /** The leader's latest decisions and unplaced replicas (for status). */
  get view (): { scalers: ReadonlyMap<string, ServiceScaler>, unplaced: ReadonlyMap<string, number>, load: ReadonlyMap<string, number> } {
    return { scalers: this.scalers, unplaced: this.unplaced, load: this.load }
  }

  private takeOverScalers (nowMs: number): Map<string, ServiceScaler> {
    const lastDesired = new Map<string, number>()
    for (const d of this.c.adopted()?.decisions ?? []) lastDesired.set(d.service, d.desired)
    const held = this.c.siteView().held
    const scalers = new Map<string, ServiceScaler>()
    for (const spec of this.c.specs) {
      const current = lastDesired.get(spec.name) ?? held.get(spec.name) ?? 0
      scalers.set(spec.name, new ServiceScaler(spec, current, nowMs))
    }
    return scalers
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
    const self = this.c.self(nowMs)
    const readings = aggregateReadings(this.hostSamples(self, nowMs), nowMs, t.sampleMaxAgeMs)
    const desired = new Map<string, number>()
    const decisions = []
    for (const spec of this.c.specs) {
      const scaler = this.scalers.get(spec.name)!
      const before = scaler.replicas
      const reading = readings.load.get(spec.name) ?? missingReading()
      this.load.set(spec.name, reading.total)
      const upstream = spec.upstream === undefined ? undefined : readings.upstream.get(spec.upstream.name)
      const d = scaler.decide(reading, upstream, nowMs)
      if (d.desired !== before) {
        this.c.emit({ kind: 'scaled', service: spec.name, from: before, to: d.desired, recommended: d.recommended, failingStatic: d.failingStatic, upstreamCapped: d.upstreamCapped })
      }
      desired.set(spec.name, d.desired)
      decisions.push({ service: spec.name, desired: d.desired, failingStatic: d.failingStatic })
    }
    const result = place({ services: this.c.specs, desired, hosts: this.placementHosts(self), previous: this.assignments })
    this.unplaced = result.unplaced
    const adopted = this.c.adopted()
    const changed = !sameAssignments(result.assignments, this.assignments) || !sameDecisions(decisions, adopted?.decisions)
    this.assignments = result.assignments
    const stale = adopted === undefined || adopted.term !== this.c.term
    if (!changed && !stale && nowMs - this.lastPublishedMs < t.planRepublishMs) return
    const version = changed || stale ? (adopted?.version ?? 0) + 1 : adopted.version
    const plan = this.buildPlan(version, result.assignments, decisions)
    this.lastPublishedMs = nowMs
    this.c.publish('site', { kind: 'plan', plan }, nowMs)
    if (version !== adopted?.version || stale) {
      this.c.emit({ kind: 'plan-published', term: this.c.term, version })
      this.c.adoptPlan(plan)
    }
  }

  private buildPlan (version: number, assignments: Assignments, decisions: Plan['decisions']): Plan {
    const services = this.c.specs.map(s => s.name)
    const hosts = [...assignments.keys()].sort().map(hostId => {
      const counts = assignments.get(hostId)!
      return { hostId, replicas: services.map(s => counts.get(s) ?? 0) }
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
    for (const peer of [...this.c.members.values(), ...this.c.members.holding()]) {
      const running = new Map(peer.running.map(r => [r.service, r.replicas]))
      hosts.push({ hostId: peer.hostId, labels: peer.labels, slots: this.effectiveSlots(peer.capacity, peer.runtimeOk, running), state: peer.state, ...unavailableHere(peer.unavailable, running) })
    }
    return hosts.sort((a, b) => a.hostId < b.hostId ? -1 : 1)
  }

  /** While a host's runtime is down it can hold only what already runs there. */
  private effectiveSlots (capacity: Capacity, runtimeOk: boolean, running: ReadonlyMap<string, number>): number {
    if (runtimeOk) return capacity.slots
    let used = 0
    for (const spec of this.c.specs) used += (running.get(spec.name) ?? 0) * spec.slotsPerReplica
    return Math.min(used, capacity.slots)
  }

  private publishSummary (nowMs: number): void {
    this.nextSummaryMs = nowMs + this.c.timings.summaryIntervalMs
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

function sameAssignments (a: Assignments, b: Assignments): boolean {
  if (a.size !== b.size) return false
  for (const [host, counts] of a) {
    const other = b.get(host)
    if (other === undefined || other.size !== counts.size) return false
    for (const [s, n] of counts) if (other.get(s) !== n) return false
  }
  return true
}

function sameDecisions (a: Plan['decisions'], b: Plan['decisions'] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false
  return a.every((d, i) => d.service === b[i].service && d.desired === b[i].desired && d.failingStatic === b[i].failingStatic)
}
