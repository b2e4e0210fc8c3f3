/**
 * A small deterministic cluster of cores for tests: one seeded event queue, a network that
 * delivers each published message to every other live host of the topic after a random delay
 * (so hosts see messages in different orders), optional loss and partitions, and an in-memory
 * container runtime that applies actions at once. Every message goes through the real codec.
 *
 * A global observer records every leader election, to check that no two hosts ever lead the
 * same site in the same term.
 */
import { decodeMessage, encodeMessage, type Capacity, type SignalSample } from '../../protocol/index.js'
import { BinaryHeap } from '../../node/core/binary-heap.js'
import { DEFAULT_TIMINGS, type CoreTimings } from '../../node/core/config.js'
import type { CoreEvent, CoreOutput, PersistentState, Topic } from '../../node/core/core-io.js'
import { OWNER_LABELS, type ObservedContainer } from '../../node/core/reconcile.js'
import { Rng } from '../../node/core/rng.js'
import type { ServiceSpec } from '../../node/core/service-spec.js'
import { SupervisorCore } from '../../node/core/supervisor-core.js'

export interface HostSpec {
  hostId: string
  site: string
  priority?: number
  slots?: number
  labels?: Record<string, string>
}

export interface ClusterOptions {
  seed: number
  hosts: HostSpec[]
  services?: ServiceSpec[]
  timings?: Partial<CoreTimings>
  /** Delivery delay drawn uniformly from [min, max] ms, per message and receiver. */
  delayMs?: [number, number]
  /** Probability that one delivery is lost. */
  lossRate?: number
}

interface Host {
  spec: HostSpec
  core: SupervisorCore
  up: boolean
  incarnation: number
  containers: ObservedContainer[]
  nextContainer: number
  tickGeneration: number
  events: CoreEvent[]
  signals: SignalSample[]
  /** What the core last asked to persist: survives crashes, like a state file. */
  persisted: PersistentState | undefined
  /** Services this host's runtime cannot start (their secrets cannot be read, say): starts of them fail. */
  unavailable: string[]
  /** Messages delivered to this host's core, every topic, since the cluster began. */
  received: number
}

const SAMPLE_INTERVAL_MS = 500

type QueueItem = { atMs: number, order: number, run: () => void }

export interface Election { site: string, term: number, leaderId: string, atMs: number }

export class Cluster {
  nowMs = 0
  readonly hosts = new Map<string, Host>()
  readonly elections: Election[] = []
  /** (site, term) pairs that had two different leaders: must stay empty. */
  readonly violations: string[] = []
  private readonly queue = new BinaryHeap<QueueItem>((a, b) => a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order))
  private order = 0
  private readonly rng: Rng
  private readonly timings: CoreTimings
  /** Host id → partition group; hosts in different groups cannot talk. */
  private readonly group = new Map<string, number>()
  private readonly leaderOf = new Map<string, string>()

  constructor (private readonly opts: ClusterOptions) {
    this.rng = new Rng(opts.seed)
    this.timings = { ...DEFAULT_TIMINGS, ...opts.timings }
    for (const spec of opts.hosts) {
      this.hosts.set(spec.hostId, {
        spec, core: undefined as unknown as SupervisorCore, up: false, incarnation: 0, containers: [],
        nextContainer: 0, tickGeneration: 0, events: [], signals: [], persisted: undefined, unavailable: [], received: 0,
      })
      this.start(spec.hostId)
    }
  }

  host (hostId: string): Host {
    const h = this.hosts.get(hostId)
    if (h === undefined) throw new Error(`no host ${hostId}`)
    return h
  }

  // ---- faults ------------------------------------------------------------------------------

  start (hostId: string): void {
    const h = this.host(hostId)
    h.incarnation++
    h.up = true
    h.events = []
    h.core = new SupervisorCore({
      hostId, site: h.spec.site, incarnation: h.incarnation,
      labels: new Map(Object.entries(h.spec.labels ?? {})), priority: h.spec.priority ?? 0,
      capacity: capacity(h.spec.slots ?? 8), services: this.opts.services ?? [], timings: this.timings,
      seed: this.rng.int(2 ** 31), startMs: this.nowMs, persisted: h.persisted,
      bootstrapExpect: [...this.hosts.values()].filter(o => o.spec.site === h.spec.site).length,
    })
    this.input(h, { type: 'observed', containers: h.containers, runtimeOk: true, unavailable: h.unavailable })
    this.schedulePoll(h, h.incarnation)
  }

  /**
   * Like a real shell: every SAMPLE_INTERVAL_MS, read the signal sources again (fresh samples)
   * and observe the runtime (so exited containers are noticed without an event).
   */
  private schedulePoll (h: Host, incarnation: number): void {
    this.schedule(this.nowMs + SAMPLE_INTERVAL_MS, () => {
      if (!h.up || h.incarnation !== incarnation) return
      if (h.signals.length > 0) this.input(h, { type: 'samples', signals: h.signals, capacity: capacity(h.spec.slots ?? 8) })
      this.input(h, { type: 'observed', containers: h.containers, runtimeOk: true, unavailable: h.unavailable })
      this.schedulePoll(h, incarnation)
    })
  }

  /** Crash: the process is gone; peers get a disconnect hint only when `hint` is set. */
  crash (hostId: string, hint = false): void {
    const h = this.host(hostId)
    h.up = false
    h.tickGeneration++
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
    h.unavailable = services
    this.input(h, { type: 'observed', containers: h.containers, runtimeOk: true, unavailable: h.unavailable })
  }

  /** A container of the host exits and is gone (a crash its runtime cleaned up). */
  loseContainer (hostId: string, service: string): void {
    const h = this.host(hostId)
    const victim = h.containers.find(c => c.labels[OWNER_LABELS.service] === service)
    if (victim === undefined) throw new Error(`${hostId} runs no ${service}`)
    h.containers = h.containers.filter(c => c !== victim)
    this.input(h, { type: 'observed', containers: h.containers, runtimeOk: true, unavailable: h.unavailable })
  }

  setSignal (hostId: string, service: string, value: number, upstream = false): void {
    const h = this.host(hostId)
    h.signals = [...h.signals.filter(s => s.service !== service), { service, value, ageMs: 0, upstream }]
    this.input(h, { type: 'samples', signals: h.signals, capacity: capacity(h.spec.slots ?? 8) })
  }

  // ---- running -----------------------------------------------------------------------------

  runUntil (tMs: number): void {
    for (;;) {
      const next = this.queue.pop()
      if (next === undefined) break
      if (next.atMs > tMs) { this.queue.push(next); break }
      this.nowMs = next.atMs
      next.run()
    }
    this.nowMs = tMs
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

  /** Leaders as each live host sees itself. */
  currentLeaders (site?: string): { hostId: string, term: number }[] {
    const out = []
    for (const h of this.hosts.values()) {
      if (h.up && h.core.currentRole === 'leader' && (site === undefined || h.spec.site === site)) out.push({ hostId: h.spec.hostId, term: h.core.currentTerm })
    }
    return out
  }

  /** The leader every live host of the site agrees on, or undefined. */
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

  private schedule (atMs: number, run: () => void): void {
    this.queue.push({ atMs, order: this.order++, run })
  }

  private connected (a: string, b: string): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0)
  }

  private input (h: Host, input: Parameters<SupervisorCore['handle']>[0]): void {
    if (!h.up) return
    h.core.handle(input, this.nowMs)
    this.drain(h)
  }

  private drain (h: Host): void {
    let observe = false
    for (const out of h.core.drainOutputs()) {
      observe = this.perform(h, out) || observe
    }
    if (observe) {
      const gen = h.incarnation
      this.schedule(this.nowMs + 1, () => {
        if (h.incarnation === gen) this.input(h, { type: 'observed', containers: h.containers, runtimeOk: true, unavailable: h.unavailable })
      })
    }
    this.scheduleTick(h)
  }

  private scheduleTick (h: Host): void {
    const gen = ++h.tickGeneration
    const at = Math.max(this.nowMs, h.core.nextDeadlineMs())
    this.schedule(at, () => { if (h.tickGeneration === gen) this.input(h, { type: 'tick' }) })
  }

  /** Performs one output; returns true when the runtime should be observed again. */
  private perform (h: Host, out: CoreOutput): boolean {
    switch (out.type) {
      case 'publish': this.deliver(h, out.message.site, out.topic, encodeMessage(out.message)); return false
      case 'event': this.observeEvent(h, out.event); return false
      case 'observe': return true
      case 'persist': h.persisted = out.state; return false
      case 'action': {
        const a = out.action
        if (a.type === 'start') {
          if (h.unavailable.includes(a.service)) return true // the start fails, as a daemon's would
          h.containers = [...h.containers, {
            id: `${h.spec.hostId}-c${h.nextContainer++}`, state: 'running', createdAt: this.nowMs,
            labels: { [OWNER_LABELS.service]: a.service, [OWNER_LABELS.site]: h.spec.site, [OWNER_LABELS.host]: h.spec.hostId, [OWNER_LABELS.term]: String(a.term) },
          }]
        } else {
          h.containers = h.containers.filter(c => c.id !== a.containerId)
        }
        return true
      }
    }
  }

  /** `leader`: only to hosts of the site that lead when it is sent (as the daemon's leader topic). */
  private deliver (from: Host, site: string, topic: Topic, bytes: Uint8Array): void {
    const [min, max] = this.opts.delayMs ?? [1, 20]
    for (const to of this.hosts.values()) {
      if (to === from || !to.up || (topic !== 'global' && to.spec.site !== site)) continue
      if (topic === 'leader' && to.core.currentRole !== 'leader') continue
      if (!this.connected(from.spec.hostId, to.spec.hostId)) continue
      if (this.rng.next() < (this.opts.lossRate ?? 0)) continue
      const delay = min + this.rng.int(max - min + 1)
      const gen = to.incarnation
      this.schedule(this.nowMs + delay, () => {
        if (to.incarnation !== gen || !this.connected(from.spec.hostId, to.spec.hostId)) return
        if (to.up) to.received++
        this.input(to, { type: 'message', message: decodeMessage(bytes) })
      })
    }
  }

  private observeEvent (h: Host, event: CoreEvent): void {
    h.events.push(event)
    if (event.kind !== 'leader-elected') return
    const key = `${h.spec.site}/${event.term}`
    const prior = this.leaderOf.get(key)
    if (prior !== undefined && prior !== event.leaderId) this.violations.push(`${key}: ${prior} and ${event.leaderId}`)
    this.leaderOf.set(key, event.leaderId)
    this.elections.push({ site: h.spec.site, term: event.term, leaderId: event.leaderId, atMs: this.nowMs })
  }
}

export function capacity (slots: number): Capacity {
  return { slots, cpuMillis: slots * 1000, memoryMib: slots * 512 }
}

export function siteHosts (site: string, n: number, extra: Partial<HostSpec> = {}): HostSpec[] {
  return Array.from({ length: n }, (_, i) => ({ hostId: `${site}-h${i}`, site, ...extra }))
}
