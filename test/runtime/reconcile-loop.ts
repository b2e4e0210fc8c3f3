/**
 * A level-triggered reconcile loop over a `RuntimeDriver`, for the runtime tests: one pass at
 * a time, observe → callback (the test's reconcile) → apply the actions in order → observe
 * again, until a pass yields no action; a pass is triggered by runtime events, by the driver's
 * backoff retries, by `request()`, and by a periodic resync. The daemon does not use it: its
 * `Driver` (node/daemon/driver.ts) serialises actions and observations the same way for the
 * core. Like the daemon's driver it yields to the event loop between passes.
 */
import { pino, type Logger } from 'pino'
import type { ContainerAction } from '../../node/core/reconcile.js'
import type { RuntimeObservation } from '../../node/core/ports.js'
import { RUNTIME_DEFAULTS, type RuntimeError } from '../../node/runtime/container-runtime.js'
import { asRuntimeError, type RuntimeDriver } from '../../node/runtime/runtime-driver.js'

/** Feeds one observation to the decision-maker and gets the actions to take back. */
export type ReconcileCallback = (observation: RuntimeObservation) => ContainerAction[] | Promise<ContainerAction[]>

export interface ReconcileLoopInit {
  /** Re-observe at least this often, ms. */
  resyncIntervalMs?: number
  /** Most passes in a row that yield actions before the loop waits for the next trigger. */
  passesMax?: number
}

export interface ReconcileLoopComponents {
  driver: RuntimeDriver
  reconcile: ReconcileCallback
  log?: Logger
}

/** One pass of the loop, for tests and status. */
export interface ReconcilePass {
  observation: RuntimeObservation
  actions: ContainerAction[]
  failed: Array<{ action: ContainerAction, error: RuntimeError }>
}

export class ReconcileLoop {
  private readonly abort = new AbortController()
  private readonly passListeners = new Set<(pass: ReconcilePass) => void>()
  private wake: (() => void) | undefined
  private dirty = true
  private running = false
  private loopDone: Promise<void> = Promise.resolve()
  private resyncTimer: NodeJS.Timeout | undefined
  private unsubscribe: (() => void) | undefined
  private readonly log: Logger

  constructor (private readonly c: ReconcileLoopComponents, private readonly init: ReconcileLoopInit = {}) {
    this.log = c.log ?? pino({ level: 'silent' })
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.unsubscribe = this.c.driver.onChange(() => this.request())
    const resyncMs = this.init.resyncIntervalMs ?? RUNTIME_DEFAULTS.resyncIntervalMs
    this.resyncTimer = setInterval(() => this.request(), resyncMs)
    this.loopDone = this.run()
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    this.unsubscribe?.()
    clearInterval(this.resyncTimer)
    this.abort.abort()
    this.wake?.()
    await this.loopDone
  }

  /** Asks for a pass soon (coalesced with any pending request). */
  request (): void {
    this.dirty = true
    this.wake?.()
  }

  /** Called after every pass. Returns the unsubscribe. */
  onPass (listener: (pass: ReconcilePass) => void): () => void {
    this.passListeners.add(listener)
    return () => { this.passListeners.delete(listener) }
  }

  private async run (): Promise<void> {
    while (this.running) {
      if (!this.dirty) await new Promise<void>((resolve) => { this.wake = resolve })
      this.wake = undefined
      if (!this.running) return
      this.dirty = false
      const passesMax = this.init.passesMax ?? 8
      for (let i = 0; i < passesMax && this.running; i++) {
        const acted = await this.pass()
        if (!acted) break
        // A runtime whose calls settle without I/O must not keep timers and sockets waiting.
        await new Promise<void>(resolve => setImmediate(resolve))
      }
    }
  }

  /** One observe → decide → act; true when it took actions (so another pass should follow). */
  private async pass (): Promise<boolean> {
    const signal = this.abort.signal
    let observation: RuntimeObservation
    let actions: ContainerAction[]
    try {
      observation = await this.c.driver.observe(signal)
      actions = await this.c.reconcile(observation)
    } catch (err) {
      if (!this.running) return false
      this.log.warn({ err: (err as Error).message }, 'reconcile pass failed')
      return false
    }
    const failed: ReconcilePass['failed'] = []
    for (const action of actions) {
      if (!this.running) break
      try {
        await this.c.driver.apply(action, signal)
      } catch (err) {
        failed.push({ action, error: asRuntimeError(err) })
        this.log.warn({ action, err: (err as Error).message }, 'container action failed')
      }
    }
    for (const l of [...this.passListeners]) l({ observation, actions, failed })
    // A pass whose every action failed is not repeated at once: the backoff retry or the next
    // event triggers it (no hot loop against a failing engine).
    return actions.length > failed.length
  }
}
