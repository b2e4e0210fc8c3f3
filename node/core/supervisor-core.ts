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
 * Bounded trust between members (docs/architecture.md, "Bounded trust between members"): a host follows a
 * leader only once it has seen a majority of its electorate back it (granted votes seen on the
 * site topic, members' heartbeats naming it, its own vote), never on one member's say-so; it
 * caps its part of any plan by its own slots, the service's maxReplicas and the services it
 * runs; and it refuses terms and incarnations that jump beyond TRUST_LIMITS.
 *
 * Membership is leader-centric (docs/membership.md): a member that follows a leader sends its
 * heartbeat to the leader alone (topic `leader`); the leader publishes a compact site digest
 * instead of its own heartbeat (every member, its incarnation, how long ago the leader heard
 * it), which members take for failure detection and the electorate. A member that follows no
 * leader broadcasts its heartbeat to the site, and members that follow one answer it with one
 * broadcast heartbeat of their own (at most one per ATTEST_GAP_HEARTBEATS intervals), so it
 * can count the leader's backing itself. A member's message rate does not grow with the site.
 */
import { PROTOCOL_MINOR, PROTOCOL_MINOR_MIN, type Capacity, type Heartbeat, type Message, type Plan, type SignalSample, type SiteDigest, type SiteSummary, type Body } from '../../protocol/index.js'
import type { CoreTimings } from './config.js'
import type { CoreEvent, CoreInput, CoreOutput, MessageDroppedReason, PersistentState, PlanCappedReason, Topic } from './core-io.js'
import { Election, type Role } from './election.js'
import { assert } from './errors.js'
import type { ForecastPort } from './forecast-port.js'
import { LeaderRound } from './leader-round.js'
import { Membership, type Peer, type PeerState, type PeerStateChange } from './membership.js'
import { reconcile, type ObservedContainer } from './reconcile.js'
import { Rng } from './rng.js'
import type { ReplicaRule } from './scaling-policy.js'
import type { ServiceSpec } from './service-spec.js'
import { loadRose } from './signal-rise.js'
import { parseOverflowName } from './spill.js'
import { ownReplicas, siteHeld, siteReady, siteSlots, slotsUsed, type OwnReplicas, type SiteView } from './site-view.js'

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
  /** Load forecasts for services with a `forecast` block (forecast-port.ts); absent: none. */
  forecast?: ForecastPort
}

export type { Role }

/** The plan in force on this host. */
export interface AdoptedPlan {
  plan: Plan
  leaderId: string
  /** Replicas wanted on this host, per service. */
  wanted: Map<string, number>
}

export interface RemoteSite {
  site: string
  leaderId: string
  summary: SiteSummary
  receivedAtMs: number
}

const MAX_AGE_MS = 0xffffffff
const NO_SIGNALS: SignalSample[] = []
/**
 * A follower answers heartbeats broadcast by members that follow no leader with a broadcast
 * heartbeat of its own at most once per this many heartbeat intervals: every member that
 * follows no leader gathers the backing it needs within one such gap, and a host that stays
 * lost costs each member at most one extra broadcast per gap, not one per lost host.
 */
export const ATTEST_GAP_HEARTBEATS = 4
/**
 * A host that follows no leader broadcasts its heartbeat once per heartbeat interval per this
 * many members it knows (itself included, and at least bootstrapExpect), rounded up: in a site where nobody has a leader yet
 * (a site starting, bootstrapExpect not reached) each host then receives about this many
 * heartbeats per interval whatever the site's size, instead of one per member. The first one
 * once the transport can reach the site ('reachable') goes out at once: a host joining a
 * starting site is heard as soon as it is connected, and the paced ones only keep it known. The
 * first one after losing a leader waits a leader timeout (speak): the site elects meanwhile.
 * It was 8: in a 50-host site starting on two busy cores, the leaderless heartbeats were three
 * quarters of all deliveries before the first election.
 */
export const LEADERLESS_BROADCAST_HOSTS = 4

export class SupervisorCore {
  readonly hostId: string
  readonly site: string
  readonly incarnation: number
  private readonly init: CoreInit
  private readonly t: CoreTimings
  private readonly rng: Rng
  private readonly specs: ServiceSpec[]
  readonly members: Membership
  /**
   * Pending outputs: `outputs[outputsHead]` up to `outputsCount`. The array is never emptied,
   * only overwritten: an emptied JS array gets a new backing store at its next push, and a
   * simulated fleet's hosts drain their outputs after every input (refilling these, the event
   * wheel's buckets and the CPU calendars was an eighth of what the 10,000-host fleet's on-prem
   * and cloud sites allocated: docs/simulator.md, Speed at fleet scale).
   */
  private readonly outputs: (CoreOutput | undefined)[] = []
  private outputsHead = 0
  private outputsCount = 0
  private seq = 0
  /** 'vote': term or vote changed, flushed before the next publish; 'members': at the next sweep. */
  private persistPending: 'none' | 'members' | 'vote' = 'none'
  /** Immutable parts of this host's heartbeat, built once. */
  private readonly heartbeatLabels: Map<string, string>
  private readonly heartbeatAddrs: string[]
  private runningCache: { observed: ObservedContainer[], counts: Map<string, number>, list: Heartbeat['running'], own: Map<string, OwnReplicas> } | undefined

  readonly election: Election
  private leader: LeaderRound | undefined

  // this host
  private signals: { sample: SignalSample, sampledAtMs: number }[] = []
  private capacity: Capacity
  private observed: ObservedContainer[] = []
  private runtimeOk = true
  /** Services this host cannot start now (from the runtime), sorted; in heartbeats. */
  private unavailable: string[] = []
  private adopted: AdoptedPlan | undefined
  private nextHeartbeatMs: number
  private lastHeartbeatMs = -Infinity
  /** The signals of the last heartbeat sent, to tell a rise early (signal-rise.ts). */
  private toldSignals: readonly SignalSample[] = []
  private nextSweepMs: number
  private left = false
  /** When this host last took the member list of its leader's digest (membership sweep). */
  private digestTakenAtMs: number | undefined
  /** Members listed in the last site digest heard, proven or not: paces leaderless broadcasts (speak). */
  private digestSizeSeen = 0
  /** Earliest time this host, following no leader, broadcasts its heartbeat again (speak). */
  private nextBroadcastMs = -Infinity
  /** This host followed a leader at its last heartbeat: losing it holds the first broadcast back (speak). */
  private followedAtLastHeartbeat = false
  /** When this host began following the leader it follows (maybeAttest). */
  private followingSinceMs = -Infinity
  /** Earliest time this follower may answer a leaderless member with a broadcast heartbeat (maybeAttest). */
  private nextAttestMs = -Infinity
  /**
   * While leading: members alive when this host won that have not sent it a heartbeat since.
   * Members heard only through the last leader's digest bring no capacity, replicas or samples,
   * so the first plan waits for them (at most suspectAfterMs), failing static meanwhile.
   */
  private awaitingReports: Set<string> | undefined
  /** The `now` of the last handle(), to check that time never runs backwards. */
  private lastNowMs = -Infinity
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
      publish: (body, nowMs, to) => this.publish('site', body, nowMs, to),
      emit: (event) => this.emit(event),
      persist: () => this.persist(),
      becameLeader: (nowMs) => this.startLeading(nowMs),
      steppedDown: () => { this.leader = undefined; this.awaitingReports = undefined },
    }, init.persisted, init.startMs)
  }

  // ---- driving contract ----------------------------------------------------------------

  handle (input: CoreInput, nowMs: number): void {
    // The driver's clock is monotonic; a time before the last one is a bug in the shell.
    assert(nowMs >= this.lastNowMs, 'time never runs backwards into handle()')
    this.lastNowMs = nowMs
    if (this.left) return
    switch (input.type) {
      case 'tick': break
      case 'message': this.onMessage(input.message, nowMs); break
      case 'disconnected': this.onPeerChange(this.members.disconnected(input.hostId, nowMs), nowMs); break
      case 'reachable': this.onReachable(nowMs); break
      case 'samples': this.onSamples(input.signals, input.capacity, nowMs); break
      case 'observed': this.onObserved(input.containers, input.runtimeOk, input.unavailable); break
      case 'leave': this.onLeave(nowMs); return
    }
    this.runDue(nowMs)
    this.flushPersist()
  }

  pollOutput (): CoreOutput | undefined {
    if (this.outputsHead >= this.outputsCount) {
      if (this.outputsCount > 0) this.clearOutputs()
      return undefined
    }
    const out = this.outputs[this.outputsHead]
    this.outputs[this.outputsHead++] = undefined
    return out
  }

  /** Drains every pending output at once. */
  drainOutputs (): CoreOutput[] {
    const out = this.outputs.slice(this.outputsHead, this.outputsCount) as CoreOutput[]
    this.clearOutputs()
    return out
  }

  /** Forgets every pending output, keeping the array (and dropping what it held). */
  private clearOutputs (): void {
    for (let i = this.outputsHead; i < this.outputsCount; i++) this.outputs[i] = undefined
    this.outputsHead = 0
    this.outputsCount = 0
  }

  private addOutput (out: CoreOutput): void {
    if (this.outputsCount < this.outputs.length) this.outputs[this.outputsCount] = out
    else this.outputs.push(out)
    this.outputsCount++
  }

  nextDeadlineMs (): number {
    let d = Math.min(this.nextHeartbeatMs, this.nextSweepMs, this.election.nextDeadlineMs())
    if (this.leader !== undefined) d = Math.min(d, this.leader.nextDeadlineMs())
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
  /** Services this host cannot start now, as its heartbeats say. */
  get unavailableServices (): readonly string[] { return this.unavailable }
  /** The leader's latest decisions and unplaced replicas; undefined on followers. */
  get leaderView (): { scalers: ReadonlyMap<string, ReplicaRule>, unplaced: ReadonlyMap<string, number>, load: ReadonlyMap<string, number> } | undefined {
    return this.leader?.view
  }

  // ---- time-driven work --------------------------------------------------------------------

  private runDue (nowMs: number): void {
    // A sweep that would come before the next heartbeat runs with this one: one wake-up an
    // interval instead of two. An early heartbeat (a rise in load, a new leader) would
    // otherwise leave the two timers apart for good, and every host woke twice an interval (the
    // simulator's fleet ran as many sweep-only ticks as heartbeat ones). A sweep comes earlier
    // for it, never later.
    if (nowMs >= this.nextSweepMs || (nowMs >= this.nextHeartbeatMs && this.nextSweepMs - nowMs < this.t.heartbeatIntervalMs)) {
      this.nextSweepMs = nowMs + this.t.membershipSweepMs
      const leaderLive = this.election.hasLiveLeader(nowMs)
      // Without a leader, members broadcast their heartbeats only every leaderlessPace()
      // intervals: silence is judged on that pace, or every peer would turn suspect and back
      // between two of its heartbeats (a 50-host site starting: 6,500 peer-state events in 13 s).
      const digestAtMs = leaderLive && this.election.role === 'follower' ? this.digestTakenAtMs : undefined
      // Silence is judged net of slow deliveries (the election's delay estimate): on busy hosts
      // a leader's digest a second late made its followers suspect it and start over.
      const sweep = { silenceScale: leaderLive ? 1 : this.leaderlessPace(), digestAtMs, allowanceMs: this.election.delayAllowanceMs() }
      for (const change of this.members.sweep(nowMs, leaderLive, sweep)) this.onPeerChange(change, nowMs)
      this.flushPersist('members')
      if (this.election.role === 'leader') this.election.checkLease(nowMs)
    }
    this.election.runDue(nowMs)
    this.leader?.runDue(nowMs)
    if (nowMs >= this.nextHeartbeatMs) {
      if (this.speak(nowMs)) {
        this.nextHeartbeatMs = nowMs + this.t.heartbeatIntervalMs
        this.lastHeartbeatMs = nowMs
      } else {
        // Paced (a host without a leader): the next heartbeat is due when the pace allows, not
        // an interval after this skipped one. Following a leader again pulls it in (onEvent).
        this.nextHeartbeatMs = this.nextBroadcastMs
      }
    }
  }

  /**
   * Once a heartbeat interval: the leader publishes its digest to the site; a member that
   * follows a leader sends its heartbeat to the leader alone; a member that follows none
   * broadcasts it, so that the site (and a leader it cannot prove yet) hears of it, but in a
   * large site less often (LEADERLESS_BROADCAST_HOSTS). False when the pace held it back.
   */
  private speak (nowMs: number): boolean {
    const e = this.election
    if (e.role === 'leader') {
      this.followedAtLastHeartbeat = false
      this.toldSignals = this.signals.length === 0 ? NO_SIGNALS : this.ownSignals(nowMs)
      this.publish('site', { kind: 'siteDigest', siteDigest: this.buildDigest(nowMs) }, nowMs)
      return true
    }
    if (e.role === 'follower' && e.leaderId !== '') {
      this.followedAtLastHeartbeat = true
      this.sendHeartbeat('leader', nowMs)
      return true
    }
    if (this.followedAtLastHeartbeat) {
      // Just lost its leader: the site gets one leader timeout to elect the next before this
      // host broadcasts. Its members know each other from the last digest, and the election
      // needs no heartbeat. Sent at once, as before, every member's heartbeat crossed the site
      // in the same second as the pre-votes and votes (a third of a 20-host site's deliveries
      // during a failover, on CPU-starved hosts).
      this.followedAtLastHeartbeat = false
      this.nextBroadcastMs = nowMs + this.t.leaderTimeoutMs
    }
    if (nowMs < this.nextBroadcastMs) return false
    this.nextBroadcastMs = nowMs + this.leaderlessPace() * this.t.heartbeatIntervalMs
    this.sendHeartbeat('site', nowMs)
    return true
  }

  /**
   * Heartbeat intervals between two broadcasts of a host without a leader: one per
   * LEADERLESS_BROADCAST_HOSTS members of the site. A starting site is at least bootstrapExpect
   * hosts, and a site whose digest this host has seen is at least that big, before this host
   * has heard of them (pacing only: it trusts nothing).
   */
  private leaderlessPace (): number {
    const siteSize = Math.max(this.members.size + 1, this.init.bootstrapExpect ?? 1, this.digestSizeSeen)
    return Math.max(1, Math.ceil(siteSize / LEADERLESS_BROADCAST_HOSTS))
  }

  /**
   * The transport can reach the site again. Without a leader this host's broadcasts are paced
   * (every 3.5 s in a 50-host site), and the first ones, sent before any connection was up, went
   * nowhere: the site learnt of a starting host only at its next paced heartbeat. It broadcasts
   * now, no sooner than a heartbeat interval after its last one (so a flapping link costs at
   * most the unpaced rate). A leader or follower already sends every interval.
   */
  private onReachable (nowMs: number): void {
    if (this.election.role !== 'follower' || this.election.leaderId !== '') return
    this.nextBroadcastMs = -Infinity
    this.nextHeartbeatMs = Math.min(this.nextHeartbeatMs, Math.max(nowMs, this.lastHeartbeatMs + this.t.heartbeatIntervalMs))
  }

  /** Sends this host's heartbeat, and keeps its signals to tell a later rise (signal-rise.ts). */
  private sendHeartbeat (topic: 'site' | 'leader', nowMs: number): void {
    const heartbeat = this.buildHeartbeat(nowMs)
    this.toldSignals = heartbeat.signals
    this.publish(topic, { kind: 'heartbeat', heartbeat }, nowMs)
  }

  // ---- messages ----------------------------------------------------------------------------

  private onMessage (m: Message, nowMs: number): void {
    if (m.sender === this.hostId) return this.drop(m, 'self')
    if (m.minor < PROTOCOL_MINOR_MIN) return this.drop(m, 'old-minor')
    const b = m.body
    if (b.kind === 'siteSummary') return this.onSiteSummary(m, b.siteSummary, nowMs)
    if (b.kind === 'spillRequest') {
      if (this.leader === undefined || b.spillRequest.toSite !== this.site || m.site === this.site) return this.drop(m, 'not-handled')
      return this.leader.onSpillRequest(m.site, b.spillRequest, nowMs)
    }
    if (b.kind === 'spillOffer') {
      if (this.leader === undefined || b.spillOffer.toSite !== this.site || m.site === this.site) return this.drop(m, 'not-handled')
      return this.leader.onSpillOffer(m.site, b.spillOffer)
    }
    if (m.site !== this.site) return this.drop(m, 'wrong-site')
    this.election.noteDelay(nowMs - m.sentAtMs)
    if (b.kind === 'heartbeat') return this.onHeartbeat(m, b.heartbeat, nowMs)
    if (b.kind === 'leave') return this.onPeerChange(this.members.left(m.sender, m.incarnation, nowMs), nowMs)
    if (b.kind === 'siteDigest') return this.onDigest(m, b.siteDigest, nowMs)
    if (b.kind === 'voteRequest' && this.election.isTermJump(b.voteRequest.term)) return this.drop(m, 'term-jump')
    if (b.kind === 'vote' && this.election.isTermJump(b.vote.term)) return this.drop(m, 'term-jump')
    if (this.members.get(m.sender) !== undefined) {
      this.members.heardFrom(m.sender, m.incarnation, nowMs)
    } else {
      // A plan from a host this one has never heard is not followed anyway (bounded trust).
      if (b.kind === 'plan') return this.drop(m, 'stale')
      // A member not heard yet asks for votes or votes: in a site without a leader heartbeats
      // are paced (speak), and a host's first one is often lost before its connections are up,
      // so voters would otherwise drop the first candidate's requests, and the candidate their
      // votes, for seconds. The message is first-hand, signed and bound to its sender like a
      // heartbeat, so it makes the sender a member as a heartbeat would (without capacity or
      // samples: those come with its heartbeats). A larger electorate never makes a majority easier.
      const change = this.members.firstHeard(m.sender, m.incarnation, m.seq, b.kind === 'voteRequest' ? b.voteRequest.priority : 0, nowMs)
      if (change === 'stale' || change === 'incarnation-jump') return this.drop(m, change)
      this.onPeerChange(change, nowMs)
    }
    switch (b.kind) {
      case 'voteRequest': return this.election.onVoteRequest(m.sender, b.voteRequest.priority, b.voteRequest.term, b.voteRequest.preVote, b.voteRequest.electorate, b.voteRequest.roundMs, nowMs)
      case 'vote': return this.election.onVote(m.sender, b.vote.term, b.vote.candidateId, b.vote.granted, b.vote.preVote, nowMs)
      case 'plan': return this.onPlan(m.sender, b.plan, nowMs)
    }
  }

  private drop (m: Message, reason: MessageDroppedReason): void {
    this.emit({ kind: 'message-dropped', from: m.sender, reason })
  }

  private onHeartbeat (m: Message, hb: Heartbeat, nowMs: number): void {
    const before = this.leader === undefined ? undefined : this.members.get(m.sender)?.signals
    const change = this.members.heartbeat(m.sender, m.incarnation, m.seq, hb, nowMs)
    if (change === 'stale' || change === 'incarnation-jump') return this.drop(m, change)
    if (before !== undefined && loadRose(before, hb.signals)) this.leader?.planSoon(nowMs)
    this.onPeerChange(change, nowMs)
    // Raft's rule: a higher term ends ours (bounded: one member cannot push it out of reach).
    // It makes nobody leader: a host follows only a leader it has seen win (followIfProven).
    if (hb.term > this.election.term && !this.election.isTermJump(hb.term)) this.election.adoptTerm(hb.term, '', nowMs)
    if (hb.leaderId !== '') this.election.followIfProven(hb.term, hb.leaderId, nowMs)
    this.noteReport(m.sender, nowMs)
    this.maybeAttest(hb, nowMs)
  }

  /**
   * A member broadcast a heartbeat that does not name the leader this host follows: it follows
   * none (it just joined, or missed the election's votes), and may not follow the leader on
   * the leader's word (bounded trust). This host's heartbeat, broadcast once, is one member's
   * backing it can count; at most one such broadcast per ATTEST_GAP_HEARTBEATS intervals.
   */
  private maybeAttest (hb: Heartbeat, nowMs: number): void {
    const e = this.election
    if (e.role !== 'follower' || e.leaderId === '' || (hb.term === e.term && hb.leaderId === e.leaderId)) return
    if (nowMs < this.nextAttestMs) return
    // Just after an election, the members of its term that do not follow yet are mostly still
    // taking in its votes (slower hosts, heartbeats sent before they saw the win): answering
    // them would have every follower broadcast at once (a 50-host site moved 6,000 such
    // deliveries in the seconds after its first election). One still without a leader a gap
    // later is behind; one of an older term (a host that restarted) is behind at once.
    if (hb.term === e.term && nowMs < this.followingSinceMs + ATTEST_GAP_HEARTBEATS * this.t.heartbeatIntervalMs + this.election.delayAllowanceMs()) return
    this.nextAttestMs = nowMs + ATTEST_GAP_HEARTBEATS * this.t.heartbeatIntervalMs
    this.publish('site', { kind: 'heartbeat', heartbeat: this.buildHeartbeat(nowMs) }, nowMs)
  }

  /** A member reported to this leader: once every member alive at the win has, the first plan is due. */
  private noteReport (hostId: string, nowMs: number): void {
    const waiting = this.awaitingReports
    if (waiting === undefined || !waiting.delete(hostId) || waiting.size > 0) return
    this.awaitingReports = undefined
    this.leader?.planNow(nowMs)
  }

  /**
   * The leader's digest. Its sender speaks for itself as its heartbeat did (alive, leading its
   * term); what it says of the other members is taken only once this host follows it, that is
   * once a majority of the electorate was seen backing it (election.ts, bounded trust).
   */
  private onDigest (m: Message, d: SiteDigest, nowMs: number): void {
    this.digestSizeSeen = d.members.length
    const change = this.members.digestSender(m.sender, m.incarnation, m.seq, d, nowMs)
    if (change === 'stale' || change === 'incarnation-jump') return this.drop(m, change)
    this.onPeerChange(change, nowMs)
    if (d.term > this.election.term && !this.election.isTermJump(d.term)) this.election.adoptTerm(d.term, '', nowMs)
    if (!this.election.followIfProven(d.term, m.sender, nowMs)) return
    this.election.leaderHeard(nowMs)
    this.digestTakenAtMs = nowMs
    this.members.takeDigest(d.members, m.sender, this.hostId, nowMs, this.onDigestChange)
  }

  /** takeDigest's handler for each change, made once rather than a closure per digest (at the input's time). */
  private readonly onDigestChange = (change: PeerStateChange): void => this.onPeerChange(change, this.lastNowMs)

  private buildDigest (nowMs: number): SiteDigest {
    const members = this.members.digestMembers(nowMs)
    const self = { hostId: this.hostId, incarnation: this.incarnation, ageMs: 0, priority: this.init.priority }
    const at = members.findIndex(p => p.hostId > this.hostId)
    members.splice(at < 0 ? members.length : at, 0, self)
    return { term: this.election.term, planVersion: this.adopted?.plan.version ?? 0, members, leaderAddrs: this.heartbeatAddrs }
  }

  private onPeerChange (change: PeerStateChange | undefined, nowMs: number): void {
    if (change === undefined) return
    this.emit({ kind: 'peer-state', change })
    if (change.from === 'unknown' || change.to === 'reaped') this.persist('members')
    if (change.from === 'unknown') this.election.memberJoined(nowMs)
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
    this.addOutput({ type: 'observe' })
  }

  /**
   * This host's part of a plan, cut to what it may run whoever sent it: only services it is
   * configured for (and other sites' overflow of them), at most the service's maxReplicas each,
   * and at most its own slots in all (services filled in name order, overflow last). A plan
   * asking for more is a bug or a hostile leader; each cut is reported with its reason.
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
    // Another site's overflow (`service@origin`, spill.ts) runs as the service it names, after
    // this host's own services.
    const overflow: Array<{ name: string, spec: ServiceSpec }> = []
    for (const service of [...asked.keys()].sort()) {
      const o = parseOverflowName(service)
      const base = this.specs.find(s => s.name === (o?.service ?? service))
      if (base === undefined || o?.origin === this.site) cap(service, 'unknown-service', asked.get(service)!, 0)
      else if (o !== undefined) overflow.push({ name: service, spec: base })
    }
    let slotsLeft = Math.max(0, this.capacity.slots)
    for (const { name, spec } of [...this.specs.map(spec => ({ name: spec.name, spec })), ...overflow]) {
      const want = asked.get(name) ?? 0
      if (want === 0) continue
      let kept = Math.min(want, spec.maxReplicas)
      if (kept < want) cap(name, 'max-replicas', want, kept)
      const fit = Math.floor(slotsLeft / Math.max(1, spec.slotsPerReplica))
      if (kept > fit) { cap(name, 'slots', want, fit); kept = fit }
      slotsLeft -= kept * spec.slotsPerReplica
      assert(slotsLeft >= 0, 'free slots never below zero')
      if (kept > 0) wanted.set(name, kept)
    }
    return wanted
  }

  /** The election was won: the leader's round starts from the plan in force. */
  private startLeading (nowMs: number): void {
    const alive = this.members.sorted().filter(p => p.state === 'alive').map(p => p.hostId)
    this.awaitingReports = alive.length === 0 ? undefined : new Set(alive)
    this.leader = new LeaderRound({
      hostId: this.hostId,
      labels: this.init.labels,
      specs: this.specs,
      timings: this.t,
      members: this.members,
      term: this.election.term,
      self: (at) => ({ signals: this.ownSignals(at), capacity: this.capacity, runtimeOk: this.runtimeOk, held: this.ownRunningCached().counts, unavailable: this.unavailable }),
      adopted: () => this.adopted?.plan,
      siteView: () => this.siteView(),
      publish: (topic, body, at) => this.publish(topic, body, at),
      emit: (event) => this.emit(event),
      adoptPlan: (plan) => this.adoptPlan(plan, this.hostId),
      forecast: this.init.forecast,
      site: this.site,
      sites: () => this.remoteSites,
    }, nowMs, this.awaitingReports === undefined ? nowMs : nowMs + this.t.suspectAfterMs)
    // Announce at once: followers stop their election timers on this heartbeat.
    this.nextHeartbeatMs = nowMs
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
    if (loadRose(this.toldSignals, signals)) {
      // A member tells its leader early; the leader's own samples go into its rounds directly
      // (its digest does not carry them), so it only plans sooner.
      if (this.leader === undefined) this.nextHeartbeatMs = Math.min(this.nextHeartbeatMs, Math.max(nowMs, this.lastHeartbeatMs + this.t.riseGapMs))
      this.leader?.planSoon(nowMs)
    }
  }

  private ownSignals (nowMs: number): SignalSample[] {
    return this.signals.map(({ sample, sampledAtMs }) => ({ ...sample, ageMs: Math.min(MAX_AGE_MS, nowMs - sampledAtMs) }))
  }

  private onObserved (containers: ObservedContainer[], runtimeOk: boolean, unavailable: readonly string[] = []): void {
    this.observed = containers
    this.runtimeOk = runtimeOk
    this.noteUnavailable(unavailable)
    const plan = this.adopted
    // Only a plan of the current term is executed; between terms, keep what runs.
    if (plan === undefined || plan.plan.term !== this.election.term || !runtimeOk) return
    const actions = reconcile({ hostId: this.hostId, site: this.site, term: plan.plan.term, wanted: plan.wanted, observed: containers })
    for (const action of actions) this.addOutput({ type: 'action', action })
  }

  /** Only services this host is configured for, sorted, once each (at most maxServices, by construction). */
  private noteUnavailable (services: readonly string[]): void {
    const next = this.specs.filter(s => services.includes(s.name)).map(s => s.name)
    if (next.length === this.unavailable.length && next.every((s, i) => s === this.unavailable[i])) return
    this.unavailable = next
  }

  /** This host's replicas per service, recomputed only when the observed list changes (site-view.ts). */
  private ownRunningCached (): { counts: Map<string, number>, list: Heartbeat['running'], own: Map<string, OwnReplicas> } {
    if (this.runningCache === undefined || this.runningCache.observed !== this.observed) {
      const own = ownReplicas(this.observed, this.hostId, this.site)
      const counts = new Map([...own].map(([service, r]) => [service, r.running + r.starting]))
      // `ready` only while some are starting: absent means all of them, as from older peers.
      const list = [...counts].sort().map(([service, replicas]) => {
        const ready = own.get(service)!.running
        return ready === replicas ? { service, replicas } : { service, replicas, ready }
      })
      this.runningCache = { observed: this.observed, counts, list, own }
    }
    return this.runningCache
  }

  /** This host's own replicas per service, running and starting apart (cached per observation). */
  get replicasHere (): ReadonlyMap<string, OwnReplicas> {
    return this.ownRunningCached().own
  }

  /** The site as this host sees it: the one count of replicas and slots (site-view.ts). */
  siteView (): SiteView {
    const own = this.ownRunningCached()
    const held = siteHeld(own.counts, this.members)
    const ready = siteReady(own.own, this.members)
    const total = siteSlots(this.capacity, this.members)
    const used = slotsUsed(held, this.specs)
    const states = this.members.countByState()
    return {
      site: this.site,
      term: this.election.term,
      leaderId: this.election.leaderId,
      hostsAlive: states.alive + 1,
      hostsKnown: this.members.size + 1,
      slotsTotal: total,
      slotsUsed: used,
      slotsFree: Math.max(0, total - used),
      held,
      ready,
      here: own.own,
    }
  }

  /**
   * Receivers keep the heartbeat's parts as they are, so the parts that rarely change are
   * shared between heartbeats rather than rebuilt: nothing downstream mutates a message.
   */
  private buildHeartbeat (nowMs: number): Heartbeat {
    const heartbeat: Heartbeat = {
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
    // Set only when there are some (as a spread of `{}` would, without copying an object each time).
    if (this.unavailable.length !== 0) heartbeat.unavailableServices = this.unavailable
    return heartbeat
  }

  private onLeave (nowMs: number): void {
    this.publish('site', { kind: 'leave' }, nowMs)
    if (this.election.role === 'leader') this.election.stepDown('lost-majority', nowMs)
    this.left = true
  }

  // ---- outputs -----------------------------------------------------------------------------

  private publish (topic: Topic, body: Body, nowMs: number, to?: string): void {
    // What we persist must be durable before anyone can act on a message that depends on it.
    this.flushPersist()
    this.seq++
    const message: Message = { minor: PROTOCOL_MINOR, sender: this.hostId, site: this.site, incarnation: this.incarnation, seq: this.seq, sentAtMs: nowMs, body }
    this.addOutput(to === undefined ? { type: 'publish', topic, message } : { type: 'publish', topic, message, to })
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
    const membersOnly = this.persistPending === 'members'
    this.persistPending = 'none'
    const members = this.members.sorted().map(p => p.hostId)
    const state = { term: this.election.term, votedFor: this.election.votedFor, members }
    this.addOutput(membersOnly ? { type: 'persist', state, membersOnly } : { type: 'persist', state })
  }

  private emit (event: CoreEvent): void {
    // Following a new leader: tell it at once (its first plan waits for members' reports).
    if (event.kind === 'leader-changed') {
      this.nextHeartbeatMs = Math.min(this.nextHeartbeatMs, this.lastNowMs)
      this.followingSinceMs = this.lastNowMs
    }
    this.addOutput({ type: 'event', event })
  }

  /** Peers as this host sees them, sorted by id (for status pages). */
  peers (): Peer[] {
    return [...this.members.sorted()]
  }

  peerState (hostId: string): PeerState | undefined {
    return this.members.get(hostId)?.state
  }
}
