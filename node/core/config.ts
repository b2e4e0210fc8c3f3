/**
 * Timing configuration of the core, with named profiles (memberlist style: a profile is a set
 * of overrides on the defaults). All durations are integers of milliseconds.
 */
import { CoreError, CoreErrorCode } from './errors.js'

export interface CoreTimings {
  /**
   * How often a host gossips its heartbeat. Lower reacts faster to failures and load, at the
   * cost of gossip bytes: every site member receives every heartbeat.
   */
  heartbeatIntervalMs: number
  /** A peer not heard from for this long is suspect. Default 3 heartbeats. */
  suspectAfterMs: number
  /** A peer not heard from for this long is dead: its replicas are placed elsewhere. */
  deadAfterMs: number
  /**
   * A dead peer is forgotten (leaves the electorate) after this long. Until then it still
   * counts towards the majority a leader needs, which keeps a cut-off minority from electing
   * its own leader; after it, the remaining hosts can elect among themselves.
   */
  reapAfterMs: number
  /**
   * Reaping needs a live leader: only the leader, and hosts that follow a live leader, forget
   * dead peers, so the side of a partition without a majority can never shrink its electorate
   * and elect a second leader. A host that has had no leader for this long reaps anyway, so
   * that survivors of a site that lost most of its hosts for good can elect again. Lower
   * restores service sooner after such a loss; higher keeps a cut-off minority from electing
   * its own leader (which can then share a term with the majority's) for longer.
   */
  leaderlessReapAfterMs: number
  /** A follower that has not heard its leader for this long starts an election. */
  leaderTimeoutMs: number
  /**
   * Extra wait before a host stands for election, spread by priority rank (rank 0 waits least)
   * plus a seeded jitter, so the preferred host usually stands first and alone.
   */
  electionStaggerMs: number
  /** A candidate that has no majority after this long gives up and tries again later. */
  electionRoundMs: number
  /** A leader that has not heard a majority of its electorate within this window steps down. */
  leaderLeaseMs: number
  /** How often the leader recomputes desired replicas and placement. */
  planIntervalMs: number
  /**
   * A host whose load signals rise (signal-rise.ts) sends its heartbeat at once rather than at
   * the next interval, and a leader that hears of a rise plans at once rather than at the next
   * round; each at most once per this gap, so a storm of samples costs a bounded rate.
   */
  riseGapMs: number
  /**
   * A leader whose service needs more than its site can run asks another site to run the
   * overflow (spill.ts) this often while the need lasts.
   */
  spillIntervalMs: number
  /** A site runs another's overflow for this long after its last request, then stops it. */
  spillLeaseMs: number
  /** An unchanged plan is published again this often, for hosts that joined late. */
  planRepublishMs: number
  /** How often the leader gossips its site summary on the global topic (at least; see summariesPerSecondMax). */
  summaryIntervalMs: number
  /**
   * At most about this many site summaries a second reach a leader, whatever the fleet's size:
   * a leader that knows more than summaryIntervalMs × this other sites sends its own less often
   * (known sites ÷ this, in seconds), so a leader's cost of the global topic stays flat. Every
   * leader hears every other's summary: at 390 sites and 2 s each heard 195 a second.
   */
  summariesPerSecondMax: number
  /** A signal sample older than this is stale: the service fails static. */
  sampleMaxAgeMs: number
  /** How often membership states are re-evaluated, at the longest: one due before the next heartbeat runs with it (runDue). */
  membershipSweepMs: number
}

export const DEFAULT_TIMINGS: CoreTimings = {
  heartbeatIntervalMs: 500,
  suspectAfterMs: 1500,
  deadAfterMs: 5000,
  reapAfterMs: 30_000,
  leaderlessReapAfterMs: 600_000,
  leaderTimeoutMs: 1000,
  electionStaggerMs: 250,
  electionRoundMs: 500,
  leaderLeaseMs: 2000,
  planIntervalMs: 1000,
  riseGapMs: 250,
  spillIntervalMs: 5000,
  spillLeaseMs: 20_000,
  planRepublishMs: 5000,
  summaryIntervalMs: 2000,
  summariesPerSecondMax: 20,
  sampleMaxAgeMs: 5000,
  membershipSweepMs: 500,
}

/** Named profiles, as overrides of DEFAULT_TIMINGS. */
export const TIMING_PROFILES: Record<string, Partial<CoreTimings>> = {
  /** One room or one cloud region: the defaults. */
  lan: {},
  /** Sites spread over slow or lossy links (edge clusters on cellular, say). */
  wan: {
    heartbeatIntervalMs: 2000,
    suspectAfterMs: 6000,
    deadAfterMs: 20_000,
    reapAfterMs: 120_000,
    leaderlessReapAfterMs: 1_800_000,
    leaderTimeoutMs: 4000,
    electionStaggerMs: 1000,
    electionRoundMs: 2000,
    leaderLeaseMs: 8000,
    planIntervalMs: 2000,
    riseGapMs: 500,
    spillIntervalMs: 10_000,
    spillLeaseMs: 40_000,
    planRepublishMs: 10_000,
    summaryIntervalMs: 5000,
    sampleMaxAgeMs: 20_000,
    membershipSweepMs: 2000,
  },
}

export function timingsFor (profile: string, overrides: Partial<CoreTimings> = {}): CoreTimings {
  // Own keys only: 'constructor' or '__proto__' must not pass for a profile.
  const base = Object.hasOwn(TIMING_PROFILES, profile) ? TIMING_PROFILES[profile] : undefined
  if (base === undefined) {
    throw new CoreError(CoreErrorCode.ConfigInvalid,
      `unknown timing profile "${profile}"; known: ${Object.keys(TIMING_PROFILES).join(', ')}`)
  }
  const t = { ...DEFAULT_TIMINGS, ...base, ...overrides }
  const problems = timingProblems(t)
  if (problems.length > 0) throw new CoreError(CoreErrorCode.ConfigInvalid, problems.join('; '))
  return t
}

/** Every broken relation between timings, as sentences naming the fields. */
export function timingProblems (t: CoreTimings): string[] {
  const problems: string[] = []
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isSafeInteger(v) || v <= 0) problems.push(`${k} must be a whole number of ms > 0, got ${v}`)
  }
  if (problems.length > 0) return problems
  const need = (ok: boolean, text: string): void => { if (!ok) problems.push(text) }
  need(t.suspectAfterMs >= 2 * t.heartbeatIntervalMs, 'suspectAfterMs must be at least 2 × heartbeatIntervalMs, or one lost heartbeat makes a peer suspect')
  need(t.deadAfterMs > t.suspectAfterMs, 'deadAfterMs must be greater than suspectAfterMs')
  need(t.reapAfterMs > t.deadAfterMs, 'reapAfterMs must be greater than deadAfterMs')
  need(t.leaderlessReapAfterMs >= t.reapAfterMs, 'leaderlessReapAfterMs must be at least reapAfterMs')
  need(t.leaderTimeoutMs >= 2 * t.heartbeatIntervalMs, 'leaderTimeoutMs must be at least 2 × heartbeatIntervalMs')
  need(t.leaderLeaseMs > t.heartbeatIntervalMs * 2, 'leaderLeaseMs must be greater than 2 × heartbeatIntervalMs')
  need(t.riseGapMs <= t.heartbeatIntervalMs && t.riseGapMs <= t.planIntervalMs, 'riseGapMs must be at most heartbeatIntervalMs and planIntervalMs (a rise is told sooner, never later)')
  need(t.spillLeaseMs >= 2 * t.spillIntervalMs, 'spillLeaseMs must be at least 2 × spillIntervalMs, or one lost request stops the overflow')
  need(t.planRepublishMs >= t.planIntervalMs, 'planRepublishMs must be at least planIntervalMs')
  need(t.sampleMaxAgeMs >= 2 * t.heartbeatIntervalMs, 'sampleMaxAgeMs must be at least 2 × heartbeatIntervalMs')
  return problems
}

/**
 * Bounds on what one site member can make this host believe (see docs/architecture.md, "Bounded trust
 * between members"). Every member holds the swarm key, so these are not about strangers: they
 * keep one faulty or compromised member from taking the site over or locking hosts out.
 */
export const TRUST_LIMITS = {
  /**
   * A term more than this far above this host's, carried by a single member's message (a vote
   * request, a refused vote, a plan, a heartbeat), is refused: a vote at 2^53 − 1 would
   * otherwise be persisted and end elections for good. A leader proven by a majority of the
   * electorate is followed at any term, so a host that was away for many terms still catches up.
   */
  termJumpMax: 1000,
  /**
   * A known member's incarnation may grow by at most this much in one message (a restart adds
   * one); a larger jump is refused, so nobody can push a host id's incarnation out of reach of
   * the real host's next restart.
   */
  incarnationJumpMax: 1000,
  /** (term, candidate) pairs whose granted votes are remembered as evidence of a win; the lowest term is forgotten first. */
  votesSeenMax: 64,
} as const
