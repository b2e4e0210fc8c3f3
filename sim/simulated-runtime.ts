/**
 * The simulated container runtime of every host (a stand-in for Docker: containers are
 * records, not processes). `SimulatedRuntime` implements the same port as the daemon's
 * runtimes (`ContainerRuntime`, node/core/ports.ts), answering at once (the simulator runs in
 * one synchronous event loop), and passes the same contract suite (test/contracts/). Starting takes a log-normal latency drawn per site kind, and may
 * fail (the container exits when its start would have finished); a running container may
 * crash (exponential, mean crashMtbf). Stopping is applied at once: the real shell stops a
 * container and waits for it before it performs the next action, so a stop never overlaps the
 * start that follows it. A stopped Docker engine keeps its containers running (live-restore)
 * but cannot start or stop any. A machine crash loses every container of the host.
 *
 * Containers are immutable records: a state change replaces the record, so the lists a core
 * was handed keep describing what it observed.
 */
import { CodedError } from '../protocol/errors.js'
import type { CoreInput } from '../node/core/core-io.js'
import type { ContainerRuntime, RuntimeObservation, RuntimePortErrorCode } from '../node/core/ports.js'
import { OWNER_LABELS, type ContainerAction, type ContainerState, type ObservedContainer } from '../node/core/reconcile.js'
import type { Rng } from '../node/core/rng.js'
import type { StartLatencySpec } from './scenario.js'

export interface SimContainer extends ObservedContainer {
  /** Load pair (site, service) the container serves. */
  readonly pair: number
  readonly slots: number
}

/** 99th percentile of the standard normal. */
const Z99 = 2.3263

/** Log-normal draw with the given median and 99th percentile (Box–Muller from the seeded rng). */
export function logNormalMs (spec: StartLatencySpec, rng: Rng): number {
  const sigma = Math.log(Math.max(spec.p99Ms, spec.medianMs) / spec.medianMs) / Z99
  const u1 = Math.max(1e-12, rng.next())
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next())
  return Math.max(1, Math.round(spec.medianMs * Math.exp(sigma * z)))
}

export function ownerLabels (service: string, site: string, hostId: string, term: number): Record<string, string> {
  return { [OWNER_LABELS.service]: service, [OWNER_LABELS.site]: site, [OWNER_LABELS.host]: hostId, [OWNER_LABELS.term]: String(term) }
}

export function withState (c: SimContainer, state: ContainerState): SimContainer {
  return { ...c, state }
}

/** Fleet-wide counters the load model and the figures read. */
export class ContainerLedger {
  /** Running replicas per load pair (serving load). */
  readonly running: Int32Array
  /** Containers that exist (starting or running) anywhere: what costs money. */
  live = 0
  private lastMs = 0
  /** Integral of `live` over time, in container-milliseconds. */
  containerMs = 0

  /**
   * `pairs` counters; from `foreignFrom` on they count another site's pairs (overflow run here
   * for it, in a sharded run), and every change of those is told to `onForeignRunning`.
   */
  constructor (pairs: number, private readonly foreignFrom = pairs, private readonly onForeignRunning?: (pair: number, delta: number) => void) {
    this.running = new Int32Array(pairs)
  }

  /** Call before any change of `live`, with the time of the change. */
  accrue (nowMs: number): void {
    this.containerMs += this.live * (nowMs - this.lastMs)
    this.lastMs = nowMs
  }

  /** Bookkeeping for one container changing state (undefined = did not exist / no longer exists). */
  change (c: SimContainer, from: ContainerState | undefined, to: ContainerState | undefined, nowMs: number): void {
    const wasLive = from === 'starting' || from === 'running'
    const isLive = to === 'starting' || to === 'running'
    if (wasLive !== isLive) {
      this.accrue(nowMs)
      this.live += isLive ? 1 : -1
    }
    const delta = (to === 'running' ? 1 : 0) - (from === 'running' ? 1 : 0)
    if (delta === 0) return
    this.running[c.pair] += delta
    if (c.pair >= this.foreignFrom) this.onForeignRunning?.(c.pair, delta)
  }
}

/** The core's input for what a runtime port observed. */
export function observedInput (o: RuntimeObservation): CoreInput {
  return { type: 'observed', containers: o.containers, runtimeOk: o.ok, ...(o.unavailable === undefined ? {} : { unavailable: o.unavailable }) }
}

/** What one simulated runtime needs of the simulated world. */
export interface SimulatedRuntimeComponents {
  /** The simulated clock, ms. */
  now: () => number
  /** Runs `fn` at `atMs` on the simulation's event queue (in time order, then in scheduling order). */
  at: (atMs: number, fn: () => void) => void
  /** How long the next start takes and whether it fails (drawn from the seeded container stream, in this order). */
  drawStart: () => { latencyMs: number, fails: boolean }
  /** Ms until a container that just started running crashes; undefined: not within the run. */
  drawCrashAfterMs: () => number | undefined
  /** Fleet counters (the simulation's figures); none in a small site. */
  ledger?: ContainerLedger
  /** A container reached running (the simulation's reaction-time figure). */
  onRunning?: (c: SimContainer) => void
}

export interface SimulatedRuntimeInit {
  hostId: string
  site: string
  /** The services this host has a spec for: their load pair and the slots one replica takes (a Map will do). */
  services: { get: (service: string) => { pair: number, slots: number } | undefined }
}

/** A port failure, with the code the daemon's runtimes use for it. */
export class SimulatedRuntimeError extends CodedError<RuntimePortErrorCode> {
  override readonly name = 'SimulatedRuntimeError'
}

/**
 * One host's simulated runtime (see the header). A machine crash (`machineCrashed`) loses
 * every container: events of containers from before it are void (the boot epoch).
 */
export class SimulatedRuntime implements ContainerRuntime {
  readonly name = 'simulated'
  /** Test only (the over-capacity bug): containers created per start action. */
  startsPerAction = 1
  private list: SimContainer[] = []
  private ok = true
  private epoch = 0
  private nextId = 0
  private unavailableNow: string[] = []
  private readonly listeners: Array<() => void> = []

  constructor (private readonly init: SimulatedRuntimeInit, private readonly c: SimulatedRuntimeComponents) {}

  /** What exists now, in creation order (an immutable list, replaced on every change). */
  get containers (): readonly SimContainer[] { return this.list }

  get reachable (): boolean { return this.ok }

  /** Slots taken by containers that exist (starting or running). */
  usedSlots (): number {
    let used = 0
    for (const x of this.list) if (x.state !== 'exited') used += x.slots
    return used
  }

  observe (): RuntimeObservation {
    const o: RuntimeObservation = { containers: this.list.slice(), ok: this.ok }
    if (this.unavailableNow.length > 0) o.unavailable = this.unavailableNow.slice()
    return o
  }

  apply (action: ContainerAction): void {
    if (!this.ok) throw new SimulatedRuntimeError('E_RUNTIME_UNAVAILABLE', `runtime of ${this.init.hostId} is stopped`)
    switch (action.type) {
      case 'start': return this.startContainers(action.service, action.term)
      case 'stop':
        if (this.setState(action.containerId, 'exited')) this.emitChange()
        return
      case 'remove': {
        const x = this.list.find(y => y.id === action.containerId)
        if (x === undefined) return // already gone: not a failure
        this.c.ledger?.change(x, x.state, undefined, this.c.now())
        this.list = this.list.filter(y => y !== x)
      }
    }
  }

  onChange (listener: () => void): () => void {
    this.listeners.push(listener)
    return () => { const i = this.listeners.indexOf(listener); if (i >= 0) this.listeners.splice(i, 1) }
  }

  /** The engine stops (containers keep running, live-restore) or comes back; true when that changed anything. */
  setReachable (ok: boolean): boolean {
    if (this.ok === ok) return false
    this.ok = ok
    return true
  }

  /** Services this host cannot start from now on (their secrets cannot be read, say), carried in observations. */
  setUnavailable (services: readonly string[]): void {
    this.unavailableNow = [...services].sort()
  }

  /** The machine crashed: every container is lost, and the engine comes back with the machine. */
  machineCrashed (): void {
    this.epoch++
    const now = this.c.now()
    for (const x of this.list) this.c.ledger?.change(x, x.state, undefined, now)
    this.list = []
    this.ok = true
  }

  /** A container exits by itself (crashed, killed behind the supervisor's back); false when it did not run. */
  exit (id: string): boolean {
    if (!this.setState(id, 'exited')) return false
    this.emitChange()
    return true
  }

  private startContainers (service: string, term: number): void {
    const s = this.init.services.get(service)
    if (s === undefined) throw new SimulatedRuntimeError('E_RUNTIME_UNKNOWN_SERVICE', `no spec for service ${service}`)
    if (this.unavailableNow.includes(service)) throw new SimulatedRuntimeError('E_RUNTIME_START_FAILED', `${this.init.hostId} cannot start ${service} now`)
    const now = this.c.now()
    for (let i = 0; i < this.startsPerAction; i++) {
      const x: SimContainer = {
        id: `${this.init.hostId}/c${this.nextId++}`, labels: ownerLabels(service, this.init.site, this.init.hostId, term),
        state: 'starting', createdAt: now, pair: s.pair, slots: s.slots,
      }
      this.list = [...this.list, x]
      this.c.ledger?.change(x, undefined, 'starting', now)
      const { latencyMs, fails } = this.c.drawStart()
      const epoch = this.epoch
      this.c.at(now + latencyMs, () => this.ready(x.id, fails, epoch))
    }
  }

  private ready (id: string, fails: boolean, epoch: number): void {
    if (epoch !== this.epoch || !this.setState(id, fails ? 'exited' : 'running')) return
    if (!fails) {
      this.c.onRunning?.(this.list.find(x => x.id === id)!)
      const after = this.c.drawCrashAfterMs()
      if (after !== undefined) this.c.at(this.c.now() + after, () => { if (epoch === this.epoch) this.exit(id) })
    }
    this.emitChange()
  }

  /** Replaces the record of a container that has not exited; false when there is none or nothing changes. */
  private setState (id: string, state: ContainerState): boolean {
    const i = this.list.findIndex(x => x.id === id)
    if (i < 0 || this.list[i].state === state || this.list[i].state === 'exited') return false
    const x = this.list[i]
    this.c.ledger?.change(x, x.state, state, this.c.now())
    const next = this.list.slice()
    next[i] = withState(x, state)
    this.list = next
    return true
  }

  private emitChange (): void {
    for (const l of this.listeners) l()
  }
}
