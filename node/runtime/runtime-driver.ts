/**
 * Between the core and an `AgentRuntime` (Docker or processes):
 *
 * `RuntimeDriver` implements the daemon's port (`ContainerRuntime` in node/core/ports.ts:
 *   `observe` → `{containers, ok}`, `apply(action)`, `onChange`, `start`, `stop`). It turns the
 *   core's actions into runtime calls with the service's spec and the owner labels; an
 *   observation never throws for an unavailable or failing runtime: it answers `ok: false`
 *   with the last list known (the core then keeps what runs and fails static) and schedules a
 *   retry with capped exponential backoff, announced through `onChange`, so any loop that
 *   re-observes on change retries without a timer of its own. It records start latency (first
 *   observation of 'running' minus the start call) and counts through a `RuntimeMetricsSink`.
 *
 * A `StartPreparer` (the service's secrets, node/secrets/agent-secrets.ts) may complete each
 * start: it resolves what the spec lacks (secret env, a secret files folder) and extra labels,
 * or fails the start with its own coded error (E_VAULT_*), which `apply` passes on unchanged.
 * Services it cannot start now are carried in every observation (`unavailable`), for the core.
 */
import { pino, type Logger } from 'pino'
import { CodedError } from '../../protocol/errors.js'
import type { ContainerAction, ObservedContainer } from '../core/reconcile.js'
import type { ContainerRuntime, RuntimeObservation } from '../core/ports.js'
import {
  RUNTIME_DEFAULTS, RuntimeError, RuntimeErrorCode, ownerLabels,
  type AgentRuntime, type AgentSpec, type RuntimeChangeListener,
} from './container-runtime.js'

export type ActionType = ContainerAction['type']
export type ActionResult = 'ok' | 'failed'

/** What the runtime layer reports; the daemon maps it to prom-client (or anything else). */
export interface RuntimeMetricsSink {
  /** One start, from the start call to the first observation of the container running. */
  startLatency: (seconds: number, service: string) => void
  /** One action performed, and how it ended. */
  action: (type: ActionType, result: ActionResult) => void
  /** Whether the last observation reached the runtime. */
  runtimeUp: (up: boolean) => void
  /** A start whose container was seen exited or gone before it was ever seen running. */
  startFailed: (service: string) => void
}

/** What a preparer hands back for one start. */
export interface PreparedStart {
  spec: AgentSpec
  /** Added to the owner labels. */
  labels: Readonly<Record<string, string>>
  /** The start failed after preparing: undo (remove a secrets folder, say). */
  abandon: () => void
}

/** Completes starts, learns of observations, and names services it cannot start now. */
export interface StartPreparer {
  /** Throws a coded error (kept as it is) when the start cannot go ahead. */
  prepare: (spec: AgentSpec, signal?: AbortSignal) => Promise<PreparedStart>
  /** Every observation that reached the runtime. */
  observed: (containers: readonly ObservedContainer[]) => void
  /** Services this host cannot start now, sorted. */
  unavailable: () => string[]
  /** Called when `unavailable` changed or something wants a fresh observation. Returns the unsubscribe. */
  onChange: (listener: () => void) => () => void
}

export const NOOP_RUNTIME_METRICS: RuntimeMetricsSink = {
  startLatency: () => {}, action: () => {}, runtimeUp: () => {}, startFailed: () => {},
}

export interface RuntimeDriverInit {
  hostId: string
  site: string
  /** The spec of a service, looked up at every start (so a config reload is seen). */
  specFor: (service: string) => AgentSpec | undefined
  /** Extra labels on every agent started (operator labels; tests' run labels). */
  extraLabels?: Readonly<Record<string, string>>
  /** Grace of a stop when the service has no spec any more, ms. */
  defaultStopTimeoutMs?: number
  /** Backoff of the retries while the runtime is unavailable: first delay and cap, ms. */
  retryMsMin?: number
  retryMsMax?: number
  /** Completes each start (secrets); none: the spec as it is. */
  preparer?: StartPreparer
}

export interface RuntimeDriverComponents {
  runtime: AgentRuntime
  metrics?: RuntimeMetricsSink
  /** Monotonic milliseconds (latency and backoff); default `performance.now()`. */
  clock?: () => number
  log?: Logger
}

/** What `status` shows of the runtime. */
export interface RuntimeStatus {
  kind: string
  ok: boolean
  /** Observations that failed in a row (0 while ok). */
  consecutiveFailures: number
  lastError?: { code: string, message: string }
  /** Containers in the last list known. */
  containers: number
}

export class RuntimeDriver implements ContainerRuntime {
  readonly name: string
  private readonly runtime: AgentRuntime
  private readonly metrics: RuntimeMetricsSink
  private readonly clock: () => number
  private readonly log: Logger
  private readonly listeners = new Set<RuntimeChangeListener>()
  private readonly pendingStarts = new Map<string, { service: string, startedAtMs: number }>()
  private lastKnown: ObservedContainer[] = []
  private ok = true
  private failures = 0
  private lastError: RuntimeError | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined

  constructor (private readonly init: RuntimeDriverInit, components: RuntimeDriverComponents) {
    this.runtime = components.runtime
    this.name = components.runtime.kind
    this.metrics = components.metrics ?? NOOP_RUNTIME_METRICS
    this.clock = components.clock ?? (() => performance.now())
    this.log = components.log ?? pino({ level: 'silent' })
  }

  async start (): Promise<void> {
    const off = this.runtime.onChange(() => this.emitChange())
    const offPreparer = this.init.preparer?.onChange(() => this.emitChange())
    this.unsubscribe = () => { off(); offPreparer?.() }
    await this.runtime.start()
  }

  async stop (): Promise<void> {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.unsubscribe?.()
    await this.runtime.stop()
  }

  /**
   * Stops one agent outside the plan (a secret it was started with changed): the next
   * observation shows one replica fewer, and the plan starts a replacement.
   */
  async retire (containerId: string, service: string, signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.init.specFor(service)?.stopTimeoutMs ?? this.init.defaultStopTimeoutMs ?? 10_000
    try {
      await this.runtime.stopAgent(containerId, timeoutMs, signal)
      this.metrics.action('stop', 'ok')
    } catch (err) {
      this.metrics.action('stop', 'failed')
      throw asRuntimeError(err)
    } finally {
      this.emitChange()
    }
  }

  /** The daemon's port takes one listener at a time; more are allowed here. */
  onChange (listener: RuntimeChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  status (): RuntimeStatus {
    return {
      kind: this.runtime.kind,
      ok: this.ok,
      consecutiveFailures: this.failures,
      ...(this.lastError === undefined ? {} : { lastError: { code: this.lastError.code, message: this.lastError.message } }),
      containers: this.lastKnown.length,
    }
  }

  /** Never throws for the runtime's sake: `ok: false` and the last list known instead. */
  async observe (signal?: AbortSignal): Promise<RuntimeObservation> {
    try {
      const containers = await this.runtime.observe(signal)
      this.lastKnown = containers
      if (!this.ok) this.log.info({ runtime: this.name, failures: this.failures }, 'container runtime reachable again')
      this.ok = true
      this.failures = 0
      this.lastError = undefined
      this.metrics.runtimeUp(true)
      this.notePendingStarts(containers)
      this.init.preparer?.observed(containers)
      return { containers, ok: true, ...this.unavailable() }
    } catch (err) {
      const e = asRuntimeError(err)
      if (e.code === RuntimeErrorCode.Aborted) throw e // shutting down: nothing to report
      this.noteFailure(e)
      return { containers: this.lastKnown, ok: false, ...this.unavailable() }
    }
  }

  private unavailable (): { unavailable?: string[] } {
    const list = this.init.preparer?.unavailable() ?? []
    return list.length === 0 ? {} : { unavailable: list }
  }

  async apply (action: ContainerAction, signal?: AbortSignal): Promise<void> {
    try {
      await this.perform(action, signal)
      this.metrics.action(action.type, 'ok')
    } catch (err) {
      this.metrics.action(action.type, 'failed')
      // A preparer's own coded error (E_VAULT_*) says what went wrong better than a wrapping.
      if (err instanceof CodedError && !(err instanceof RuntimeError)) throw err
      const e = asRuntimeError(err)
      if (e.code === RuntimeErrorCode.Unavailable) this.noteFailure(e)
      throw e
    }
  }

  private async perform (action: ContainerAction, signal?: AbortSignal): Promise<void> {
    switch (action.type) {
      case 'start': {
        const spec = this.init.specFor(action.service)
        if (spec === undefined) throw new RuntimeError(RuntimeErrorCode.UnknownService, `no spec for service ${action.service}`)
        const startedAtMs = this.clock()
        const prepared = this.init.preparer === undefined ? { spec, labels: {}, abandon: () => {} } : await this.init.preparer.prepare(spec, signal)
        const labels = ownerLabels({ service: action.service, site: this.init.site, hostId: this.init.hostId, term: action.term }, { ...this.init.extraLabels, ...prepared.labels })
        let id: string
        try {
          id = await this.runtime.startAgent(prepared.spec, labels, signal)
        } catch (err) {
          prepared.abandon()
          throw err
        }
        this.trackStart(id, action.service, startedAtMs)
        return
      }
      case 'stop': {
        const timeoutMs = this.init.specFor(action.service)?.stopTimeoutMs ?? this.init.defaultStopTimeoutMs ?? 10_000
        await this.runtime.stopAgent(action.containerId, timeoutMs, signal)
        return
      }
      case 'remove':
        await this.runtime.removeAgent(action.containerId, signal)
    }
  }

  private trackStart (id: string, service: string, startedAtMs: number): void {
    if (this.pendingStarts.size >= RUNTIME_DEFAULTS.pendingStartsMax) {
      const oldest = this.pendingStarts.keys().next().value as string
      this.pendingStarts.delete(oldest) // shed the oldest: a latency sample lost, nothing else
    }
    this.pendingStarts.set(id, { service, startedAtMs })
  }

  private notePendingStarts (containers: readonly ObservedContainer[]): void {
    if (this.pendingStarts.size === 0) return
    const now = this.clock()
    const byId = new Map(containers.map(c => [c.id, c]))
    for (const [id, p] of this.pendingStarts) {
      const c = byId.get(id)
      if (c?.state === 'running') {
        this.metrics.startLatency(Math.max(0, now - p.startedAtMs) / 1000, p.service)
        this.pendingStarts.delete(id)
      } else if (c === undefined || c.state === 'exited') {
        this.metrics.startFailed(p.service)
        this.pendingStarts.delete(id)
      }
    }
  }

  private noteFailure (e: RuntimeError): void {
    if (this.ok) this.log.warn({ runtime: this.name, code: e.code, err: e.message }, 'container runtime unavailable')
    this.ok = false
    this.failures++
    this.lastError = e
    this.metrics.runtimeUp(false)
    this.scheduleRetry()
  }

  private scheduleRetry (): void {
    if (this.retryTimer !== undefined) return
    const min = this.init.retryMsMin ?? RUNTIME_DEFAULTS.observeRetryMsMin
    const max = this.init.retryMsMax ?? RUNTIME_DEFAULTS.observeRetryMsMax
    const delayMs = Math.min(max, min * 2 ** Math.min(30, Math.max(0, this.failures - 1)))
    this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.emitChange() }, delayMs)
    this.retryTimer.unref()
  }

  private emitChange (): void {
    for (const l of [...this.listeners]) {
      try { l() } catch (err) { this.log.warn({ err: (err as Error).message }, 'runtime change listener threw') }
    }
  }
}

export function asRuntimeError (err: unknown): RuntimeError {
  if (err instanceof RuntimeError) return err
  return new RuntimeError(RuntimeErrorCode.Failed, (err as Error | null)?.message ?? String(err), { cause: err })
}
