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

export type Role = 'follower' | 'candidate' | 'leader'

interface Candidacy {
  term: number
  preVote: boolean
  grants: Set<string>
  deadlineMs: number
}

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

/** Election stagger: ranks beyond this many wait more than one stagger (see staggerMs). */
const STAGGER_RANKS = 8
/** Backoff after failed candidacies grows to at most this many election rounds (see backoffMs). */
const MAX_BACKOFF_ROUNDS = 8

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

  // election
  private term = 0
  private votedFor = ''
  private leaderId = ''
  private role: Role = 'follower'
  private candidacy: Candidacy | undefined
  private electionAtMs: number | undefined
  private lastLeaderHeardMs = 0
  /**
   * The leader this host just gave up on. Messages it sent before it died can still arrive
   * (relayed by other peers); they must not win the host back for leaderTimeoutMs, or voters
   * would refuse the candidates that replace it.
   */
  private lostLeader: { id: string, term: number, untilMs: number } | undefined
  /**
   * Until when another host is campaigning for a term above ours (its vote request, pre-vote
   * included, was heard): this host does not stand meanwhile. In a large site every vote
   * request and every vote reaches every host, so each extra candidate costs a round of
   * site-wide messages; one candidate at a time keeps an election to a few rounds.
   */
  private othersCampaignUntilMs = -Infinity
  /**
   * The candidate this host backs in the current pre-vote window (itself for a round when it
   * stands, even if its own candidacy waits longer for votes: see roundMs).
   * Pre-votes are exclusive like votes, for electionRoundMs: with many hosts standing at once
   * (their timers expire while each other's requests are still in flight), a voter that granted
   * every pre-vote request would publish a vote per candidate, and at 50 hosts those site-wide
   * votes saturated the hosts that had to check them, delaying the next requests further.
   */
  private preVoteBacked: { candidateId: string, term: number, untilMs: number } | undefined
  /** Candidacies in a row that ended without a leader: the next one waits longer (backoffMs). */
  private failedCandidacies = 0
  /**
   * Who backs whom: for `term/candidate`, the members seen granting it their vote (and the
   * candidate itself, from its vote request). Evidence that a leader won (leaderBackers);
   * at most TRUST_LIMITS.votesSeenMax pairs, terms below ours forgotten.
   */
  private readonly votesSeen = new Map<string, { term: number, candidateId: string, voters: Set<string> }>()
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
    if (init.persisted !== undefined) {
      this.term = init.persisted.term
      this.votedFor = init.persisted.votedFor
      this.members.restore(init.persisted.members.filter(id => id !== init.hostId), init.startMs)
    }
    this.nextHeartbeatMs = init.startMs
    this.nextSweepMs = init.startMs + this.t.membershipSweepMs
    // Listen for a sitting leader before standing: a joining host must not depose one.
    this.electionAtMs = init.startMs + this.t.leaderTimeoutMs + this.staggerMs()
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
    let d = Math.min(this.nextHeartbeatMs, this.nextSweepMs)
    if (this.electionAtMs !== undefined) d = Math.min(d, this.electionAtMs)
    if (this.candidacy !== undefined) d = Math.min(d, this.candidacy.deadlineMs)
    if (this.leader !== undefined) d = Math.min(d, this.leader.nextPlanMs, this.leader.nextSummaryMs)
    if (this.role === 'follower' && this.leaderId !== '') d = Math.min(d, this.lastLeaderHeardMs + this.t.leaderTimeoutMs)
    return d
  }

  // ---- read-only views for status --------------------------------------------------------

  get currentTerm (): number { return this.term }
  get currentLeaderId (): string { return this.leaderId }
  get currentRole (): Role { return this.role }
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
      for (const change of this.members.sweep(nowMs, this.hasLiveLeader(nowMs))) this.onPeerChange(change, nowMs)
      this.flushPersist('members')
      if (this.role === 'leader') this.checkLease(nowMs)
    }
    if (this.role === 'follower') this.checkLeader(nowMs)
    if (this.candidacy !== undefined && nowMs >= this.candidacy.deadlineMs) this.giveUpCandidacy(nowMs)
    if (this.role === 'follower' && this.electionAtMs !== undefined && nowMs >= this.electionAtMs) {
      this.electionAtMs = undefined
      this.stand(nowMs)
    }
    if (this.leader !== undefined) {
      if (nowMs >= this.leader.nextPlanMs) this.planRound(nowMs)
      if (nowMs >= this.leader.nextSummaryMs) this.publishSummary(nowMs)
    }
    if (nowMs >= this.nextHeartbeatMs) {
      this.nextHeartbeatMs = nowMs + this.t.heartbeatIntervalMs
      this.publish('site', { kind: 'heartbeat', heartbeat: this.buildHeartbeat(nowMs) }, nowMs)
    }
  }

  private checkLeader (nowMs: number): void {
    if (this.leaderId === '') return
    const peer = this.members.get(this.leaderId)
    const silent = nowMs - this.lastLeaderHeardMs >= this.t.leaderTimeoutMs
    if (peer === undefined || peer.state !== 'alive' || silent) this.loseLeader(nowMs)
  }

  private loseLeader (nowMs: number): void {
    this.lostLeader = { id: this.leaderId, term: this.term, untilMs: nowMs + this.t.leaderTimeoutMs }
    this.leaderId = ''
    this.electionAtMs = nowMs + this.staggerMs()
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
    if (b.kind === 'voteRequest' && this.isTermJump(b.voteRequest.term)) return this.drop(m, 'term-jump')
    if (b.kind === 'vote' && this.isTermJump(b.vote.term)) return this.drop(m, 'term-jump')
    switch (b.kind) {
      case 'voteRequest': return this.onVoteRequest(m.sender, b.voteRequest.term, b.voteRequest.preVote, b.voteRequest.electorate, nowMs)
      case 'vote': return this.onVote(m.sender, b.vote.term, b.vote.candidateId, b.vote.granted, b.vote.preVote, nowMs)
      case 'plan': return this.onPlan(m.sender, b.plan, nowMs)
    }
  }

  private drop (m: Message, reason: MessageDroppedReason): void {
    this.emit({ kind: 'message-dropped', from: m.sender, reason })
  }

  /** A term this far above ours cannot come from one honest member's message (TRUST_LIMITS). */
  private isTermJump (term: number): boolean {
    return term - this.term > TRUST_LIMITS.termJumpMax
  }

  private onHeartbeat (m: Message, hb: Heartbeat, nowMs: number): void {
    const change = this.members.heartbeat(m.sender, m.incarnation, m.seq, hb, nowMs)
    if (change === 'stale' || change === 'incarnation-jump') return this.drop(m, change)
    this.onPeerChange(change, nowMs)
    // Raft's rule: a higher term ends ours (bounded: one member cannot push it out of reach).
    // It makes nobody leader: a host follows only a leader it has seen win (followIfProven).
    if (hb.term > this.term && !this.isTermJump(hb.term)) this.adoptTerm(hb.term, '', nowMs)
    if (hb.leaderId !== '') this.followIfProven(hb.term, hb.leaderId, nowMs)
  }

  /**
   * Members backing `leaderId` as leader of `term`: granted votes seen for it, members whose
   * latest heartbeat names it, the leader itself once it claims (vote request, heartbeat,
   * plan), and this host if it voted for it. Each member counts once, whatever it sent.
   */
  private leaderBackers (term: number, leaderId: string): number {
    const backers = new Set<string>(this.votesSeen.get(`${term}/${leaderId}`)?.voters)
    const leader = this.members.get(leaderId)
    if (leader !== undefined && leader.term === term && leader.leaderId === leaderId) backers.add(leaderId)
    if (this.term === term && this.votedFor === leaderId) backers.add(this.hostId)
    for (const peer of this.members.values()) {
      if (peer.term === term && peer.leaderId === leaderId) backers.add(peer.hostId)
    }
    return backers.size
  }

  /**
   * Follows `leaderId` in `term` once a strict majority of this host's electorate backs it.
   * One member's claim (a heartbeat or plan of its own with a higher term) is not enough: a
   * holder of the swarm key could otherwise lead the site without an election. A term above
   * ours that a majority proves is adopted whatever its jump (a host back after many terms).
   */
  private followIfProven (term: number, leaderId: string, nowMs: number): boolean {
    if (term < this.term || leaderId === this.hostId) return false
    const leader = this.members.get(leaderId)
    if (term === this.term && leaderId === this.leaderId) {
      // Already following: its own messages (heartbeats, plans) say when it was last heard.
      if (leader !== undefined) this.lastLeaderHeardMs = Math.max(this.lastLeaderHeardMs, leader.lastHeardMs)
      return true
    }
    if (leader?.state !== 'alive') return false
    if (this.leaderBackers(term, leaderId) * 2 <= this.electorate()) return false
    if (term > this.term) this.adoptTerm(term, leaderId, nowMs)
    else this.followIfFree(leaderId, nowMs)
    return this.term === term && this.leaderId === leaderId
  }

  /** Remembers a granted vote (or a candidate's own request) as backing for a candidate. */
  private noteBacking (term: number, candidateId: string, voterId: string): void {
    if (term < this.term || this.isTermJump(term)) return
    const key = `${term}/${candidateId}`
    let entry = this.votesSeen.get(key)
    if (entry === undefined) {
      if (this.votesSeen.size >= TRUST_LIMITS.votesSeenMax) this.forgetLowestBacking()
      entry = { term, candidateId, voters: new Set() }
      this.votesSeen.set(key, entry)
    }
    entry.voters.add(voterId)
  }

  private forgetLowestBacking (): void {
    let lowest: { key: string, term: number, candidateId: string } | undefined
    for (const [key, e] of this.votesSeen) {
      if (lowest === undefined || e.term < lowest.term || (e.term === lowest.term && e.candidateId < lowest.candidateId)) lowest = { key, term: e.term, candidateId: e.candidateId }
    }
    if (lowest !== undefined) this.votesSeen.delete(lowest.key)
  }

  private onPeerChange (change: PeerStateChange | undefined, nowMs: number): void {
    if (change === undefined) return
    this.emit({ kind: 'peer-state', change })
    if (change.from === 'unknown' || change.to === 'reaped') this.persist('members')
    if (change.hostId === this.leaderId && change.to !== 'alive' && this.role === 'follower') this.loseLeader(nowMs)
  }

  /** A leader of our own term speaks: follow it unless we already follow or are another. */
  private followIfFree (leaderId: string, nowMs: number): void {
    if (this.role === 'leader') {
      // Two leaders in one term cannot come from our own votes; break the tie on id so the
      // mesh converges, and let the observer in the simulator flag it.
      if (leaderId < this.hostId) return
      this.stepDown('higher-term', nowMs)
    }
    if (this.leaderId !== leaderId && this.leaderId !== '') return
    const lost = this.lostLeader
    if (lost !== undefined && lost.id === leaderId && lost.term === this.term && nowMs < lost.untilMs) return
    if (this.leaderId === '') this.emit({ kind: 'leader-changed', term: this.term, leaderId })
    this.leaderId = leaderId
    this.role = 'follower'
    this.candidacy = undefined
    this.electionAtMs = undefined
    this.failedCandidacies = 0
    // Proof can come from other members' reports: the leader was last heard when it was.
    this.lastLeaderHeardMs = Math.min(nowMs, this.members.get(leaderId)?.lastHeardMs ?? nowMs)
  }

  /** Terms only grow. A higher term ends any leadership or candidacy of ours. */
  private adoptTerm (term: number, leaderId: string, nowMs: number): void {
    assert(term > this.term, 'terms only grow')
    if (this.role === 'leader') this.stepDown('higher-term', nowMs)
    this.term = term
    for (const [key, e] of this.votesSeen) if (e.term < term) this.votesSeen.delete(key)
    this.votedFor = ''
    this.persist()
    this.role = 'follower'
    this.candidacy = undefined
    this.leaderId = ''
    if (leaderId !== '') {
      this.followIfFree(leaderId, nowMs)
    } else {
      this.electionAtMs = nowMs + this.t.leaderTimeoutMs + this.staggerMs()
    }
  }

  // ---- election ----------------------------------------------------------------------------

  /** Members that count towards a majority: every member not reaped, and this host. */
  private electorate (): number {
    return this.members.size + 1
  }

  private hasLiveLeader (nowMs: number): boolean {
    if (this.role === 'leader') return true
    if (this.leaderId === '') return false
    const peer = this.members.get(this.leaderId)
    return peer !== undefined && peer.state === 'alive' && nowMs - this.lastLeaderHeardMs < this.t.leaderTimeoutMs
  }

  /** Delay before standing: priority rank spreads hosts out, seeded jitter breaks ties. */
  private staggerMs (): number {
    let rank = 0
    let others = 0
    for (const peer of this.members.values()) {
      if (peer.state !== 'alive') continue
      others++
      if (peer.priority > this.init.priority || (peer.priority === this.init.priority && peer.hostId < this.hostId)) rank++
    }
    // Ranks are spread over the stagger in steps of at least 1/STAGGER_RANKS of it: in a large
    // site the hosts behind the first few wait longer, so the first one's request reaches them first.
    const spread = others === 0 ? 0 : Math.floor(this.t.electionStaggerMs * rank / Math.min(others, STAGGER_RANKS))
    return spread + this.rng.int(Math.floor(this.t.electionStaggerMs / 4) + 1)
  }

  private stand (nowMs: number): void {
    if (this.hasLiveLeader(nowMs)) return
    if (nowMs < this.othersCampaignUntilMs) {
      this.electionAtMs = this.othersCampaignUntilMs + this.staggerMs()
      return
    }
    if (this.term === 0 && this.electorate() < (this.init.bootstrapExpect ?? 1)) {
      this.electionAtMs = nowMs + this.t.leaderTimeoutMs + this.staggerMs()
      return
    }
    this.campaign(true, this.term + 1, nowMs)
  }

  private campaign (preVote: boolean, term: number, nowMs: number): void {
    if (!preVote) {
      this.term = term
      this.votedFor = this.hostId
      this.persist()
    }
    this.role = 'candidate'
    this.candidacy = { term, preVote, grants: new Set([this.hostId]), deadlineMs: nowMs + this.roundMs() }
    if (preVote) this.preVoteBacked = { candidateId: this.hostId, term, untilMs: nowMs + this.t.electionRoundMs }
    this.emit({ kind: 'election-started', term, preVote })
    this.publish('site', { kind: 'voteRequest', voteRequest: { term, priority: this.init.priority, electorate: this.electorate(), preVote } }, nowMs)
    this.countVotes(nowMs)
  }

  private giveUpCandidacy (nowMs: number): void {
    this.candidacy = undefined
    this.role = 'follower'
    this.failedCandidacies++
    this.electionAtMs = nowMs + this.staggerMs() + this.backoffMs()
  }

  /**
   * Raft's randomised retry, widened after each failed candidacy: a uniform wait of up to
   * electionRoundMs × 2^(failures − 1), capped at MAX_BACKOFF_ROUNDS rounds. Two hosts that
   * split a site's votes are unlikely to collide again, and a site whose hosts are too busy to
   * answer in a round stops adding candidates while it catches up.
   */
  private backoffMs (): number {
    const rounds = Math.min(2 ** (this.failedCandidacies - 1), MAX_BACKOFF_ROUNDS)
    return this.rng.int(Math.floor(this.t.electionRoundMs * rounds) + 1)
  }

  /**
   * How long a candidacy waits for votes: electionRoundMs, doubled after each failed candidacy
   * up to MAX_BACKOFF_ROUNDS times. When votes take longer than a round to come back (hosts
   * too busy, a slow link), fixed rounds would all end before their votes arrive.
   */
  private roundMs (): number {
    return this.t.electionRoundMs * Math.min(2 ** this.failedCandidacies, MAX_BACKOFF_ROUNDS)
  }

  private onVoteRequest (candidateId: string, term: number, preVote: boolean, electorate: number, nowMs: number): void {
    if (term > this.term && candidateId !== this.hostId) this.othersCampaignUntilMs = Math.max(this.othersCampaignUntilMs, nowMs + this.t.electionRoundMs)
    if (!preVote) this.noteBacking(term, candidateId, candidateId)
    const granted = this.mayVote(candidateId, term, preVote, electorate, nowMs)
    if (granted && preVote) this.preVoteBacked = { candidateId, term, untilMs: nowMs + this.t.electionRoundMs }
    if (granted && !preVote) {
      if (term > this.term) this.adoptTerm(term, '', nowMs)
      this.votedFor = candidateId
      this.persist()
      // Give the candidate its round before standing ourselves.
      this.electionAtMs = nowMs + this.t.electionRoundMs + this.staggerMs()
    }
    // Votes go to the whole site topic. A refusal only matters to a candidate behind our term
    // (it adopts the term and stops); any other refusal would be a site-wide message for
    // nothing, and in a large site those are most of an election's traffic. The candidate ends
    // its round at its deadline instead.
    const candidateTerm = preVote ? term - 1 : term
    if (!granted && this.term <= candidateTerm) return
    const vote = { term: granted ? term : this.term, candidateId, granted, preVote }
    this.publish('site', { kind: 'vote', vote }, nowMs)
  }

  /**
   * A voter refuses while it has heard its leader within this window. It is shorter than
   * leaderTimeoutMs by half a heartbeat so that, when a leader dies silently, the first
   * candidate is not refused by voters whose own timers are only milliseconds behind.
   */
  private voteStickinessMs (): number {
    return this.t.leaderTimeoutMs - Math.floor(this.t.heartbeatIntervalMs / 2)
  }

  /**
   * Besides Raft's rules, a voter refuses a candidate that counts fewer members than it does:
   * such a candidate has not heard of some hosts yet, and a majority of its smaller view
   * might not overlap the majority another candidate gathers in the same term.
   */
  private mayVote (candidateId: string, term: number, preVote: boolean, electorate: number, nowMs: number): boolean {
    if (this.role === 'leader') return false
    if (electorate < this.electorate()) return false
    if (this.leaderId !== '' && this.members.get(this.leaderId)?.state === 'alive' &&
      nowMs - this.lastLeaderHeardMs < this.voteStickinessMs()) return false
    if (preVote) return term > this.term && !this.backsAnother(candidateId, term, nowMs)
    if (term > this.term) return true
    return term === this.term && (this.votedFor === '' || this.votedFor === candidateId)
  }

  /** Whether this host backs another candidate for this term or a later one (preVoteBacked). */
  private backsAnother (candidateId: string, term: number, nowMs: number): boolean {
    const b = this.preVoteBacked
    return b !== undefined && nowMs < b.untilMs && b.candidateId !== candidateId && b.term >= term
  }

  private onVote (voterId: string, term: number, candidateId: string, granted: boolean, preVote: boolean, nowMs: number): void {
    if (candidateId !== this.hostId) {
      if (!granted || preVote) return
      this.noteBacking(term, candidateId, voterId)
      this.followIfProven(term, candidateId, nowMs)
      return
    }
    if (!granted) {
      if (term > this.term) this.adoptTerm(term, '', nowMs)
      return
    }
    const c = this.candidacy
    if (c === undefined || c.preVote !== preVote || c.term !== term) return
    c.grants.add(voterId)
    this.countVotes(nowMs)
  }

  private countVotes (nowMs: number): void {
    const c = this.candidacy
    if (c === undefined || c.grants.size * 2 <= this.electorate()) return
    if (c.preVote) return this.campaign(false, c.term, nowMs)
    this.becomeLeader(c.grants.size, nowMs)
  }

  private becomeLeader (votes: number, nowMs: number): void {
    this.role = 'leader'
    this.leaderId = this.hostId
    this.candidacy = undefined
    this.electionAtMs = undefined
    this.failedCandidacies = 0
    this.emit({ kind: 'leader-elected', term: this.term, leaderId: this.hostId, votes, electorate: this.electorate() })
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

  private checkLease (nowMs: number): void {
    const leader = this.leader!
    if (nowMs - leader.sinceMs < this.t.leaderLeaseMs) return
    const following = this.members.countFollowersWithin(nowMs, this.t.leaderLeaseMs, this.term, this.hostId) + 1
    if (following * 2 <= this.electorate()) this.stepDown('lost-majority', nowMs)
  }

  private stepDown (reason: 'lost-majority' | 'higher-term', nowMs: number): void {
    this.emit({ kind: 'stepped-down', term: this.term, reason })
    this.role = 'follower'
    this.leader = undefined
    this.leaderId = ''
    this.electionAtMs = nowMs + this.t.leaderTimeoutMs + this.staggerMs()
  }

  // ---- plans -------------------------------------------------------------------------------

  private onPlan (senderId: string, plan: Plan, nowMs: number): void {
    const ignore = (reason: 'stale-term' | 'not-leader' | 'unproven-leader' | 'term-jump'): void => {
      this.emit({ kind: 'plan-ignored', term: plan.term, version: plan.version, reason })
    }
    if (plan.term < this.term) return ignore('stale-term')
    if (!this.followIfProven(plan.term, senderId, nowMs)) {
      if (plan.term === this.term && this.leaderId !== '' && this.leaderId !== senderId) return ignore('not-leader')
      return ignore(this.isTermJump(plan.term) ? 'term-jump' : 'unproven-leader')
    }
    this.lastLeaderHeardMs = nowMs
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
    const stale = this.adopted === undefined || this.adopted.plan.term !== this.term
    if (!changed && !stale && nowMs - leader.lastPublishedMs < this.t.planRepublishMs) return
    const version = changed || stale ? (this.adopted?.plan.version ?? 0) + 1 : this.adopted!.plan.version
    const plan = this.buildPlan(version, result.assignments, decisions)
    leader.lastPublishedMs = nowMs
    this.publish('site', { kind: 'plan', plan }, nowMs)
    if (version !== this.adopted?.plan.version || stale) {
      this.emit({ kind: 'plan-published', term: this.term, version })
      this.adoptPlan(plan, this.hostId)
    }
  }

  private buildPlan (version: number, assignments: Assignments, decisions: Plan['decisions']): Plan {
    const services = this.specs.map(s => s.name)
    const hosts = [...assignments.keys()].sort().map(hostId => {
      const counts = assignments.get(hostId)!
      return { hostId, replicas: services.map(s => counts.get(s) ?? 0) }
    })
    return { term: this.term, version, services, hosts, decisions }
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
    const summary: SiteSummary = { term: this.term, hostsAlive: states.alive + 1, slotsTotal, slotsFree: Math.max(0, slotsTotal - used), services }
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
    if (plan === undefined || plan.plan.term !== this.term || !runtimeOk) return
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
      term: this.term,
      leaderId: this.leaderId,
      planVersion: this.adopted?.plan.version ?? 0,
      runtimeOk: this.runtimeOk,
    }
  }

  private onLeave (nowMs: number): void {
    this.publish('site', { kind: 'leave' }, nowMs)
    if (this.role === 'leader') this.stepDown('lost-majority', nowMs)
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
    this.outputs.push({ type: 'persist', state: { term: this.term, votedFor: this.votedFor, members } })
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
