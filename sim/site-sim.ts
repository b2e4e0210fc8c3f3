/**
 * A small deterministic site (or a few) of real supervisor cores, for tests that drive the
 * core through faults by hand: the simulator's parts without a scenario. Each host has the
 * simulator's runtime and transport (the ports of node/core/ports.ts, as the daemon has its
 * own), on one seeded event queue.
 *
 * The network is simple on purpose: every publish reaches every other running host of the
 * topic (its site, every site for `global`, the site's leading hosts for `leader`) after a delay drawn uniformly from `delayMs`, so
 * hosts see messages in different orders; each copy is lost with probability `lossRate`;
 * hosts in different partition groups cannot talk. Every message goes through the real codec
 * (one it refuses is dropped and kept as a violation, message-encodable). The scenario simulator
 * (simulation.ts) models gossipsub instead, for sites of thousands.
 *
 * Containers start after `startLatencyMs` and never fail or crash unless told (`exit`).
 * Each host reads its signals and observes its runtime every SAMPLE_INTERVAL_MS (as the
 * daemon's driver does), and observes shortly after every runtime change.
 *
 * The simulator's observer checks, as the run goes: at most one leader per site and term, a
 * host's containers within its slots, no start for a term other than the host's own or a
 * term without a leader, and every published message encodable. The first violation is kept in `violations`.
 */
import { decodeMessage, encodeMessage, type Capacity, type Message, type SignalSample } from '../protocol/index.js'
import { DEFAULT_TIMINGS, type CoreTimings } from '../node/core/config.js'
import type { CoreEvent, CoreInput, CoreOutput, PersistentState, Topic } from '../node/core/core-io.js'
import { OWNER_LABELS } from '../node/core/reconcile.js'
import { Rng } from '../node/core/rng.js'
import type { ServiceSpec } from '../node/core/service-spec.js'
import { SupervisorCore } from '../node/core/supervisor-core.js'
import { EventQueue } from './event-queue.js'
import { Observer } from './observer.js'
import { observedInput, SimulatedRuntime, SimulatedRuntimeError, type SimContainer } from './simulated-runtime.js'
import { SimulatedTransport } from './simulated-transport.js'

export interface SiteHostSpec {
  hostId: string
  site: string
  priority?: number
  /** Agent slots (default DEFAULT_SLOTS). */
  slots?: number
  labels?: Record<string, string>
}

export interface SiteSimOptions {
  seed: number
  hosts: SiteHostSpec[]
  services?: ServiceSpec[]
  timings?: Partial<CoreTimings>
  /** Delivery delay drawn uniformly from [min, max] ms, per message and receiver (default [1, 20]). */
  delayMs?: [number, number]
  /** Probability that one copy of a message is lost (default 0). */
  lossRate?: number
  /** From a start to the container running, ms (default 0: in the same millisecond, after the action). */
  startLatencyMs?: number
  /**
   * Test only: cores start without bootstrapExpect (the daemon always sets it), so a test can
   * show that its seed reaches the situation bootstrapExpect guards against.
   */
  withoutBootstrapExpect?: boolean
}

/** How often each host reads its signals and observes its runtime, ms. */
export const SAMPLE_INTERVAL_MS = 500
/** From a runtime change (or an 'observe' output) to the observation, ms. */
const OBSERVE_DELAY_MS = 1
const DEFAULT_SLOTS = 8
const DEFAULT_DELAY_MS: [number, number] = [1, 20]

export interface SiteSimHost {
  readonly spec: SiteHostSpec
  /** The current supervisor's core (a new one on every start). */
  core: SupervisorCore
  /** The supervisor runs. Its machine, runtime and containers stay when it crashes. */
  up: boolean
  incarnation: number
  readonly runtime: SimulatedRuntime
  readonly transport: SimulatedTransport
  /** What the current core reported, in order. */
  events: CoreEvent[]
  /** What the host's signal sources read now (fed every SAMPLE_INTERVAL_MS and on change). */
  signals: SignalSample[]
  /** What the core last asked to persist: survives crashes, like a state file. */
  persisted: PersistentState | undefined
  /** Actions the runtime refused (an unavailable service, say). */
  failedActions: number
  /** Containers the runtime holds now. */
  readonly containers: readonly SimContainer[]
  /** The driver's own state (when the core's next tick is booked; an observation is booked): read, never set. */
  tickAtMs: number
  observePending: boolean
  /** Messages delivered to this host's cores, every topic, since the sim began (a member's cost). */
  received: number
}

export interface Election { site: string, term: number, leaderId: string, atMs: number }

export class SiteSim {
  readonly hosts = new Map<string, SiteSimHost>()
  readonly elections: Election[] = []
  readonly observer = new Observer()
  private readonly queue = new EventQueue<() => void>()
  private readonly rng: { cores: Rng, net: Rng }
  private readonly timings: CoreTimings
  /** Host id → partition group; hosts in different groups cannot talk. */
  private readonly group = new Map<string, number>()

  constructor (private readonly opts: SiteSimOptions) {
    const root = new Rng(opts.seed)
    this.rng = { cores: root.fork(1), net: root.fork(2) }
    this.timings = { ...DEFAULT_TIMINGS, ...opts.timings }
    const services = new Map((opts.services ?? []).map((s, i) => [s.name, { pair: i, slots: s.slotsPerReplica }]))
    for (const spec of opts.hosts) this.hosts.set(spec.hostId, this.newHost(spec, services))
    for (const spec of opts.hosts) this.start(spec.hostId)
  }

  get nowMs (): number { return this.queue.now }

  /** The invariants that broke (the observer keeps the first): must stay empty. */
  get violations (): string[] {
    const v = this.observer.violation
    return v === undefined ? [] : [`${v.invariant} at ${v.atMs} ms on ${v.host}: ${v.detail}`]
  }

  host (hostId: string): SiteSimHost {
    const h = this.hosts.get(hostId)
    if (h === undefined) throw new Error(`no host ${hostId}`)
    return h
  }

  // ---- faults and inputs -------------------------------------------------------------------

  /** Starts (or restarts) the host's supervisor: a new core, with a higher incarnation and what it persisted. */
  start (hostId: string): void {
    const h = this.host(hostId)
    h.incarnation++
    h.up = true
    h.events = []
    h.tickAtMs = Infinity
    h.observePending = false
    h.core = new SupervisorCore({
      hostId, site: h.spec.site, incarnation: h.incarnation,
      labels: new Map(Object.entries(h.spec.labels ?? {})), priority: h.spec.priority ?? 0,
      capacity: capacity(h.spec.slots ?? DEFAULT_SLOTS), services: this.opts.services ?? [], timings: this.timings,
      seed: this.rng.cores.int(2 ** 31), startMs: this.nowMs, persisted: h.persisted,
      bootstrapExpect: this.opts.withoutBootstrapExpect === true ? undefined : [...this.hosts.values()].filter(o => o.spec.site === h.spec.site).length,
    })
    this.observe(h)
    this.schedulePoll(h, h.incarnation)
  }

  /** The supervisor process dies; peers get a disconnect hint only when `hint` is set. Its containers keep running. */
  crash (hostId: string, hint = false): void {
    const h = this.host(hostId)
    h.up = false
    h.tickAtMs = Infinity
    if (!hint) return
    for (const other of this.hosts.values()) {
      if (other.up && this.connected(hostId, other.spec.hostId)) this.input(other, { type: 'disconnected', hostId })
    }
  }

  /** Splits hosts into groups that cannot reach each other; hosts not listed form group 0. */
  partition (groups: string[][]): void {
    this.group.clear()
    groups.forEach((ids, i) => { for (const id of ids) this.group.set(id, i + 1) })
  }

  heal (): void {
    this.group.clear()
  }

  /** The host's runtime cannot start these services from now on (and says so in its observations). */
  setUnavailable (hostId: string, services: string[]): void {
    const h = this.host(hostId)
    h.runtime.setUnavailable(services)
    this.observe(h)
  }

  /** A container of the service exits and its runtime cleans it up (it is gone). */
  loseContainer (hostId: string, service: string): void {
    const h = this.host(hostId)
    const victim = h.runtime.containers.find(c => c.labels[OWNER_LABELS.service] === service && c.state !== 'exited')
    if (victim === undefined) throw new Error(`${hostId} runs no ${service}`)
    h.runtime.exit(victim.id)
    h.runtime.apply({ type: 'remove', service, containerId: victim.id })
    this.observe(h)
  }

  /** Every container of the host exits by itself (they stay, exited, until the host removes them). */
  exitContainers (hostId: string): void {
    const h = this.host(hostId)
    for (const c of h.runtime.containers) h.runtime.exit(c.id)
  }

  /** The host's signal source reads `value` for the service (or upstream) from now on. */
  setSignal (hostId: string, service: string, value: number, upstream = false): void {
    const h = this.host(hostId)
    h.signals = [...h.signals.filter(s => s.service !== service), { service, value, ageMs: 0, upstream }]
    this.input(h, { type: 'samples', signals: h.signals, capacity: capacity(h.spec.slots ?? DEFAULT_SLOTS) })
  }

  // ---- running -----------------------------------------------------------------------------

  /** Runs every event up to and including `tMs`; the clock then reads `tMs`. */
  runUntil (tMs: number): void {
    this.queue.runUntil(tMs, run => run(), () => false)
  }

  runFor (ms: number): void {
    this.runUntil(this.nowMs + ms)
  }

  /** Runs until `cond` holds, checking every `stepMs`; returns the time it first held, or undefined. */
  runUntilTrue (cond: () => boolean, limitMs: number, stepMs = 10): number | undefined {
    const end = this.nowMs + limitMs
    while (this.nowMs < end) {
      if (cond()) return this.nowMs
      this.runFor(stepMs)
    }
    return cond() ? this.nowMs : undefined
  }

  /** Leaders as each running host sees itself. */
  currentLeaders (site?: string): { hostId: string, term: number }[] {
    const out = []
    for (const h of this.hosts.values()) {
      if (h.up && h.core.currentRole === 'leader' && (site === undefined || h.spec.site === site)) out.push({ hostId: h.spec.hostId, term: h.core.currentTerm })
    }
    return out
  }

  /** The leader every running host of the site agrees on, or undefined. */
  agreedLeader (site: string): string | undefined {
    let agreed: string | undefined
    for (const h of this.hosts.values()) {
      if (!h.up || h.spec.site !== site) continue
      const l = h.core.currentLeaderId
      if (l === '' || (agreed !== undefined && l !== agreed)) return undefined
      agreed = l
    }
    const leader = agreed === undefined ? undefined : this.hosts.get(agreed)
    return leader?.up === true && leader.core.currentRole === 'leader' ? agreed : undefined
  }

  // ---- the driver --------------------------------------------------------------------------

  private newHost (spec: SiteHostSpec, services: ReadonlyMap<string, { pair: number, slots: number }>): SiteSimHost {
    const startLatencyMs = this.opts.startLatencyMs ?? 0
    const runtime = new SimulatedRuntime({ hostId: spec.hostId, site: spec.site, services }, {
      now: () => this.nowMs,
      at: (atMs, fn) => this.queue.push(atMs, fn),
      drawStart: () => ({ latencyMs: startLatencyMs, fails: false }),
      drawCrashAfterMs: () => undefined,
    })
    const h: SiteSimHost = {
      spec, core: undefined as unknown as SupervisorCore, up: false, incarnation: 0, runtime,
      transport: new SimulatedTransport((topic, m, to) => this.publish(h, topic, m, to)),
      events: [], signals: [], persisted: undefined, failedActions: 0,
      get containers () { return runtime.containers },
      tickAtMs: Infinity, observePending: false, received: 0,
    }
    runtime.onChange(() => this.scheduleObserve(h))
    h.transport.onMessage((_topic, message) => this.input(h, { type: 'message', message }))
    return h
  }

  /** Like a real shell: read the signal sources again and observe the runtime, every SAMPLE_INTERVAL_MS. */
  private schedulePoll (h: SiteSimHost, incarnation: number): void {
    this.queue.push(this.nowMs + SAMPLE_INTERVAL_MS, () => {
      if (!h.up || h.incarnation !== incarnation) return
      if (h.signals.length > 0) this.input(h, { type: 'samples', signals: h.signals, capacity: capacity(h.spec.slots ?? DEFAULT_SLOTS) })
      this.observe(h)
      this.schedulePoll(h, incarnation)
    })
  }

  private observe (h: SiteSimHost): void {
    this.input(h, observedInput(h.runtime.observe()))
  }

  private scheduleObserve (h: SiteSimHost): void {
    if (h.observePending || !h.up) return
    h.observePending = true
    const incarnation = h.incarnation
    this.queue.push(this.nowMs + OBSERVE_DELAY_MS, () => {
      if (h.incarnation !== incarnation) return
      h.observePending = false
      if (h.up) this.observe(h)
    })
  }

  /** Feeds one input, performs the outputs in order, and books the next tick no later than the core's deadline. */
  private input (h: SiteSimHost, input: CoreInput): void {
    if (!h.up) return
    const core = h.core
    core.handle(input, this.nowMs)
    for (const out of core.drainOutputs()) this.perform(h, out)
    if (h.core !== core || !h.up) return
    let d = core.nextDeadlineMs()
    if (d <= this.nowMs) d = input.type === 'tick' ? this.nowMs + 1 : this.nowMs
    if (d >= h.tickAtMs) return
    h.tickAtMs = d
    const incarnation = h.incarnation
    this.queue.push(d, () => {
      if (h.incarnation !== incarnation || h.tickAtMs !== d || !h.up) return
      h.tickAtMs = Infinity
      this.input(h, { type: 'tick' })
    })
  }

  private perform (h: SiteSimHost, out: CoreOutput): void {
    switch (out.type) {
      case 'publish': h.transport.publish(out.topic, out.message, out.to); return
      case 'event': this.noteEvent(h, out.event); return
      case 'observe': this.scheduleObserve(h); return
      case 'persist': h.persisted = out.state; return
      case 'action': {
        const a = out.action
        if (a.type === 'start') this.observer.startExecuted(h.spec.site, h.spec.hostId, a.term, h.core.currentTerm, this.nowMs)
        try {
          h.runtime.apply(a)
        } catch (err) {
          if (!(err instanceof SimulatedRuntimeError)) throw err
          h.failedActions++
        }
        this.observer.capacity(h.spec.site, h.spec.hostId, h.runtime.usedSlots(), h.spec.slots ?? DEFAULT_SLOTS, this.nowMs)
        this.scheduleObserve(h)
      }
    }
  }

  /**
   * The network: every other running host of the topic, seeded delay and loss, through the codec.
   * `leader`: only the hosts of the site that lead when it is sent (the daemon's leader inbox
   * topic, which only a leading host subscribes to). `addressee`: that host alone (the daemon
   * reaches it directly when connected to it).
   */
  private publish (from: SiteSimHost, topic: Topic, message: Message, addressee?: string): void {
    let bytes: Uint8Array
    try {
      bytes = encodeMessage(message)
    } catch (err) {
      // A transport never throws at its publisher (the port): the message is dropped, and the
      // observer keeps it as a broken invariant, as the scenario simulator does.
      this.observer.fail({ invariant: 'message-encodable', atMs: this.nowMs, site: from.spec.site, host: from.spec.hostId, detail: `${message.body.kind}: ${(err as Error).message}` })
      return
    }
    const [min, max] = this.opts.delayMs ?? DEFAULT_DELAY_MS
    const loss = this.opts.lossRate ?? 0
    const site = message.site
    for (const to of this.hosts.values()) {
      if (to === from || !to.up || (topic !== 'global' && to.spec.site !== site)) continue
      if (topic === 'leader' && to.core.currentRole !== 'leader') continue
      if (addressee !== undefined && to.spec.hostId !== addressee) continue
      if (!this.connected(from.spec.hostId, to.spec.hostId)) continue
      if (this.rng.net.next() < loss) continue
      const delay = min + this.rng.net.int(max - min + 1)
      const incarnation = to.incarnation
      this.queue.push(this.nowMs + delay, () => {
        if (!to.up || to.incarnation !== incarnation || !this.connected(from.spec.hostId, to.spec.hostId)) return
        to.received++
        to.transport.receive(topic, decodeMessage(bytes))
      })
    }
  }

  private connected (a: string, b: string): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0)
  }

  private noteEvent (h: SiteSimHost, event: CoreEvent): void {
    h.events.push(event)
    if (event.kind !== 'leader-elected') return
    this.observer.leaderElected(h.spec.site, event.term, event.leaderId, this.nowMs)
    this.elections.push({ site: h.spec.site, term: event.term, leaderId: event.leaderId, atMs: this.nowMs })
  }
}

export function capacity (slots: number): Capacity {
  return { slots, cpuMillis: slots * 1000, memoryMib: slots * 512 }
}

export function siteHosts (site: string, n: number, extra: Partial<SiteHostSpec> = {}): SiteHostSpec[] {
  return Array.from({ length: n }, (_, i) => ({ hostId: `${site}-h${i}`, site, ...extra }))
}
