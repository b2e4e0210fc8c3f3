/**
 * The driver loop: the only code that calls the core. It feeds the core received messages,
 * disconnect hints, samples, observations and ticks (no later than `nextDeadlineMs()`), and
 * performs the core's outputs in order:
 *
 * - `persist`: written atomically to the data dir, synchronously, before any later output;
 * - `publish`: handed to the mesh (gossipsub);
 * - `action`: queued on the container runtime, one at a time, in order; the runtime is
 *   observed once the queue drains, so 'observed' always follows every earlier action;
 * - `observe`: the runtime is observed and its answer fed back;
 * - `event`: reported (pino log, prom-client metrics, the /v1/events stream).
 */
import type { Logger } from 'pino'
import type { Capacity, Message } from '../../protocol/index.js'
import type { CoreEvent, CoreInput, CoreOutput } from '../core/core-io.js'
import type { ContainerAction } from '../core/reconcile.js'
import type { SupervisorCore } from '../core/supervisor-core.js'
import type { EventLog } from './event-log.js'
import type { DaemonMetrics } from './metrics.js'
import type { TopicKind } from './message-gate.js'
import type { ContainerRuntime, SignalSource } from './ports.js'

/** The network as the driver needs it (the Mesh, or a fake in tests). */
export interface Transport {
  publish: (topic: TopicKind, message: Message) => void
  noteHost: (hostId: string, addrs: readonly string[]) => void
  forgetHost: (hostId: string) => void
}

export interface DriverComponents {
  core: SupervisorCore
  transport: Transport
  runtime: ContainerRuntime
  signals: SignalSource
  /** Durable write of the core's election state; must throw rather than return unwritten. */
  persist: (state: Extract<CoreOutput, { type: 'persist' }>['state']) => void
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

export class Driver {
  private timer: NodeJS.Timeout | undefined
  private timerDueMs = Infinity
  private nextSampleMs = 0
  private nextResyncMs = 0
  private actionChain: Promise<void> = Promise.resolve()
  private actionsPending = 0
  private observing = false
  private observeAgain = false
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
    this.unsubscribeSignals?.()
    this.abort.abort()
    await this.actionChain
  }

  message (topic: TopicKind, m: Message): void {
    if (topic === 'site' && m.body.kind === 'heartbeat') this.c.transport.noteHost(m.sender, m.body.heartbeat.addrs)
    this.handle({ type: 'message', message: m })
  }

  disconnected (hostId: string): void {
    this.handle({ type: 'disconnected', hostId })
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
    this.c.metrics.coreTick.observe((performance.now() - t0) / 1000)
    if (input.type !== 'tick') this.schedule()
  }

  private perform (out: CoreOutput, now: number): void {
    switch (out.type) {
      case 'persist':
        this.c.persist(out.state)
        this.c.metrics.persistWrites.inc()
        return
      case 'publish':
        this.c.transport.publish(out.topic, out.message)
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
    this.actionsPending++
    this.actionChain = this.actionChain.then(async () => {
      if (this.abort.signal.aborted) return
      const result = this.c.runtime.name === 'none' ? 'skipped' : 'ok'
      try {
        await this.c.runtime.apply(action, this.abort.signal)
        this.c.metrics.actions.inc({ type: action.type, result })
      } catch (err) {
        this.c.metrics.actions.inc({ type: action.type, result: 'failed' })
        this.c.log.warn({ action, err: (err as Error).message }, 'container action failed')
      } finally {
        this.actionsPending--
        if (this.actionsPending === 0) this.requestObserve()
      }
    })
  }

  /** Observes the runtime, coalescing requests; waits for queued actions (see core-io.ts). */
  private requestObserve (): void {
    if (!this.running) return
    if (this.observing || this.actionsPending > 0) { this.observeAgain = true; return }
    this.observing = true
    this.nextResyncMs = this.c.clock() + this.init.resyncIntervalMs
    this.c.runtime.observe(this.abort.signal).then(
      (o) => { this.handle({ type: 'observed', containers: o.containers, runtimeOk: o.ok }) },
      (err: Error) => { this.c.log.warn({ err: err.message }, 'runtime observation failed') },
    ).finally(() => {
      this.observing = false
      if (this.observeAgain && this.actionsPending === 0) {
        this.observeAgain = false
        this.requestObserve()
      }
    })
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
      case 'scaled':
        log.info({ service: e.service, from: e.from, to: e.to, recommended: e.recommended, failingStatic: e.failingStatic, upstreamCapped: e.upstreamCapped }, 'service scaled')
        events.push('scaled', now, { ...e })
        return
      case 'message-dropped':
        m.coreDropped.inc({ reason: e.reason })
        log.debug({ from: e.from, reason: e.reason }, 'message dropped by the core')
    }
  }
}
