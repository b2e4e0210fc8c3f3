/**
 * Site leader election, as a part of the core (no I/O): Raft's election without the log.
 *
 * A host votes at most once per term; a candidate needs a strict majority of its electorate
 * (every site member not yet reaped, itself included); a pre-vote round comes first, so a host
 * that was cut off cannot inflate terms; a host that hears from a live leader refuses to vote
 * (leader stickiness); a leader that is not followed by a majority within leaderLeaseMs steps
 * down. Pre-votes are exclusive like votes; failed candidacies back off (backoffMs, roundMs).
 *
 * Bounded trust (docs/architecture.md, "Bounded trust between members"): a host follows a leader only once a
 * majority of its electorate backs it (granted votes seen on the site topic, members'
 * heartbeats naming it, its own vote), never on one member's say-so, and refuses terms that
 * jump beyond TRUST_LIMITS.termJumpMax from one message.
 *
 * The dispatcher (supervisor-core.ts) feeds it messages and ticks and owns everything else;
 * the election tells it when this host starts and stops leading (becameLeader, steppedDown).
 */
import type { Body } from '../../protocol/index.js'
import { TRUST_LIMITS, type CoreTimings } from './config.js'
import type { CoreEvent, PersistentState } from './core-io.js'
import { assert } from './errors.js'
import type { Membership } from './membership.js'
import type { Rng } from './rng.js'

export type Role = 'follower' | 'candidate' | 'leader'

/** What the election needs from the core around it. */
export interface ElectionComponents {
  hostId: string
  priority: number
  /** Before the site's first leader, stand only once this many members are known (Consul's bootstrap_expect). */
  bootstrapExpect: number
  timings: CoreTimings
  /** The site's members: the electorate, and who backs whom. */
  members: Membership
  rng: Rng
  /** Publishes on the site topic; `to`: only that host needs it (CoreOutput publish). */
  publish: (body: Body, nowMs: number, to?: string) => void
  emit: (event: CoreEvent) => void
  /** Term or vote changed: durable before the next publish (see supervisor-core.ts). */
  persist: () => void
  /** This host won: the leader's round starts. */
  becameLeader: (nowMs: number) => void
  /** This host stopped leading. */
  steppedDown: () => void
}

interface Candidacy {
  term: number
  preVote: boolean
  grants: Set<string>
  deadlineMs: number
}

/** Backoff after failed candidacies grows to at most this many election rounds (see backoffMs). */
const MAX_BACKOFF_ROUNDS = 8
/**
 * The delay estimate (noteDelay) moves this fraction of the way towards a sample below it: it
 * rises fast (half the way) and decays slowly, so one burst of late deliveries keeps the
 * timeouts long for a few dozen messages, not one.
 */
const DELAY_DECAY = 1 / 16
/** The election's timeouts grow by this many times the delay estimate (see delayAllowanceMs). */
const DELAY_ALLOWANCE_FACTOR = 2

/** Whether host a ranks before host b to stand for election: higher priority, then lower host id. */
export function ranksBefore (aPriority: number, aId: string, bPriority: number, bId: string): boolean {
  return aPriority > bPriority || (aPriority === bPriority && aId < bId)
}

export class Election {
  /** Raft's term and vote, the leader followed (or this host), this host's role: read through the getters. */
  private readonly s: { term: number, votedFor: string, leaderId: string, role: Role } = { term: 0, votedFor: '', leaderId: '', role: 'follower' }
  private candidacy: Candidacy | undefined
  private electionAtMs: number | undefined
  private lastLeaderHeardMs = 0
  private leaderSinceMs = 0
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
   * The highest term those campaigns are for. Once this host has reached it (it followed that
   * term's leader, or voted in it), they are decided and hold nothing back: a host restarting
   * hears the last election's requests again (gossip repair of recent messages) and, with its
   * delay estimate raised by such old messages, would otherwise wait out rounds of up to
   * MAX_BACKOFF_ROUNDS (12 s seen) if its new leader died meanwhile.
   */
  private othersCampaignTerm = 0
  /**
   * The candidate this host backs in the current pre-vote window (itself for a round when it
   * stands, even if its own candidacy waits longer for votes: see roundMs).
   * Pre-votes are exclusive like votes, for electionRoundMs: with many hosts standing at once
   * (their timers expire while each other's requests are still in flight), a voter that granted
   * every pre-vote request would publish a vote per candidate, and at 50 hosts those site-wide
   * votes saturated the hosts that had to check them, delaying the next requests further.
   */
  private preVoteBacked: { candidateId: string, priority: number, term: number, untilMs: number } | undefined
  /** The pre-votes of this host's last pre-vote round after it ended (preVoteLate). */
  private latePreVotes: { term: number, grants: Set<string> } | undefined
  /** When this host first knew bootstrapExpect members, before the site's first term (stand). */
  private bootstrapReadyAtMs: number | undefined
  /** Until then this host listens for a sitting leader and does not stand (constructor). */
  private readonly listenUntilMs: number
  /** Candidacies in a row that ended without a leader: the next one waits longer (backoffMs). */
  private failedCandidacies = 0
  /**
   * Who backs whom: for `term/candidate`, the members seen granting it their vote (and the
   * candidate itself, from its vote request). Evidence that a leader won (leaderBackers);
   * at most TRUST_LIMITS.votesSeenMax pairs, terms below ours forgotten.
   */
  private readonly votesSeen = new Map<string, { term: number, candidateId: string, voters: Set<string> }>()
  /**
   * How late this site's messages reach this host, smoothed (noteDelay): from the sender's
   * sentAtMs to their handling here, so it includes time spent queued behind a busy event loop.
   */
  private delayMs = 0

  /** `members` must already hold what was persisted: the first stagger ranks among them. */
  constructor (private readonly c: ElectionComponents, persisted: PersistentState | undefined, startMs: number) {
    if (persisted !== undefined) {
      this.s.term = persisted.term
      this.s.votedFor = persisted.votedFor
    }
    // Listen for a sitting leader before standing: a joining host must not depose one.
    this.listenUntilMs = startMs + this.c.timings.leaderTimeoutMs
    this.electionAtMs = this.listenUntilMs + this.staggerMs()
  }

  get term (): number { return this.s.term }
  get votedFor (): string { return this.s.votedFor }
  get leaderId (): string { return this.s.leaderId }
  get role (): Role { return this.s.role }

  /** The earliest time the election has something to do. */
  nextDeadlineMs (): number {
    let d = Infinity
    if (this.electionAtMs !== undefined) d = Math.min(d, this.electionAtMs)
    if (this.candidacy !== undefined) d = Math.min(d, this.candidacy.deadlineMs)
    if (this.s.role === 'follower' && this.s.leaderId !== '') d = Math.min(d, this.lastLeaderHeardMs + this.leaderTimeoutMs())
    return d
  }

  /**
   * One message of this site was handled `sampleMs` after its sender sent it (its sentAtMs).
   * Election timeouts stretch with this estimate, as TCP's retransmission timeout follows the
   * round-trip time: the timings are sized for a LAN's milliseconds, and when hosts answer a
   * second late (50 daemons starting on two busy cores), fixed ones made every host stand before
   * it heard the first candidate, candidates give up on votes still in flight, and followers
   * drop a leader whose digest was merely late. Only liveness depends on timeouts: safety
   * (one vote per term, majorities, terms) never does, so a wrong estimate (clock skew between
   * hosts) costs speed, not correctness. Capped at MAX_BACKOFF_ROUNDS election rounds.
   */
  noteDelay (sampleMs: number): void {
    const cap = this.c.timings.electionRoundMs * MAX_BACKOFF_ROUNDS
    const s = Math.min(Math.max(0, sampleMs), cap)
    this.delayMs += (s - this.delayMs) * (s > this.delayMs ? 0.5 : DELAY_DECAY)
  }

  /** What every election timeout adds for slow deliveries: DELAY_ALLOWANCE_FACTOR × the estimate, ms. */
  delayAllowanceMs (): number {
    return Math.floor(DELAY_ALLOWANCE_FACTOR * this.delayMs)
  }

  /** A follower gives up on a leader silent this long: leaderTimeoutMs, plus slow deliveries. */
  private leaderTimeoutMs (): number {
    return this.c.timings.leaderTimeoutMs + this.delayAllowanceMs()
  }

  /** The leader this host follows just spoke (a plan). */
  leaderHeard (nowMs: number): void {
    this.lastLeaderHeardMs = nowMs
  }

  /** Time-driven work, in this order: a silent leader, a candidacy out of time, standing. */
  runDue (nowMs: number): void {
    if (this.s.role === 'follower') this.checkLeader(nowMs)
    if (this.candidacy !== undefined && nowMs >= this.candidacy.deadlineMs) this.giveUpCandidacy(nowMs)
    if (this.s.role === 'follower' && this.electionAtMs !== undefined && nowMs >= this.electionAtMs) {
      this.electionAtMs = undefined
      this.stand(nowMs)
    }
  }

  checkLeader (nowMs: number): void {
    if (this.s.leaderId === '') return
    const peer = this.c.members.get(this.s.leaderId)
    const silent = nowMs - this.lastLeaderHeardMs >= this.leaderTimeoutMs()
    if (peer === undefined || peer.state !== 'alive' || silent) this.loseLeader(nowMs)
  }

  loseLeader (nowMs: number): void {
    this.lostLeader = { id: this.s.leaderId, term: this.s.term, untilMs: nowMs + this.leaderTimeoutMs() }
    this.s.leaderId = ''
    this.electionAtMs = nowMs + this.staggerMs()
  }

  /** A term this far above ours cannot come from one honest member's message (TRUST_LIMITS). */
  isTermJump (term: number): boolean {
    return term - this.s.term > TRUST_LIMITS.termJumpMax
  }

  /**
   * Members backing `leaderId` as leader of `term`: granted votes seen for it, members whose
   * latest heartbeat names it, the leader itself once it claims (vote request, heartbeat,
   * plan), and this host if it voted for it. Each member counts once, whatever it sent.
   */
  private leaderBackers (term: number, leaderId: string): number {
    const backers = new Set<string>(this.votesSeen.get(`${term}/${leaderId}`)?.voters)
    const leader = this.c.members.get(leaderId)
    if (leader !== undefined && leader.term === term && leader.leaderId === leaderId) backers.add(leaderId)
    if (this.s.term === term && this.s.votedFor === leaderId) backers.add(this.c.hostId)
    for (const peer of this.c.members.values()) {
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
  followIfProven (term: number, leaderId: string, nowMs: number): boolean {
    if (term < this.s.term || leaderId === this.c.hostId) return false
    const leader = this.c.members.get(leaderId)
    if (term === this.s.term && leaderId === this.s.leaderId) {
      // Already following: its own messages (heartbeats, plans) say when it was last heard.
      if (leader !== undefined) this.lastLeaderHeardMs = Math.max(this.lastLeaderHeardMs, leader.lastHeardMs)
      return true
    }
    if (leader?.state !== 'alive') return false
    if (this.leaderBackers(term, leaderId) * 2 <= this.electorate()) return false
    if (term > this.s.term) this.adoptTerm(term, leaderId, nowMs)
    else this.followIfFree(leaderId, nowMs)
    return this.s.term === term && this.s.leaderId === leaderId
  }

  /** Remembers a granted vote (or a candidate's own request) as backing for a candidate. */
  private noteBacking (term: number, candidateId: string, voterId: string): void {
    if (term < this.s.term || this.isTermJump(term)) return
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

  /** A leader of our own term speaks: follow it unless we already follow or are another. */
  private followIfFree (leaderId: string, nowMs: number): void {
    if (this.s.role === 'leader') {
      // Two leaders in one term cannot come from our own votes; break the tie on id so the
      // mesh converges, and let the observer in the simulator flag it.
      if (leaderId < this.c.hostId) return
      this.stepDown('higher-term', nowMs)
    }
    if (this.s.leaderId !== leaderId && this.s.leaderId !== '') return
    const lost = this.lostLeader
    if (lost !== undefined && lost.id === leaderId && lost.term === this.s.term && nowMs < lost.untilMs) return
    if (this.s.leaderId === '') this.c.emit({ kind: 'leader-changed', term: this.s.term, leaderId })
    this.s.leaderId = leaderId
    this.s.role = 'follower'
    this.candidacy = undefined
    this.electionAtMs = undefined
    this.failedCandidacies = 0
    // Proof can come from other members' reports: the leader was last heard when it was.
    this.lastLeaderHeardMs = Math.min(nowMs, this.c.members.get(leaderId)?.lastHeardMs ?? nowMs)
  }

  /** Terms only grow. A higher term ends any leadership or candidacy of ours. */
  adoptTerm (term: number, leaderId: string, nowMs: number): void {
    assert(term > this.s.term, 'terms only grow')
    if (this.s.role === 'leader') this.stepDown('higher-term', nowMs)
    this.s.term = term
    for (const [key, e] of this.votesSeen) if (e.term < term) this.votesSeen.delete(key)
    this.s.votedFor = ''
    this.c.persist()
    this.s.role = 'follower'
    this.candidacy = undefined
    this.s.leaderId = ''
    if (leaderId !== '') {
      this.followIfFree(leaderId, nowMs)
    } else {
      this.electionAtMs = nowMs + this.c.timings.leaderTimeoutMs + this.staggerMs()
    }
  }

  /** Members that count towards a majority: every member not reaped, and this host. */
  electorate (): number {
    return this.c.members.size + 1
  }

  hasLiveLeader (nowMs: number): boolean {
    if (this.s.role === 'leader') return true
    if (this.s.leaderId === '') return false
    const peer = this.c.members.get(this.s.leaderId)
    return peer !== undefined && peer.state === 'alive' && nowMs - this.lastLeaderHeardMs < this.leaderTimeoutMs()
  }

  /** Delay before standing: priority rank spreads hosts out, seeded jitter breaks ties. */
  private staggerMs (): number {
    let rank = 0
    let others = 0
    // Every member not known dead or disconnected counts: in a site without a leader, members
    // broadcast their heartbeats less often than suspectAfterMs (supervisor-core.ts, speak), and
    // a rank among alive peers only would put many hosts first at once.
    for (const peer of this.c.members.values()) {
      if (peer.state === 'dead' || peer.hintedDownAtMs !== undefined) continue
      others++
      if (ranksBefore(peer.priority, peer.hostId, this.c.priority, this.c.hostId)) rank++
    }
    // Rank r waits a stagger step × log2(1 + r): the second host a whole step after the first,
    // so the first one's request reaches it before it stands (with linear steps of an eighth
    // of the stagger, deliveries slower than 31 ms let the first dozen ranks all stand at
    // once); the hosts far behind are spread more tightly, and the last of 50 waits about 5.6
    // steps. A step is electionStaggerMs, or more while deliveries are slow (noteDelay).
    const step = this.c.timings.electionStaggerMs + this.delayAllowanceMs()
    const spread = others === 0 ? 0 : Math.floor(step * Math.log2(1 + rank))
    return spread + this.c.rng.int(Math.floor(this.c.timings.electionStaggerMs / 4) + 1)
  }

  /**
   * A member became known. Before the site's first term, a host short of bootstrapExpect
   * members looks again only once per leader timeout (stand); the one whose new member
   * completes the count takes the next step at once: it re-ranks among all of them and stands
   * after that stagger, as stand does when its timer finds the count complete. In a site whose
   * hosts all dial one seed, the seed (first in rank) heard the last member and stood up to a
   * leader timeout later. Not while it still listens for a sitting leader after its start.
   */
  memberJoined (nowMs: number): void {
    if (this.s.term !== 0 || this.s.role !== 'follower' || this.bootstrapReadyAtMs !== undefined || this.electionAtMs === undefined) return
    if (nowMs < this.listenUntilMs || this.electorate() < this.c.bootstrapExpect) return
    this.bootstrapReadyAtMs = nowMs
    this.electionAtMs = nowMs + this.staggerMs()
  }

  stand (nowMs: number): void {
    if (this.hasLiveLeader(nowMs)) return
    if (nowMs < this.othersCampaignUntilMs && this.othersCampaignTerm > this.s.term) {
      this.electionAtMs = this.othersCampaignUntilMs + this.staggerMs()
      return
    }
    if (this.s.term === 0 && this.electorate() < this.c.bootstrapExpect) {
      this.electionAtMs = nowMs + this.c.timings.leaderTimeoutMs + this.staggerMs()
      return
    }
    if (this.s.term === 0 && this.bootstrapReadyAtMs === undefined) {
      // The site's first election: this host has just come to know bootstrapExpect members.
      // The stagger it waited was ranked among fewer of them (a starting host misses the first
      // heartbeats of those that started before it, and so ranks itself too early): it waits
      // again by its rank among all of them, so the hosts do not all stand at the same moment.
      this.bootstrapReadyAtMs = nowMs
      this.electionAtMs = nowMs + this.staggerMs()
      return
    }
    this.campaign(true, this.s.term + 1, nowMs)
  }

  private campaign (preVote: boolean, term: number, nowMs: number): void {
    this.latePreVotes = undefined
    if (!preVote) {
      this.s.term = term
      this.s.votedFor = this.c.hostId
      this.c.persist()
    }
    this.s.role = 'candidate'
    const roundMs = this.roundMs()
    this.candidacy = { term, preVote, grants: new Set([this.c.hostId]), deadlineMs: nowMs + roundMs }
    // A candidate backs itself for its whole round, not only the first electionRoundMs of it:
    // otherwise, in a round lengthened by failures, it would grant a later candidate and stand aside.
    if (preVote) this.preVoteBacked = { candidateId: this.c.hostId, priority: this.c.priority, term, untilMs: nowMs + roundMs }
    this.c.emit({ kind: 'election-started', term, preVote })
    this.c.publish({ kind: 'voteRequest', voteRequest: { term, priority: this.c.priority, electorate: this.electorate(), preVote, roundMs } }, nowMs)
    this.countVotes(nowMs)
  }

  giveUpCandidacy (nowMs: number): void {
    const c = this.candidacy
    if (c?.preVote === true) this.latePreVotes = { term: c.term, grants: c.grants }
    this.candidacy = undefined
    this.s.role = 'follower'
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
    return this.c.rng.int(Math.floor(this.c.timings.electionRoundMs * rounds) + 1)
  }

  /**
   * How long a candidacy waits for votes: electionRoundMs, doubled after each failed candidacy
   * up to MAX_BACKOFF_ROUNDS times. When votes take longer than a round to come back (hosts
   * too busy, a slow link), fixed rounds would all end before their votes arrive.
   */
  private roundMs (): number {
    return (this.c.timings.electionRoundMs + 2 * this.delayAllowanceMs()) * Math.min(2 ** this.failedCandidacies, MAX_BACKOFF_ROUNDS)
  }

  /**
   * The round a candidate says it waits for votes (its request's roundMs), within what this
   * host's own candidacies could wait: electionRoundMs to MAX_BACKOFF_ROUNDS of them. Voters
   * back it and hold their own candidacies that long, so a candidate whose rounds grew because
   * votes come back late (busy hosts, slow links) is not cut off by hosts that stand meanwhile.
   */
  private candidateRoundMs (roundMs: number | undefined): number {
    const base = this.c.timings.electionRoundMs
    return Math.min(Math.max(roundMs ?? base, base), (base + 2 * this.delayAllowanceMs()) * MAX_BACKOFF_ROUNDS)
  }

  onVoteRequest (candidateId: string, priority: number, term: number, preVote: boolean, electorate: number, roundMs: number | undefined, nowMs: number): void {
    const windowMs = this.candidateRoundMs(roundMs)
    // A pre-vote asked while this host leads or follows a live leader is refused here, and by
    // every other follower of it: that candidacy cannot succeed, so it does not hold this host back.
    // It is typically a host restarting (its rounds long after failed candidacies, up to
    // MAX_BACKOFF_ROUNDS): counted, it kept a 5-host site from standing for 3–8 s when the
    // leader was killed soon after such a restart.
    const lostCause = preVote && (this.s.role === 'leader' || this.heldByLeader(nowMs))
    if (term > this.s.term && candidateId !== this.c.hostId && !lostCause) {
      this.othersCampaignUntilMs = Math.max(this.othersCampaignUntilMs, nowMs + windowMs)
      this.othersCampaignTerm = Math.max(this.othersCampaignTerm, term)
    }
    if (!preVote) this.noteBacking(term, candidateId, candidateId)
    const granted = this.mayVote(candidateId, priority, term, preVote, electorate, nowMs)
    if (granted && preVote) {
      // Granting a pre-vote while standing in a pre-vote round means the requester ranks
      // before this host (backsAnother): this host stands aside for it.
      if (this.candidacy?.preVote === true) this.standAside(candidateId, nowMs)
      this.preVoteBacked = { candidateId, priority, term, untilMs: nowMs + windowMs }
    }
    if (granted && !preVote) {
      if (term > this.s.term) this.adoptTerm(term, '', nowMs)
      this.s.votedFor = candidateId
      this.c.persist()
      // Give the candidate its round before standing ourselves.
      this.electionAtMs = nowMs + windowMs + this.staggerMs()
    }
    // A refusal only matters to a candidate behind our term (it adopts the term and stops);
    // any other refusal would be a message for nothing. The candidate ends its round at its
    // deadline instead.
    const candidateTerm = preVote ? term - 1 : term
    if (!granted && this.s.term <= candidateTerm) return
    const vote = { term: granted ? term : this.s.term, candidateId, granted, preVote }
    // A granted vote is evidence every member counts (followIfProven); a pre-vote or a refusal
    // matters to its candidate only, and needs not cost the whole site a delivery.
    this.c.publish({ kind: 'vote', vote }, nowMs, granted && !preVote ? undefined : candidateId)
  }

  /**
   * A voter refuses while it has heard its leader within this window. It is shorter than
   * leaderTimeoutMs by half a heartbeat so that, when a leader dies silently, the first
   * candidate is not refused by voters whose own timers are only milliseconds behind.
   */
  private voteStickinessMs (): number {
    return this.leaderTimeoutMs() - Math.floor(this.c.timings.heartbeatIntervalMs / 2)
  }

  /** This host follows an alive leader heard within voteStickinessMs: it refuses every candidate. */
  private heldByLeader (nowMs: number): boolean {
    return this.s.leaderId !== '' && this.c.members.get(this.s.leaderId)?.state === 'alive' &&
      nowMs - this.lastLeaderHeardMs < this.voteStickinessMs()
  }

  /**
   * Besides Raft's rules, a voter refuses a candidate that counts fewer members than it does:
   * such a candidate has not heard of some hosts yet, and a majority of its smaller view
   * might not overlap the majority another candidate gathers in the same term.
   */
  private mayVote (candidateId: string, priority: number, term: number, preVote: boolean, electorate: number, nowMs: number): boolean {
    if (this.s.role === 'leader') return false
    if (electorate < this.electorate()) return false
    if (this.heldByLeader(nowMs)) return false
    if (preVote) return term > this.s.term && !this.backsAnother(candidateId, priority, term, nowMs)
    if (term > this.s.term) return true
    return term === this.s.term && (this.s.votedFor === '' || this.s.votedFor === candidateId)
  }

  /**
   * Whether this host backs another candidate for this term or a later one (preVoteBacked),
   * and keeps backing it: a candidate of the same term that ranks before the one backed (the
   * stagger's order: higher priority, then lower host id) takes the pre-vote over. When
   * messages take longer than the stagger to arrive, several hosts stand before they hear each
   * other, and each voter backs whichever request reached it first: the site's pre-votes split
   * and every candidacy fails, round after round (50 simulated hosts with 0.2–1 s deliveries
   * did not elect anyone in 60 s). Preferring one order everywhere makes every voter end up
   * backing the same candidate, the first in that order among those standing, and the others
   * stand aside (onVoteRequest). A pre-vote changes no term and no vote, so switching is safe;
   * it costs at most one more site-wide pre-vote per voter per better candidate.
   */
  private backsAnother (candidateId: string, priority: number, term: number, nowMs: number): boolean {
    // Standing in a pre-vote round, this host backs itself until the round ends (even when
    // the tick that ends it runs late), and only a candidate that ranks first takes it over.
    const c = this.candidacy
    if (c?.preVote === true && c.term >= term) return !(c.term === term && ranksBefore(priority, candidateId, this.c.priority, this.c.hostId))
    const b = this.preVoteBacked
    if (b === undefined || nowMs >= b.untilMs || b.candidateId === candidateId || b.term < term) return false
    return !(b.term === term && ranksBefore(priority, candidateId, b.priority, b.candidateId))
  }

  /**
   * A candidate that ranks before this host asks for pre-votes in the round this host stands
   * in: this host gives up its own pre-vote round (not a failed candidacy: no longer backoff)
   * and waits that candidate's round before it may stand again.
   */
  private standAside (candidateId: string, nowMs: number): void {
    this.candidacy = undefined
    this.s.role = 'follower'
    this.electionAtMs = nowMs + this.roundMs() + this.staggerMs()
    this.c.emit({ kind: 'election-yielded', term: this.s.term + 1, candidateId })
  }

  onVote (voterId: string, term: number, candidateId: string, granted: boolean, preVote: boolean, nowMs: number): void {
    if (candidateId !== this.c.hostId) {
      if (!granted || preVote) return
      this.noteBacking(term, candidateId, voterId)
      this.followIfProven(term, candidateId, nowMs)
      return
    }
    if (!granted) {
      if (term > this.s.term) this.adoptTerm(term, '', nowMs)
      return
    }
    if (!preVote) this.noteBacking(term, this.c.hostId, voterId)
    const c = this.candidacy
    if (c === undefined) {
      if (preVote) this.preVoteLate(voterId, term, nowMs)
      else this.winLate(term, nowMs)
      return
    }
    if (c.preVote !== preVote || c.term !== term) return
    c.grants.add(voterId)
    this.countVotes(nowMs)
  }

  /**
   * Votes for a candidacy of ours whose round ended still count while this host is in that
   * term, voted for itself and follows nobody: a Raft candidate stays one until its term ends,
   * and ours gives up its round only to stand again later. Safe for the same reason as a win in
   * time: each voter grants one candidate per term. Found on 50 real daemons on 2 busy cores:
   * the votes came back 0.5–1 s after a 500 ms round; every other host counted them, saw the
   * candidate win and followed it, while the candidate had given up and never led.
   */
  /**
   * Pre-votes for a pre-vote round of ours that ended: they are counted for the round's term
   * until this host stands again, follows a leader or its term moves, and a majority of them
   * starts the vote round as one in time would (a pre-vote changes nothing: the vote is where
   * safety is). Without it, on busy hosts, every round ended before its pre-votes came back.
   */
  private preVoteLate (voterId: string, term: number, nowMs: number): void {
    const late = this.latePreVotes
    if (late === undefined || late.term !== term || term !== this.s.term + 1 || this.s.role !== 'follower' || this.s.leaderId !== '') return
    late.grants.add(voterId)
    if (late.grants.size * 2 <= this.electorate()) return
    this.latePreVotes = undefined
    this.campaign(false, term, nowMs)
  }

  private winLate (term: number, nowMs: number): void {
    if (term !== this.s.term || this.s.votedFor !== this.c.hostId || this.s.role !== 'follower' || this.s.leaderId !== '') return
    const voters = this.votesSeen.get(`${term}/${this.c.hostId}`)?.voters
    if (voters === undefined) return
    const votes = voters.size + (voters.has(this.c.hostId) ? 0 : 1)
    if (votes * 2 <= this.electorate()) return
    this.becomeLeader(votes, nowMs)
  }

  private countVotes (nowMs: number): void {
    const c = this.candidacy
    if (c === undefined || c.grants.size * 2 <= this.electorate()) return
    if (c.preVote) return this.campaign(false, c.term, nowMs)
    this.becomeLeader(c.grants.size, nowMs)
  }

  private becomeLeader (votes: number, nowMs: number): void {
    this.s.role = 'leader'
    this.s.leaderId = this.c.hostId
    this.candidacy = undefined
    this.electionAtMs = undefined
    this.failedCandidacies = 0
    this.c.emit({ kind: 'leader-elected', term: this.s.term, leaderId: this.c.hostId, votes, electorate: this.electorate() })
    this.leaderSinceMs = nowMs
    this.c.becameLeader(nowMs)
  }

  checkLease (nowMs: number): void {
    const leaseMs = this.c.timings.leaderLeaseMs + this.delayAllowanceMs()
    if (nowMs - this.leaderSinceMs < leaseMs) return
    const following = this.c.members.countFollowersWithin(nowMs, leaseMs, this.s.term, this.c.hostId) + 1
    if (following * 2 <= this.electorate()) this.stepDown('lost-majority', nowMs)
  }

  stepDown (reason: 'lost-majority' | 'higher-term', nowMs: number): void {
    this.c.emit({ kind: 'stepped-down', term: this.s.term, reason })
    this.s.role = 'follower'
    this.c.steppedDown()
    this.s.leaderId = ''
    this.electionAtMs = nowMs + this.c.timings.leaderTimeoutMs + this.staggerMs()
  }
}
