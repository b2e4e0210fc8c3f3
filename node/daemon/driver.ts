/**
 * The driver loop: the only code that calls the core. It feeds the core received messages,
 * disconnect hints, samples, observations and ticks (no later than `nextDeadlineMs()`), and
 * performs the core's outputs in order:
 *
 * - `persist`: written atomically to the data dir, synchronously, before any later output
 *   (a change of the member list alone: off the event loop, state-store.ts);
 * - `publish`: handed to the mesh (gossipsub);
 * - `action`: queued on the container runtime, one at a time, in order; the runtime is
 *   observed once the queue drains, so 'observed' always follows every earlier action;
 * - `observe`: the runtime is observed and its answer fed back;
 *
 * The runtime side is bounded by construction: the action queue has a length limit (overflow
 * drops the action, counted: the loop is level-triggered, so the next observation asks again),
 * the worker yields to the event loop after every action, and an observation is always taken
 * on a timer, never in the microtask of the promise that finished the last action. When
 * observation after observation keeps yielding actions (a runtime that cannot meet the plan:
 * `runtime.kind: none`, an image that does not exist, the process runtime at its child limit),
 * the next observation waits longer each time (DRIVER_LIMITS.reobserveDelayMsMin, doubling up to the resync
 * interval), so a plan that cannot be met costs a few passes a minute, not a core; a pass with
 * nothing to do resets the wait. Without this, a runtime whose calls settle without I/O turns
 * apply → observe → the same actions into a microtask loop that starves timers, the HTTP API
 * and signal handlers.
 * - `event`: reported (pino log, prom-client metrics, the /v1/events stream).
 */
import type { Logger } from 'pino'
import { PROTOCOL_MINOR_MIN, type Capacity, type Message } from '../../protocol/index.js'
import type { CoreEvent, CoreInput, CoreOutput } from '../core/core-io.js'
import type { ContainerAction } from '../core/reconcile.js'
import type { PolicyKind, RateRules, ScalingRules } from '../core/service-spec.js'
import type { SupervisorCore } from '../core/supervisor-core.js'
import type { EventLog } from './event-log.js'
import type { DaemonMetrics } from './metrics.js'
import type { Topic } from '../core/core-io.js'
import type { ContainerRuntime, SignalSource, Transport } from '../core/ports.js'

export interface DriverComponents {
  core: SupervisorCore
  transport: Transport
  runtime: ContainerRuntime
  signals: SignalSource
  /** Durable write of the core's election state; must throw rather than return unwritten. */
  /** `membersOnly`: may be written later, off the event loop (core-io.ts). */
  persist: (state: Extract<CoreOutput, { type: 'persist' }>['state'], membersOnly: boolean) => void
  clock: () => number
  log: Logger
  metrics: DaemonMetrics
  events: EventLog
}

export interface DriverInit {
  capacity: Capacity
  /** Samples are read and fed this often (the heartbeat interval). */
  sampleIntervalMs: number
  /** The runtime is observed at least this often. */
  resyncIntervalMs: number
}

/** Longest sleep between two ticks, so a clock jump is noticed within this. */
const MAX_SLEEP_MS = 1000
/** A changed signal is fed to the core early, but at most this often. */
const EARLY_SAMPLE_MIN_GAP_MS = 100
/**
 * Limits of the runtime side (see the header). The queue holds far more than one pass asks
 * for (a pass is bounded by this host's slots); overflow drops the newest action.
 */
export const DRIVER_LIMITS = {
  /** Container actions queued at once; beyond it an action is dropped (result="dropped"). */
  actionQueueMax: 1024,
  /** Wait before re-observing after a pass that yielded actions, doubled per such pass in a row, ms. */
  reobserveDelayMsMin: 100,
} as const

/** Host ids of older-minor supervisors warned about (warnOldMinor); beyond it, only the metric counts. */
const OLD_MINOR_WARNED_MAX = 64

export class Driver {
  private readonly oldMinorWarned = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private timerDueMs = Infinity
  private nextSampleMs = 0
  private nextResyncMs = 0
  private readonly actionQueue: ContainerAction[] = []
  private worker: Promise<void> | undefined
  private observing = false
  private observeTimer: NodeJS.Timeout | undefined
  private observeWanted = false
  /** Observations in a row whose pass yielded actions (drives the re-observe backoff). */
  private busyPasses = 0
  /** Earliest time of the next observation (the backoff after busy passes), ms. */
  private observeNotBeforeMs = 0
  private running = false
  private lastHandled = 0
  private lastSampleMs = -Infinity
  private earlySampleTimer: NodeJS.Timeout | undefined
  private unsubscribeSignals: (() => void) | undefined
  private readonly abort = new AbortController()
  /** Set by a fatal error (the state file could not be written): the daemon must exit. */
  onFatal: (err: Error) => void = () => {}

  constructor (private readonly c: DriverComponents, private readonly init: DriverInit) {}

  start (): void {
    this.running = true
    this.c.runtime.onChange?.(() => this.requestObserve())
    this.unsubscribeSignals = this.c.signals.onChange?.(() => this.sampleSoon())
    this.feedSamples(this.c.clock())
    this.requestObserve()
    this.schedule()
  }

  /** Says goodbye to the site (the leave message is published) and stops the loop. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.handle({ type: 'leave' })
    this.running = false
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.earlySampleTimer !== undefined) clearTimeout(this.earlySampleTimer)
    if (this.observeTimer !== undefined) clearTimeout(this.observeTimer)
    this.unsubscribeSignals?.()
    this.abort.abort()
    this.actionQueue.length = 0
    await this.worker
  }

  message (topic: Topic, m: Message): void {
    if (topic !== 'global' && m.body.kind === 'heartbeat') this.c.transport.noteHost(m.sender, m.body.heartbeat.addrs)
    this.handle({ type: 'message', message: m })
    // The digest of the leader this host follows: keep a connection to it (heartbeats go there).
    if (m.body.kind === 'siteDigest' && this.c.core.currentLeaderId === m.sender) this.c.transport.noteLeader?.(m.sender, m.body.siteDigest.leaderAddrs)
  }

  disconnected (hostId: string): void {
    this.handle({ type: 'disconnected', hostId })
  }

  /** The mesh can reach a member of the site again (Mesh 'site:reachable'). */
  reachable (): void {
    this.handle({ type: 'reachable' })
  }

  /** When the loop last ran the core (for /healthz). */
  get lastHandledMs (): number { return this.lastHandled }

  private handle (input: CoreInput): void {
    if (!this.running) return
    const t0 = performance.now()
    const now = this.c.clock()
    this.lastHandled = now
    try {
      this.c.core.handle(input, now)
      for (const out of this.c.core.drainOutputs()) this.perform(out, now)
    } catch (err) {
      this.running = false
      this.onFatal(err as Error)
      return
    }
    this.c.transport.setLeading?.(this.c.core.currentRole === 'leader')
    this.c.metrics.coreTick.observe((performance.now() - t0) / 1000)
    if (input.type !== 'tick') this.schedule()
  }

  private perform (out: CoreOutput, now: number): void {
    switch (out.type) {
      case 'persist':
        this.c.persist(out.state, out.membersOnly === true)
        this.c.metrics.persistWrites.inc()
        return
      case 'publish':
        this.c.transport.publish(out.topic, out.message, out.to)
        return
      case 'action':
        this.enqueueAction(out.action)
        return
      case 'observe':
        this.requestObserve()
        return
      case 'event':
        this.report(out.event, now)
    }
  }

  private tick (): void {
    this.timer = undefined
    this.timerDueMs = Infinity
    if (!this.running) return
    const now = this.c.clock()
    if (now >= this.nextSampleMs) this.feedSamples(now)
    if (now >= this.nextResyncMs) this.requestObserve()
    this.handle({ type: 'tick' })
    this.schedule()
  }

  private schedule (): void {
    if (!this.running) return
    const now = this.c.clock()
    const due = Math.min(this.c.core.nextDeadlineMs(), this.nextSampleMs, this.nextResyncMs)
    const wait = Math.max(0, Math.min(MAX_SLEEP_MS, due - now))
    // Messages arrive often and rarely move the deadline earlier: keep the timer when they don't.
    if (this.timer !== undefined && now + wait >= this.timerDueMs) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerDueMs = now + wait
    this.timer = setTimeout(() => this.tick(), wait)
  }

  /** A signal changed: feed the samples now, or as soon as the minimum gap allows. */
  private sampleSoon (): void {
    if (!this.running || this.earlySampleTimer !== undefined) return
    const wait = Math.max(0, this.lastSampleMs + EARLY_SAMPLE_MIN_GAP_MS - this.c.clock())
    this.earlySampleTimer = setTimeout(() => {
      this.earlySampleTimer = undefined
      if (this.running) this.feedSamples(this.c.clock())
    }, wait)
  }

  private feedSamples (now: number): void {
    this.lastSampleMs = now
    this.nextSampleMs = now + this.init.sampleIntervalMs
    const reading = this.c.signals.sample()
    this.handle({ type: 'samples', signals: reading.signals, capacity: reading.capacity ?? this.init.capacity })
  }

  private enqueueAction (action: ContainerAction): void {
    if (this.actionQueue.length >= DRIVER_LIMITS.actionQueueMax) {
      this.c.metrics.actions.inc({ type: action.type, result: 'dropped' })
      return
    }
    this.actionQueue.push(action)
    this.worker ??= this.work().finally(() => {
      this.worker = undefined
      this.requestObserve() // 'observed' follows every earlier action (core-io.ts)
    })
  }

  /** Performs queued actions one at a time, yielding to the event loop after each; then observes. */
  private async work (): Promise<void> {
    const skipped = this.c.runtime.name === 'none'
    for (let action = this.actionQueue.shift(); action !== undefined; action = this.actionQueue.shift()) {
      if (this.abort.signal.aborted) return
      try {
        await this.c.runtime.apply(action, this.abort.signal)
        this.c.metrics.actions.inc({ type: action.type, result: skipped ? 'skipped' : 'ok' })
      } catch (err) {
        this.c.metrics.actions.inc({ type: action.type, result: 'failed' })
        this.c.log.warn({ action, code: (err as { code?: unknown }).code, err: (err as Error).message }, 'container action failed')
      }
      await yieldToEventLoop()
    }
  }

  /**
   * Asks for an observation: coalesced, on a timer (never in the current microtask), after
   * queued actions have drained, and no sooner than the busy-pass backoff allows.
   */
  private requestObserve (): void {
    if (!this.running) return
    this.observeWanted = true
    if (this.observing || this.worker !== undefined || this.observeTimer !== undefined) return
    const waitMs = Math.max(0, this.observeNotBeforeMs - this.c.clock())
    this.observeTimer = setTimeout(() => {
      this.observeTimer = undefined
      this.observe()
    }, waitMs)
  }

  private observe (): void {
    if (!this.running || this.observing) return
    if (this.worker !== undefined) return // work() asks again when the queue drains
    this.observeWanted = false
    this.observing = true
    this.nextResyncMs = this.c.clock() + this.init.resyncIntervalMs
    // The port may answer at once (Awaitable): the answer is still handled in a later microtask.
    Promise.resolve().then(async () => await this.c.runtime.observe(this.abort.signal)).then(
      (o) => {
        const queuedBefore = this.actionQueue.length
        this.handle({ type: 'observed', containers: o.containers, runtimeOk: o.ok, ...(o.unavailable === undefined ? {} : { unavailable: o.unavailable }) })
        this.noteObservedPass(this.actionQueue.length > queuedBefore || this.worker !== undefined)
      },
      (err: Error) => { this.c.log.warn({ err: err.message }, 'runtime observation failed') },
    ).finally(() => {
      this.observing = false
      if (this.observeWanted) this.requestObserve()
    })
  }

  /** Busy passes in a row push the next observation back (see DRIVER_LIMITS); an idle one resets. */
  private noteObservedPass (busy: boolean): void {
    if (!busy) {
      this.busyPasses = 0
      this.observeNotBeforeMs = 0
      return
    }
    this.busyPasses++
    const delayMs = Math.min(this.init.resyncIntervalMs, DRIVER_LIMITS.reobserveDelayMsMin * 2 ** Math.min(20, this.busyPasses - 1))
    this.observeNotBeforeMs = this.c.clock() + delayMs
  }

  /** The core reports, the shell logs: one log line, metrics and an SSE event per core event. */
  private report (e: CoreEvent, now: number): void {
    const { log, metrics: m, events } = this.c
    switch (e.kind) {
      case 'peer-state':
        log.info({ peer: e.change.hostId, from: e.change.from, to: e.change.to }, 'peer state changed')
        events.push('peer', now, { hostId: e.change.hostId, from: e.change.from, to: e.change.to })
        if (e.change.to === 'reaped') this.c.transport.forgetHost(e.change.hostId)
        return
      case 'election-started':
        m.electionsStarted.inc({ pre_vote: String(e.preVote) })
        log.debug({ term: e.term, preVote: e.preVote }, 'election started')
        if (!e.preVote) events.push('election', now, { term: e.term })
        return
      case 'election-yielded':
        log.debug({ term: e.term, candidateId: e.candidateId }, 'stood aside for a candidate that ranks first')
        return
      case 'leader-elected':
        m.leadersElected.inc()
        log.info({ term: e.term, votes: e.votes, electorate: e.electorate }, 'elected site leader')
        events.push('leader', now, { term: e.term, leaderId: e.leaderId, votes: e.votes, electorate: e.electorate })
        return
      case 'leader-changed':
        m.leaderChanges.inc()
        log.info({ term: e.term, leader: e.leaderId }, 'following leader')
        events.push('leader', now, { term: e.term, leaderId: e.leaderId })
        return
      case 'stepped-down':
        m.steppedDown.inc({ reason: e.reason })
        log.warn({ term: e.term, reason: e.reason }, 'stepped down as site leader')
        events.push('leader', now, { term: e.term, leaderId: '', steppedDown: e.reason })
        return
      case 'plan-published':
        log.info({ term: e.term, version: e.version }, 'plan published')
        events.push('plan', now, { term: e.term, version: e.version, published: true })
        return
      case 'plan-adopted':
        m.plansAdopted.inc()
        log.debug({ term: e.term, version: e.version }, 'plan adopted')
        events.push('plan', now, { term: e.term, version: e.version })
        return
      case 'plan-ignored':
        m.plansIgnored.inc({ reason: e.reason })
        log.debug({ term: e.term, version: e.version, reason: e.reason }, 'plan ignored')
        return
      case 'scaled': {
        const data = this.scaledData(e)
        log.info({ service: e.service, from: e.from, to: e.to, recommended: e.recommended, rule: e.rule, failingStatic: e.failingStatic, upstreamCapped: e.upstreamCapped, load: data.load, arrivalRate: e.arrivalRate, drainPerReplica: e.drainPerReplica }, 'service scaled')
        events.push('scaled', now, { ...data })
        return
      }
      case 'plan-capped':
        m.plansCapped.inc({ reason: e.reason })
        log.warn({ term: e.term, version: e.version, service: e.service, reason: e.reason, wanted: e.wanted, kept: e.kept }, 'plan cut to what this host may run')
        events.push('plan', now, { term: e.term, version: e.version, capped: e.reason, service: e.service, wanted: e.wanted, kept: e.kept })
        return
      case 'message-dropped':
        m.coreDropped.inc({ reason: e.reason })
        if (e.reason === 'old-minor') return this.warnOldMinor(e.from)
        log.debug({ from: e.from, reason: e.reason }, 'message dropped by the core')
        return
      case 'spill-requested':
        log.info({ service: e.service, toSite: e.toSite, replicas: e.replicas }, 'asked another site to run overflow')
        events.push('spill', now, { ...e })
        return
      case 'spill-hosted':
        log.info({ service: e.service, fromSite: e.fromSite, replicas: e.replicas, asked: e.asked }, 'running another site\'s overflow')
        events.push('spill', now, { ...e })
        return
      case 'spill-offered':
        log.info({ service: e.service, fromSite: e.fromSite, replicas: e.replicas, asked: e.asked }, 'another site runs overflow')
        events.push('spill', now, { ...e })
    }
  }

  /**
   * A supervisor of an older protocol minor is in the site: its messages are refused (it
   * broadcasts heartbeats and reads no digests, docs/membership.md). Said once per host id
   * (at most OLD_MINOR_WARNED_MAX of them), as an error an operator can act on.
   */
  private warnOldMinor (hostId: string): void {
    if (this.oldMinorWarned.has(hostId) || this.oldMinorWarned.size >= OLD_MINOR_WARNED_MAX) return
    this.oldMinorWarned.add(hostId)
    this.c.log.error({ peer: hostId, code: 'E_PROTO_VERSION', minorMin: PROTOCOL_MINOR_MIN },
      `supervisor ${hostId} speaks an older protocol minor than ${PROTOCOL_MINOR_MIN} (heartbeats to every member, no site digest): its messages are refused; upgrade every supervisor of the site (docs/membership.md)`)
  }

  /**
   * A `scaled` event with what the leader's round had at hand, so a reader can say why: the
   * load the rule was fed and the service's rules for the direction it moved. The core's event
   * carries neither; they are read from the leader view right after the round that emitted it
   * (outputs are drained before any other input), so they are that round's.
   */
  private scaledData (e: Extract<CoreEvent, { kind: 'scaled' }>): ScaledEventData {
    const view = this.c.core.leaderView
    const spec = view?.scalers.get(e.service)?.spec
    const load = view?.load.get(e.service)
    return {
      ...e,
      ...(load === undefined ? {} : { load }),
      ...(spec === undefined
        ? {}
        : {
            targetPerReplica: spec.targetPerReplica,
            minReplicas: spec.minReplicas,
            maxReplicas: spec.maxReplicas,
            tolerance: spec.tolerance,
            activationThreshold: spec.activationThreshold,
            rules: e.to > e.from ? spec.scaleUp : spec.scaleDown,
            rate: spec.rate,
            ...(spec.upstream === undefined ? {} : { upstream: { name: spec.upstream.name, saturatedAt: spec.upstream.saturatedAt } }),
          }),
    }
  }
}

/**
 * The data of a `scaled` event on /v1/events (besides `atMs`): the core's event, the site load
 * the leader's rule was fed in that round, and the service's rules for the direction it moved
 * (`scaleUp` when `to > from`, else `scaleDown`). Absent fields: the leader view was gone.
 */
export interface ScaledEventData {
  kind: 'scaled'
  service: string
  from: number
  to: number
  /** What the rule alone asked for, before stabilisation windows and rate limits. */
  recommended: number
  failingStatic: boolean
  upstreamCapped: boolean
  /** The rule that decided: the rate policy, or the HPA rule (also the rate policy's until it knows μ). */
  rule: PolicyKind
  /** Rate policy: the arrival rate it planned for and the drain rate per replica it knew. */
  arrivalRate?: number
  drainPerReplica?: number
  /** Total fresh load of the service over the site at that round. */
  load?: number
  targetPerReplica?: number
  minReplicas?: number
  maxReplicas?: number
  tolerance?: number
  activationThreshold?: number
  rules?: ScalingRules
  /** The rate policy's settings. */
  rate?: RateRules
  upstream?: { name: string, saturatedAt: number }
}

/** Resolves on the event loop's next check phase, after pending I/O and timers have had a turn. */
async function yieldToEventLoop (): Promise<void> {
  await new Promise<void>(resolve => setImmediate(resolve))
}
