/**
 * The supervisor's pure core: membership, site leader election, scaling, placement and
 * reconciliation as one deterministic state machine (see core-io.ts for the driving contract).
 *
 * Election is Raft's, minus the log: a host votes at most once per term; a candidate needs a
 * strict majority of its electorate (every site member not yet reaped, itself included); a
 * pre-vote round comes first, so a host that was cut off cannot inflate terms; a host that
 * hears from a live leader refuses to vote (leader stickiness); a leader that is not followed
 * by a majority within leaderLeaseMs steps down. Plans carry their term; a plan from a term
 * older than the host's is never executed, and between terms a host keeps what runs (fail static).
 *
 * Bounded trust between members (README, "Bounded trust between members"): a host follows a
 * leader only once it has seen a majority of its electorate back it (granted votes seen on the
 * site topic, members' heartbeats naming it, its own vote), never on one member's say-so; it
 * caps its part of any plan by its own slots, the service's maxReplicas and the services it
 * runs; and it refuses terms and incarnations that jump beyond TRUST_LIMITS.
 */
import { PROTOCOL_MINOR, type Capacity, type Heartbeat, type Message, type Plan, type SignalSample, type SiteSummary, type Body } from '../../protocol/index.js'
import { TRUST_LIMITS, type CoreTimings } from './config.js'
import type { CoreEvent, CoreInput, CoreOutput, MessageDroppedReason, PersistentState, PlanCappedReason, Topic } from './core-io.js'
import { aggregateReadings, missingReading, type HostSamples } from './load-reading.js'
import { Membership, type Peer, type PeerState, type PeerStateChange } from './membership.js'
import { place, type Assignments, type PlacementHost } from './placement.js'
import { isOwnedBy, OWNER_LABELS, reconcile, type ObservedContainer } from './reconcile.js'
import { Rng } from './rng.js'
import { Election, type Role } from './election.js'
import { ServiceScaler } from './service-scaler.js'
import type { ServiceSpec } from './service-spec.js'
import { assert } from './errors.js'

export interface CoreInit {
  hostId: string
  site: string
  /** Grows on every restart of the supervisor (the daemon persists it). */
  incarnation: number
  labels: ReadonlyMap<string, string>
  /** Higher stands for election first. */
  priority: number
  capacity: Capacity
  services: readonly ServiceSpec[]
  timings: CoreTimings
  /** Seeds every random choice of this core. */
  seed: number
  /** Dialable addresses to advertise in heartbeats. */
  addrs?: readonly string[]
  /** The core's first `now`. */
  startMs: number
  /** What the last run of this host persisted, if anything. */
  persisted?: PersistentState
  /**
   * Like Consul's bootstrap_expect: before the site has ever had a leader (term 0), a host
   * does not stand until it knows this many members, itself included. Set it to the number
   * of hosts that start together, so the first election cannot happen among hosts that have
   * not heard each other yet. Default 1 (a host may lead alone).
   */
  bootstrapExpect?: number
}

export type { Role }

/** The plan in force on this host. */
export interface AdoptedPlan {
  plan: Plan
  leaderId: string
  /** Replicas wanted on this host, per service. */
  wanted: Map<string, number>
}

interface LeaderState {
  sinceMs: number
  scalers: Map<string, ServiceScaler>
  assignments: Assignments
  unplaced: Map<string, number>
  /** Total fresh load per service at the last plan round. */
  load: Map<string, number>
  nextPlanMs: number
  lastPublishedMs: number
  nextSummaryMs: number
}

export interface RemoteSite {
  site: string
  leaderId: string
  summary: SiteSummary
  receivedAtMs: number
}

const MAX_AGE_MS = 0xffffffff
const NO_SIGNALS: SignalSample[] = []

export class SupervisorCore {
  readonly hostId: string
  readonly site: string
  readonly incarnation: number
  private readonly init: CoreInit
  private readonly t: CoreTimings
  private readonly rng: Rng
  private readonly specs: ServiceSpec[]
  readonly members: Membership
  /** Pending outputs from `outputsHead` on; the array is reset whenever it runs empty. */
  private outputs: CoreOutput[] = []
  private outputsHead = 0
  private seq = 0
  /** 'vote': term or vote changed, flushed before the next publish; 'members': at the next sweep. */
  private persistPending: 'none' | 'members' | 'vote' = 'none'
  /** Immutable parts of this host's heartbeat, built once. */
  private readonly heartbeatLabels: Map<string, string>
  private readonly heartbeatAddrs: string[]
  private runningCache: { observed: ObservedContainer[], counts: Map<string, number>, list: Heartbeat['running'] } | undefined

  readonly election: Election
  private leader: LeaderState | undefined

  // this host
  private signals: { sample: SignalSample, sampledAtMs: number }[] = []
  private capacity: Capacity
  private observed: ObservedContainer[] = []
  private runtimeOk = true
  private adopted: AdoptedPlan | undefined
  private nextHeartbeatMs: number
  private nextSweepMs: number
  private left = false
  private readonly remoteSites = new Map<string, RemoteSite>()

  constructor (init: CoreInit) {
    assert(init.hostId !== '' && init.site !== '', 'hostId and site must be set')
    this.init = init
    this.hostId = init.hostId
    this.site = init.site
    this.incarnation = init.incarnation
    this.t = init.timings
    this.rng = new Rng(init.seed)
    this.specs = [...init.services].sort((a, b) => a.name < b.name ? -1 : 1)
    this.capacity = init.capacity
    this.heartbeatLabels = new Map(init.labels)
    this.heartbeatAddrs = [...(init.addrs ?? [])]
    this.members = new Membership(init.timings)
    if (init.persisted !== undefined) this.members.restore(init.persisted.members.filter(id => id !== init.hostId), init.startMs)
    this.nextHeartbeatMs = init.startMs
    this.nextSweepMs = init.startMs + this.t.membershipSweepMs
    this.election = new Election({
      hostId: init.hostId,
      priority: init.priority,
      bootstrapExpect: init.bootstrapExpect ?? 1,
      timings: init.timings,
      members: this.members,
      rng: this.rng,
      publish: (body, nowMs) => this.publish('site', body, nowMs),
      emit: (event) => this.emit(event),
      persist: () => this.persist(),
      becameLeader: (nowMs) => this.startLeading(nowMs),
      steppedDown: () => { this.leader = undefined },
    }, init.persisted, init.startMs)
  }

  // ---- driving contract ----------------------------------------------------------------

  handle (input: CoreInput, nowMs: number): void {
    if (this.left) return
    switch (input.type) {
      case 'tick': break
      case 'message': this.onMessage(input.message, nowMs); break
      case 'disconnected': this.onPeerChange(this.members.disconnected(input.hostId, nowMs), nowMs); break
      case 'samples': this.onSamples(input.signals, input.capacity, nowMs); break
      case 'observed': this.onObserved(input.containers, input.runtimeOk); break
      case 'leave': this.onLeave(nowMs); return
    }
    this.runDue(nowMs)
    this.flushPersist()
  }

  pollOutput (): CoreOutput | undefined {
    if (this.outputsHead >= this.outputs.length) {
      if (this.outputs.length > 0) { this.outputs = []; this.outputsHead = 0 }
      return undefined
    }
    return this.outputs[this.outputsHead++]
  }

  /** Drains every pending output at once. */
  drainOutputs (): CoreOutput[] {
    const out = this.outputsHead === 0 ? this.outputs : this.outputs.slice(this.outputsHead)
    this.outputs = []
    this.outputsHead = 0
    return out
  }

  nextDeadlineMs (): number {
    let d = Math.min(this.nextHeartbeatMs, this.nextSweepMs, this.election.nextDeadlineMs())
    if (this.leader !== undefined) d = Math.min(d, this.leader.nextPlanMs, this.leader.nextSummaryMs)
    return d
  }

  // ---- read-only views for status --------------------------------------------------------

  get currentTerm (): number { return this.election.term }
  get currentLeaderId (): string { return this.election.leaderId }
  get currentRole (): Role { return this.election.role }
  get plan (): AdoptedPlan | undefined { return this.adopted }
  get sites (): ReadonlyMap<string, RemoteSite> { return this.remoteSites }
  get observedContainers (): readonly ObservedContainer[] { return this.observed }
  get isRuntimeOk (): boolean { return this.runtimeOk }
  /** The leader's latest decisions and unplaced replicas; undefined on followers. */
  get leaderView (): { scalers: ReadonlyMap<string, ServiceScaler>, unplaced: ReadonlyMap<string, number>, load: ReadonlyMap<string, number> } | undefined {
    return this.leader === undefined ? undefined : { scalers: this.leader.scalers, unplaced: this.leader.unplaced, load: this.leader.load }
  }

  // ---- time-driven work --------------------------------------------------------------------

  private runDue (nowMs: number): void {
    if (nowMs >= this.nextSweepMs) {
      this.nextSweepMs = nowMs + this.t.membershipSweepMs
      for (const change of this.members.sweep(nowMs, this.election.hasLiveLeader(nowMs))) this.onPeerChange(change, nowMs)
      this.flushPersist('members')
      if (this.election.role === 'leader') this.election.checkLease(nowMs)
    }
    this.election.runDue(nowMs)
    if (this.leader !== undefined) {
      if (nowMs >= this.leader.nextPlanMs) this.planRound(nowMs)
      if (nowMs >= this.leader.nextSummaryMs) this.publishSummary(nowMs)
    }
    if (nowMs >= this.nextHeartbeatMs) {
      this.nextHeartbeatMs = nowMs + this.t.heartbeatIntervalMs
      this.publish('site', { kind: 'heartbeat', heartbeat: this.buildHeartbeat(nowMs) }, nowMs)
    }
  }

  // ---- messages ----------------------------------------------------------------------------

  private onMessage (m: Message, nowMs: number): void {
    if (m.sender === this.hostId) return this.drop(m, 'self')
    const b = m.body
    if (b.kind === 'siteSummary') return this.onSiteSummary(m, b.siteSummary, nowMs)
    if (b.kind === 'spillRequest' || b.kind === 'spillOffer') return
    if (m.site !== this.site) return this.drop(m, 'wrong-site')
    if (b.kind === 'heartbeat') return this.onHeartbeat(m, b.heartbeat, nowMs)
    if (b.kind === 'leave') return this.onPeerChange(this.members.left(m.sender, m.incarnation), nowMs)
    if (this.members.get(m.sender) === undefined) return this.drop(m, 'stale')
    this.members.heardFrom(m.sender, m.incarnation, nowMs)
    if (b.kind === 'voteRequest' && this.election.isTermJump(b.voteRequest.term)) return this.drop(m, 'term-jump')
    if (b.kind === 'vote' && this.election.isTermJump(b.vote.term)) return this.drop(m, 'term-jump')
    switch (b.kind) {
      case 'voteRequest': return this.election.onVoteRequest(m.sender, b.voteRequest.term, b.voteRequest.preVote, b.voteRequest.electorate, nowMs)
      case 'vote': return this.election.onVote(m.sender, b.vote.term, b.vote.candidateId, b.vote.granted, b.vote.preVote, nowMs)
      case 'plan': return this.onPlan(m.sender, b.plan, nowMs)
    }
  }

  private drop (m: Message, reason: MessageDroppedReason): void {
    this.emit({ kind: 'message-dropped', from: m.sender, reason })
  }

  private onHeartbeat (m: Message, hb: Heartbeat, nowMs: number): void {
    const change = this.members.heartbeat(m.sender, m.incarnation, m.seq, hb, nowMs)
    if (change === 'stale' || change === 'incarnation-jump') return this.drop(m, change)
    this.onPeerChange(change, nowMs)
    // Raft's rule: a higher term ends ours (bounded: one member cannot push it out of reach).
    // It makes nobody leader: a host follows only a leader it has seen win (followIfProven).
    if (hb.term > this.election.term && !this.election.isTermJump(hb.term)) this.election.adoptTerm(hb.term, '', nowMs)
    if (hb.leaderId !== '') this.election.followIfProven(hb.term, hb.leaderId, nowMs)
  }

  private onPeerChange (change: PeerStateChange | undefined, nowMs: number): void {
    if (change === undefined) return
    this.emit({ kind: 'peer-state', change })
    if (change.from === 'unknown' || change.to === 'reaped') this.persist('members')
    if (change.hostId === this.election.leaderId && change.to !== 'alive' && this.election.role === 'follower') this.election.loseLeader(nowMs)
  }

  // ---- plans -------------------------------------------------------------------------------

  private onPlan (senderId: string, plan: Plan, nowMs: number): void {
    const ignore = (reason: 'stale-term' | 'not-leader' | 'unproven-leader' | 'term-jump'): void => {
      this.emit({ kind: 'plan-ignored', term: plan.term, version: plan.version, reason })
    }
    if (plan.term < this.election.term) return ignore('stale-term')
    if (!this.election.followIfProven(plan.term, senderId, nowMs)) {
      if (plan.term === this.election.term && this.election.leaderId !== '' && this.election.leaderId !== senderId) return ignore('not-leader')
      return ignore(this.election.isTermJump(plan.term) ? 'term-jump' : 'unproven-leader')
    }
    this.election.leaderHeard(nowMs)
    const current = this.adopted?.plan
    if (current !== undefined && current.term === plan.term && plan.version <= current.version) {
      if (plan.version < current.version) this.emit({ kind: 'plan-ignored', term: plan.term, version: plan.version, reason: 'old-version' })
      return
    }
    this.adoptPlan(plan, senderId)
  }

  private adoptPlan (plan: Plan, leaderId: string): void {
    const wanted = this.capToThisHost(plan)
    this.adopted = { plan, leaderId, wanted }
    this.emit({ kind: 'plan-adopted', term: plan.term, version: plan.version })
    this.outputs.push({ type: 'observe' })
  }

  /**
   * This host's part of a plan, cut to what it may run whoever sent it: only services it is
   * configured for, at most the service's maxReplicas each, and at most its own slots in all
   * (services filled in name order). A plan asking for more is a bug or a hostile leader; each
   * cut is reported with its reason.
   */
  private capToThisHost (plan: Plan): Map<string, number> {
    const wanted = new Map<string, number>()
    const mine = plan.hosts.find(h => h.hostId === this.hostId)
    if (mine === undefined) return wanted
    const asked = new Map<string, number>()
    plan.services.forEach((service, i) => { if ((mine.replicas[i] ?? 0) > 0) asked.set(service, mine.replicas[i]) })
    const cap = (service: string, reason: PlanCappedReason, want: number, kept: number): void => {
      this.emit({ kind: 'plan-capped', term: plan.term, version: plan.version, service, reason, wanted: want, kept })
    }
    for (const service of [...asked.keys()].sort()) {
      if (!this.specs.some(s => s.name === service)) cap(service, 'unknown-service', asked.get(service)!, 0)
    }
    let slotsLeft = Math.max(0, this.capacity.slots)
    for (const spec of this.specs) {
      const want = asked.get(spec.name) ?? 0
      if (want === 0) continue
      let kept = Math.min(want, spec.maxReplicas)
      if (kept < want) cap(spec.name, 'max-replicas', want, kept)
      const fit = Math.floor(slotsLeft / Math.max(1, spec.slotsPerReplica))
      if (kept > fit) { cap(spec.name, 'slots', want, fit); kept = fit }
      slotsLeft -= kept * spec.slotsPerReplica
      assert(slotsLeft >= 0, 'free slots never below zero')
      if (kept > 0) wanted.set(spec.name, kept)
    }
    return wanted
  }

  /** The election was won: the leader's round starts from the plan in force. */
  private startLeading (nowMs: number): void {
    this.leader = {
      sinceMs: nowMs,
      scalers: this.takeOverScalers(nowMs),
      assignments: this.takeOverAssignments(),
      unplaced: new Map(),
      load: new Map(),
      nextPlanMs: nowMs,
      lastPublishedMs: -Infinity,
      nextSummaryMs: nowMs,
    }
    // Announce at once: followers stop their election timers on this heartbeat.
    this.nextHeartbeatMs = nowMs
  }

  private takeOverScalers (nowMs: number): Map<string, ServiceScaler> {
    const lastDesired = new Map<string, number>()
    for (const d of this.adopted?.plan.decisions ?? []) lastDesired.set(d.service, d.desired)
    const running = this.siteRunning()
    const scalers = new Map<string, ServiceScaler>()
    for (const spec of this.specs) {
      const current = lastDesired.get(spec.name) ?? running.get(spec.name) ?? 0
      scalers.set(spec.name, new ServiceScaler(spec, current, nowMs))
    }
    return scalers
  }

  private takeOverAssignments (): Assignments {
    const assignments: Assignments = new Map()
    const plan = this.adopted?.plan
    if (plan === undefined) return assignments
    for (const h of plan.hosts) {
      const counts = new Map<string, number>()
      plan.services.forEach((s, i) => { if (h.replicas[i] > 0) counts.set(s, h.replicas[i]) })
      assignments.set(h.hostId, counts)
    }
    return assignments
  }

  private siteRunning (): Map<string, number> {
    const running = new Map<string, number>(this.ownRunningCached().counts)
    for (const peer of this.members.values()) {
      if (peer.state === 'dead') continue
      for (const r of peer.running) running.set(r.service, (running.get(r.service) ?? 0) + r.replicas)
    }
    return running
  }

  private planRound (nowMs: number): void {
    const leader = this.leader!
    leader.nextPlanMs = nowMs + this.t.planIntervalMs
    const readings = aggregateReadings(this.hostSamples(nowMs), nowMs, this.t.sampleMaxAgeMs)
    const desired = new Map<string, number>()
    const decisions = []
    for (const spec of this.specs) {
      const scaler = leader.scalers.get(spec.name)!
      const before = scaler.replicas
      const reading = readings.load.get(spec.name) ?? missingReading()
      leader.load.set(spec.name, reading.total)
      const upstream = spec.upstream === undefined ? undefined : readings.upstream.get(spec.upstream.name)
      const d = scaler.decide(reading, upstream, nowMs)
      if (d.desired !== before) {
        this.emit({ kind: 'scaled', service: spec.name, from: before, to: d.desired, recommended: d.recommended, failingStatic: d.failingStatic, upstreamCapped: d.upstreamCapped })
      }
      desired.set(spec.name, d.desired)
      decisions.push({ service: spec.name, desired: d.desired, failingStatic: d.failingStatic })
    }
    const result = place({ services: this.specs, desired, hosts: this.placementHosts(), previous: leader.assignments })
    leader.unplaced = result.unplaced
    const changed = !sameAssignments(result.assignments, leader.assignments) ||
      !sameDecisions(decisions, this.adopted?.plan.decisions)
    leader.assignments = result.assignments
    const stale = this.adopted === undefined || this.adopted.plan.term !== this.election.term
    if (!changed && !stale && nowMs - leader.lastPublishedMs < this.t.planRepublishMs) return
    const version = changed || stale ? (this.adopted?.plan.version ?? 0) + 1 : this.adopted!.plan.version
    const plan = this.buildPlan(version, result.assignments, decisions)
    leader.lastPublishedMs = nowMs
    this.publish('site', { kind: 'plan', plan }, nowMs)
    if (version !== this.adopted?.plan.version || stale) {
      this.emit({ kind: 'plan-published', term: this.election.term, version })
      this.adoptPlan(plan, this.hostId)
    }
  }

  private buildPlan (version: number, assignments: Assignments, decisions: Plan['decisions']): Plan {
    const services = this.specs.map(s => s.name)
    const hosts = [...assignments.keys()].sort().map(hostId => {
      const counts = assignments.get(hostId)!
      return { hostId, replicas: services.map(s => counts.get(s) ?? 0) }
    })
    return { term: this.election.term, version, services, hosts, decisions }
  }

  private * hostSamples (nowMs: number): Iterable<HostSamples> {
    yield { signals: this.ownSignals(nowMs), receivedAtMs: nowMs, reachable: true }
    for (const peer of this.members.values()) {
      yield { signals: peer.signals, receivedAtMs: peer.lastHeardMs, reachable: peer.state === 'alive' }
    }
  }

  private placementHosts (): PlacementHost[] {
    const hosts: PlacementHost[] = [{
      hostId: this.hostId,
      labels: this.init.labels,
      slots: this.effectiveSlots(this.capacity, this.runtimeOk, this.ownRunningCached().counts),
      state: 'alive',
    }]
    for (const peer of this.members.values()) {
      const running = new Map(peer.running.map(r => [r.service, r.replicas]))
      hosts.push({ hostId: peer.hostId, labels: peer.labels, slots: this.effectiveSlots(peer.capacity, peer.runtimeOk, running), state: peer.state })
    }
    return hosts.sort((a, b) => a.hostId < b.hostId ? -1 : 1)
  }

  /** While a host's runtime is down it can hold only what already runs there. */
  private effectiveSlots (capacity: Capacity, runtimeOk: boolean, running: ReadonlyMap<string, number>): number {
    if (runtimeOk) return capacity.slots
    let used = 0
    for (const spec of this.specs) used += (running.get(spec.name) ?? 0) * spec.slotsPerReplica
    return Math.min(used, capacity.slots)
  }

  private publishSummary (nowMs: number): void {
    const leader = this.leader!
    leader.nextSummaryMs = nowMs + this.t.summaryIntervalMs
    const states = this.members.countByState()
    let slotsTotal = this.capacity.slots
    for (const peer of this.members.values()) if (peer.state === 'alive') slotsTotal += peer.capacity.slots
    const running = this.siteRunning()
    let used = 0
    const services = this.specs.map(spec => {
      const n = running.get(spec.name) ?? 0
      used += n * spec.slotsPerReplica
      return {
        service: spec.name,
        desired: leader.scalers.get(spec.name)!.replicas,
        running: n,
        load: leader.load.get(spec.name) ?? 0,
        unplaced: leader.unplaced.get(spec.name) ?? 0,
      }
    })
    const summary: SiteSummary = { term: this.election.term, hostsAlive: states.alive + 1, slotsTotal, slotsFree: Math.max(0, slotsTotal - used), services }
    this.publish('global', { kind: 'siteSummary', siteSummary: summary }, nowMs)
  }

  private onSiteSummary (m: Message, summary: SiteSummary, nowMs: number): void {
    const known = this.remoteSites.get(m.site)
    if (known !== undefined && summary.term < known.summary.term) return
    this.remoteSites.set(m.site, { site: m.site, leaderId: m.sender, summary, receivedAtMs: nowMs })
  }

  // ---- this host ---------------------------------------------------------------------------

  private onSamples (signals: SignalSample[], capacity: Capacity, nowMs: number): void {
    this.signals = signals.map(sample => ({ sample, sampledAtMs: nowMs - sample.ageMs }))
    this.capacity = capacity
  }

  private ownSignals (nowMs: number): SignalSample[] {
    return this.signals.map(({ sample, sampledAtMs }) => ({ ...sample, ageMs: Math.min(MAX_AGE_MS, nowMs - sampledAtMs) }))
  }

  private onObserved (containers: ObservedContainer[], runtimeOk: boolean): void {
    this.observed = containers
    this.runtimeOk = runtimeOk
    const plan = this.adopted
    // Only a plan of the current term is executed; between terms, keep what runs.
    if (plan === undefined || plan.plan.term !== this.election.term || !runtimeOk) return
    const actions = reconcile({ hostId: this.hostId, site: this.site, term: plan.plan.term, wanted: plan.wanted, observed: containers })
    for (const action of actions) this.outputs.push({ type: 'action', action })
  }

  /** Replicas running here per service, recomputed only when the observed list changes. */
  private ownRunningCached (): { counts: Map<string, number>, list: Heartbeat['running'] } {
    if (this.runningCache === undefined || this.runningCache.observed !== this.observed) {
      const counts = this.ownRunning()
      const list = [...counts].sort().map(([service, replicas]) => ({ service, replicas }))
      this.runningCache = { observed: this.observed, counts, list }
    }
    return this.runningCache
  }

  private ownRunning (): Map<string, number> {
    const running = new Map<string, number>()
    for (const c of this.observed) {
      if (c.state === 'exited' || !isOwnedBy(c, this.hostId, this.site)) continue
      const service = c.labels[OWNER_LABELS.service]
      running.set(service, (running.get(service) ?? 0) + 1)
    }
    return running
  }

  /**
   * Receivers keep the heartbeat's parts as they are, so the parts that rarely change are
   * shared between heartbeats rather than rebuilt: nothing downstream mutates a message.
   */
  private buildHeartbeat (nowMs: number): Heartbeat {
    return {
      labels: this.heartbeatLabels,
      capacity: this.capacity,
      priority: this.init.priority,
      running: this.ownRunningCached().list,
      signals: this.signals.length === 0 ? NO_SIGNALS : this.ownSignals(nowMs),
      addrs: this.heartbeatAddrs,
      term: this.election.term,
      leaderId: this.election.leaderId,
      planVersion: this.adopted?.plan.version ?? 0,
      runtimeOk: this.runtimeOk,
    }
  }

  private onLeave (nowMs: number): void {
    this.publish('site', { kind: 'leave' }, nowMs)
    if (this.election.role === 'leader') this.election.stepDown('lost-majority', nowMs)
    this.left = true
  }

  // ---- outputs -----------------------------------------------------------------------------

  private publish (topic: Topic, body: Body, nowMs: number): void {
    // What we persist must be durable before anyone can act on a message that depends on it.
    this.flushPersist()
    this.seq++
    const message: Message = { minor: PROTOCOL_MINOR, sender: this.hostId, site: this.site, incarnation: this.incarnation, seq: this.seq, sentAtMs: nowMs, body }
    this.outputs.push({ type: 'publish', topic, message })
  }

  /**
   * Persisting is batched. A changed term or vote is written before the next publish (Raft:
   * durable before anyone can act on a message that depends on it) or at the end of handle().
   * A changed member list alone waits for the next membership sweep: losing it in a crash
   * only means the restarted host relearns the newest members from their heartbeats.
   */
  private persist (level: 'members' | 'vote' = 'vote'): void {
    if (this.persistPending !== 'vote') this.persistPending = level
  }

  private flushPersist (level: 'members' | 'vote' = 'vote'): void {
    if (this.persistPending === 'none' || (level === 'vote' && this.persistPending !== 'vote')) return
    this.persistPending = 'none'
    const members = this.members.sorted().map(p => p.hostId)
    this.outputs.push({ type: 'persist', state: { term: this.election.term, votedFor: this.election.votedFor, members } })
  }

  private emit (event: CoreEvent): void {
    this.outputs.push({ type: 'event', event })
  }

  /** Peers as this host sees them, sorted by id (for status pages). */
  peers (): Peer[] {
    return this.members.sorted()
  }

  peerState (hostId: string): PeerState | undefined {
    return this.members.get(hostId)?.state
  }
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
