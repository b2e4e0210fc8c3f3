/**
 * What goes into the core and what comes out of it. The driver (daemon or simulator) calls
 * `handle(input, nowMs)` for each input, then drains `pollOutput()` until it returns undefined,
 * performs the outputs in order, and calls `handle({ type: 'tick' }, t)` no later than
 * `nextDeadlineMs()`.
 */
import type { Capacity, Message, SignalSample } from '../../protocol/index.js'
import type { PeerStateChange } from './membership.js'
import type { ContainerAction, ObservedContainer } from './reconcile.js'
import type { PolicyKind } from './service-spec.js'

export type CoreInput =
  /** Time passed; the core does whatever is due. */
  | { type: 'tick' }
  /** A message received and decoded by protocol/. Never one of our own. */
  | { type: 'message', message: Message }
  /** The transport lost its connection to this host. */
  | { type: 'disconnected', hostId: string }
  /**
   * The transport can reach a member of this site again (its first since it could reach none:
   * at start, or after being cut off). Heartbeats sent meanwhile went nowhere: a host that
   * follows no leader broadcasts its heartbeat at once instead of at its paced time.
   */
  | { type: 'reachable' }
  /** The latest local readings: signal samples and this host's capacity. */
  | { type: 'samples', signals: SignalSample[], capacity: Capacity }
  /**
   * What the container runtime reports running now, after every earlier action was applied.
   * `runtimeOk` false means the runtime is unreachable: `containers` is then the last list known.
   * `unavailable`: services this host cannot start now although the runtime answers (their
   * secrets cannot be read, say); carried in heartbeats, so the leader places them elsewhere.
   */
  | { type: 'observed', containers: ObservedContainer[], runtimeOk: boolean, unavailable?: readonly string[] }
  /** Graceful shutdown: say goodbye so the site does not wait for a timeout. */
  | { type: 'leave' }

/**
 * Where a message goes. `site`: every member of this host's site (gossip). `global`: every
 * site. `leader`: only whoever leads this host's site now; members send their heartbeats
 * there once they follow a leader (docs/membership.md), so a member's message rate does not
 * grow with the site. The shell delivers a `leader` message to any host of the site that
 * currently leads (the daemon: a gossip topic only a leader subscribes to), or drops it when
 * none does; the core never relies on it arriving.
 */
export type Topic = 'site' | 'global' | 'leader'

export interface PersistentState {
  term: number
  votedFor: string
  /** Site members known when it was written, sorted. */
  members: string[]
}

export type CoreOutput =
  /**
   * `to`: only that host of the site needs the message (a pre-vote, or a refusal, for its
   * candidate); the shell may hand it to that host alone when it reaches it directly, and
   * otherwise publishes it on `topic` like any other. Receivers that are not `to` ignore it.
   */
  | { type: 'publish', topic: Topic, message: Message, to?: string }
  | { type: 'action', action: ContainerAction }
  | { type: 'event', event: CoreEvent }
  /**
   * Election state that must survive a restart (Raft's term and vote, and the site members
   * this host knows, so that a restarted host cannot forget its electorate and elect itself).
   * The driver must store it durably before it performs any output that follows it, unless
   * `membersOnly`: then only the member list changed since the last persist (term and vote
   * are those already stored), and the driver may store it later, off the event loop, as long
   * as it never replaces a newer write with it. Losing such a write in a crash only means the
   * restarted host relearns its newest members (supervisor-core.ts, persist).
   */
  | { type: 'persist', state: PersistentState, membersOnly?: true }
  /** The plan changed: the driver should observe the runtime now and feed 'observed'. */
  | { type: 'observe' }

/** Why a plan was not adopted: a closed set (a metric label). */
export const PLAN_IGNORED_REASONS = ['stale-term', 'not-leader', 'old-version', 'unproven-leader', 'term-jump'] as const
export type PlanIgnoredReason = typeof PLAN_IGNORED_REASONS[number]
/** Why this host runs less of a plan than it was given: a closed set (a metric label). */
export const PLAN_CAPPED_REASONS = ['unknown-service', 'max-replicas', 'slots'] as const
export type PlanCappedReason = typeof PLAN_CAPPED_REASONS[number]
/** Why the core dropped a message: a closed set (a metric label). */
/**
 * `not-handled`: a body this version decodes but does not act on yet (spillRequest, spillOffer).
 * `old-minor`: the sender speaks a protocol minor below PROTOCOL_MINOR_MIN (it broadcasts
 * heartbeats and never reads digests): refused, so the operator sees it and upgrades it.
 */
export const MESSAGE_DROPPED_REASONS = ['wrong-site', 'stale', 'self', 'term-jump', 'incarnation-jump', 'not-handled', 'old-minor'] as const
export type MessageDroppedReason = typeof MESSAGE_DROPPED_REASONS[number]

/** Things worth a log line, a metric or an SSE event. The core reports; the shell logs. */
export type CoreEvent =
  | { kind: 'peer-state', change: PeerStateChange }
  | { kind: 'election-started', term: number, preVote: boolean }
  /** This host gave up its pre-vote round for `candidateId`, which ranks before it (election.ts, backsAnother). */
  | { kind: 'election-yielded', term: number, candidateId: string }
  | { kind: 'leader-elected', term: number, leaderId: string, votes: number, electorate: number }
  | { kind: 'leader-changed', term: number, leaderId: string }
  | { kind: 'stepped-down', term: number, reason: 'lost-majority' | 'higher-term' }
  | { kind: 'plan-published', term: number, version: number }
  | { kind: 'plan-adopted', term: number, version: number }
  | { kind: 'plan-ignored', term: number, version: number, reason: PlanIgnoredReason }
  /** This host's part of an adopted plan was cut to what it may run (`kept` of `wanted`). */
  | { kind: 'plan-capped', term: number, version: number, service: string, reason: PlanCappedReason, wanted: number, kept: number }
  | { kind: 'scaled', service: string, from: number, to: number, recommended: number, failingStatic: boolean, upstreamCapped: boolean, rule: PolicyKind, arrivalRate?: number, drainPerReplica?: number }
  | { kind: 'message-dropped', from: string, reason: MessageDroppedReason }
  /** This leader asked `toSite` to run `replicas` of `service` that its own site cannot (spill.ts). */
  | { kind: 'spill-requested', service: string, toSite: string, replicas: number }
  /** This leader took `replicas` of `fromSite`'s overflow of `service` (of `asked`). */
  | { kind: 'spill-hosted', service: string, fromSite: string, replicas: number, asked: number }
  /** The site this leader asked took `replicas` of `asked`. */
  | { kind: 'spill-offered', service: string, fromSite: string, replicas: number, asked: number }
