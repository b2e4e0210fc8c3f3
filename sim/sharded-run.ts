/**
 * An agentmesh run sharded by site (see cross-site.ts for why sites can be): every site is a
 * Simulation of its own (its hosts, its event queue, its random streams), and the run advances
 * all of them window by window, each window no longer than the lookahead (the shortest
 * inter-site latency), so that nothing one site sends in a window can reach another site within
 * it. Between windows: what the sites sent each other is put into the receiving queues, in a
 * fixed order; the network changes that fall at the next window's start are applied (windows
 * are cut at them), and faults drawn among every site's hosts are resolved.
 *
 * The sites can be spread over worker_threads (`workers`; shard-worker.ts): each worker runs the
 * same loop over its own sites and exchanges with the others at every window's end (a barrier
 * on shared memory). The result is the same bytes whatever the number of workers: nothing a
 * site does depends on the other sites of its worker, and everything that crosses between sites
 * crosses between windows, in an order that does not depend on the workers.
 */
import { Worker } from 'node:worker_threads'
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads'
import { Rng } from '../node/core/rng.js'
import { byCanonicalOrder, lookaheadMs, type CrossSiteRecord } from './cross-site.js'
import { simAssert, SimError } from './errors.js'
import { shuffle } from './gossip-mesh.js'
import { LoadModel } from './load-model.js'
import { Network } from './network.js'
import type { Violation } from './observer.js'
import { hostIdOf } from './scenario-parse.js'
import type { FaultSpec, LinkSpec, Scenario } from './scenario.js'
import { faultText, Simulation, type Marker, type RunFigures, type RunOptions, type RunSeries } from './simulation.js'
import { MsHistogram } from './stats.js'

/** How long a worker waits at a barrier before it checks again whether the run was aborted, ms. */
const BARRIER_CHECK_MS = 1000
/** Spins before a worker sleeps at a barrier (a window of a small fleet is over in microseconds). */
const BARRIER_SPINS = 2000
/** At most this many markers (as the whole-world run keeps). */
const MAX_MARKERS = 2000

export interface ShardedRunOptions extends Omit<RunOptions, 'shard' | 'onProgress'> {
  /** Worker threads to spread the sites over (1: in this thread). The result does not depend on it. */
  workers: number
  onProgress?: (nowMs: number) => void
}

/** What one site measured, as plain data (it crosses from a worker). */
export interface SiteFigures {
  site: number
  figures: Omit<RunFigures, 'propagation'>
  violatingStepsMs: readonly number[]
  transcripts?: Record<string, string>
}

// ---- the world outside the sites: network changes and faults among every site's hosts ----------

export type WorldChange =
  | { atMs: number, kind: 'partition', groups: number[][] }
  | { atMs: number, kind: 'heal' }
  | { atMs: number, kind: 'degrade', id: number, a: number, b: number, link: Partial<LinkSpec> }
  | { atMs: number, kind: 'restore', id: number, a: number, b: number }
  | { atMs: number, kind: 'uplink', site: number, up: boolean }
  | { atMs: number, kind: 'fleet-fault', fault: FaultSpec }

export interface WorldPlan {
  /** In time order; at one time, in the order the whole-world run schedules them. */
  changes: WorldChange[]
  /** Every fault (and a partition's heal) as the report marks it. */
  markers: Marker[]
}

/**
 * The changes of the world outside the sites, the same in every worker: the partitions, heals
 * and degraded links of the scenario's faults, the uplinks' flaps (drawn up front from the flap
 * stream, as the whole-world run draws them), and the faults drawn among every site's hosts.
 */
export function worldPlan (scenario: Scenario, seed: number, durationMs: number): WorldPlan {
  const streams = runStreams(seed)
  const changes: WorldChange[] = []
  const markers: Marker[] = []
  const mark = (tMs: number, text: string): void => { if (tMs <= durationMs) markers.push({ tMs, kind: 'fault', site: '', text }) }
  const siteIndex = (name: string): number => scenario.sites.findIndex(s => s.name === name)
  const hostIndex = hostIndexOf(scenario)
  let degrades = 0
  for (const f of scenario.faults) {
    if (f.atMs > durationMs) continue
    mark(f.atMs, faultText(f))
    switch (f.kind) {
      case 'partition': {
        const groups = f.groups.map(g => g.flatMap(name => {
          const s = siteIndex(name)
          return s >= 0 ? hostsOfSite(scenario, s) : [hostIndex.get(name)!]
        }))
        changes.push({ atMs: f.atMs, kind: 'partition', groups })
        if (f.healAfterMs !== undefined) {
          changes.push({ atMs: f.atMs + f.healAfterMs, kind: 'heal' })
          mark(f.atMs + f.healAfterMs, 'heal')
        }
        break
      }
      case 'heal': changes.push({ atMs: f.atMs, kind: 'heal' }); break
      case 'degrade': {
        const id = degrades++
        const a = siteIndex(f.sites[0])
        const b = siteIndex(f.sites[1])
        changes.push({ atMs: f.atMs, kind: 'degrade', id, a, b, link: f.link })
        if (f.restoreAfterMs !== undefined) changes.push({ atMs: f.atMs + f.restoreAfterMs, kind: 'restore', id, a, b })
        break
      }
      case 'crash': case 'restart': case 'docker-stop': case 'docker-start':
        if (f.target.type === 'random' && f.target.site === undefined) changes.push({ atMs: f.atMs, kind: 'fleet-fault', fault: f })
        break
      default:
    }
  }
  scenario.sites.forEach((site, s) => {
    if (site.flap === undefined) return
    // The whole-world run's flap schedule (simulation.ts, scheduleWorld), from the same stream.
    let t = 0
    for (;;) {
      t += Math.max(1, Math.round(-Math.log(1 - streams.flaps.next()) * site.flap.upMs))
      if (t >= durationMs) break
      const down = Math.max(1, Math.round(-Math.log(1 - streams.flaps.next()) * site.flap.downMs))
      changes.push({ atMs: t, kind: 'uplink', site: s, up: false })
      changes.push({ atMs: Math.min(t + down, durationMs), kind: 'uplink', site: s, up: true })
      t += down
    }
  })
  const inRun = changes.filter(c => c.atMs <= durationMs)
  // Stable: at one time, in the order made.
  inRun.sort((a, b) => a.atMs - b.atMs)
  markers.sort((a, b) => a.tMs - b.tMs)
  return { changes: inRun, markers }
}

/** The run's own streams, forked as the whole-world run forks its faults' and flaps' (simulation.ts). */
function runStreams (seed: number): { faults: Rng, flaps: Rng } {
  const root = new Rng(seed)
  root.fork(1)
  root.fork(2)
  root.fork(3)
  const faults = root.fork(4)
  root.fork(5)
  return { faults, flaps: root.fork(6) }
}

function hostsOfSite (scenario: Scenario, site: number): number[] {
  let base = 0
  for (let s = 0; s < site; s++) base += scenario.sites[s].hosts
  return Array.from({ length: scenario.sites[site].hosts }, (_, i) => base + i)
}

function hostIndexOf (scenario: Scenario): Map<string, number> {
  const out = new Map<string, number>()
  let idx = 0
  for (const site of scenario.sites) for (let i = 0; i < site.hosts; i++) out.set(hostIdOf(site.name, i, site.hosts), idx++)
  return out
}

/** The last ms of the window that starts at `startMs`: within the lookahead, before the next cut, within the run. */
export function windowEnd (startMs: number, lookahead: number, nextCutMs: number, durationMs: number): number {
  return Math.min(startMs + lookahead - 1, nextCutMs - 1, durationMs)
}

// ---- a worker's sites ------------------------------------------------------------------------

/**
 * The sites one worker runs (all of them in a run without workers), with that worker's copy of
 * the network, the world's changes, and the records its sites sent since the last window.
 */
export class ShardSet {
  readonly sims: (Simulation | undefined)[]
  readonly net: Network
  readonly propagation = new MsHistogram()
  readonly lookahead: number
  readonly plan: WorldPlan
  private outbox: CrossSiteRecord[] = []
  private nextChange = 0
  private readonly degraded = new Map<number, LinkSpec>()
  private readonly faultRng: Rng
  private readonly mine: readonly number[]

  constructor (readonly scenario: Scenario, readonly opts: ShardedRunOptions, sites: readonly number[]) {
    this.mine = sites
    this.lookahead = lookaheadMs(scenario)
    this.plan = worldPlan(scenario, opts.seed, opts.durationMs)
    this.faultRng = runStreams(opts.seed).faults
    const siteOf: number[] = []
    scenario.sites.forEach((site, s) => { for (let i = 0; i < site.hosts; i++) siteOf.push(s) })
    this.net = new Network(scenario.sites, scenario.links, Int32Array.from(siteOf))
    this.sims = scenario.sites.map(() => undefined)
    const send = (r: CrossSiteRecord): void => { this.outbox.push(r) }
    for (const s of sites) {
      this.sims[s] = new Simulation(scenario, {
        policy: 'agentmesh', seed: opts.seed, durationMs: opts.durationMs, reportPoints: opts.reportPoints, bugs: opts.bugs,
        forecast: opts.forecast, transcripts: opts.transcripts,
        shard: { site: s, net: this.net, propagation: this.propagation, lookaheadMs: this.lookahead, send },
      })
    }
  }

  /** The time of the next world change after `afterMs` (Infinity: none). */
  nextCutAfter (afterMs: number): number {
    for (let i = this.nextChange; i < this.plan.changes.length; i++) if (this.plan.changes[i].atMs > afterMs) return this.plan.changes[i].atMs
    return Infinity
  }

  /** Whether a fault drawn among every site's hosts falls at `atMs` (the run then snapshots which machines run). */
  fleetFaultAt (atMs: number): boolean {
    for (let i = this.nextChange; i < this.plan.changes.length && this.plan.changes[i].atMs <= atMs; i++) {
      const c = this.plan.changes[i]
      if (c.atMs === atMs && c.kind === 'fleet-fault') return true
    }
    return false
  }

  /**
   * A window starts at `startMs`: the clocks move there, the world's changes of that time are
   * applied, and what arrived from other sites goes into the queues (in canonical order).
   * `machinesUp` gives every host's machine state as of the end of the last window.
   */
  begin (startMs: number, incoming: CrossSiteRecord[], machinesUp: () => Uint8Array): void {
    for (const s of this.mine) this.sims[s]!.startWindow(startMs)
    while (this.nextChange < this.plan.changes.length && this.plan.changes[this.nextChange].atMs <= startMs) {
      const c = this.plan.changes[this.nextChange++]
      simAssert(c.atMs === startMs, `a world change at ${c.atMs} applied at ${startMs}: windows are cut at changes`)
      this.apply(c, machinesUp)
    }
    incoming.sort(byCanonicalOrder)
    for (const r of incoming) this.sims[r.toSite]!.receiveCrossSite(r)
  }

  private apply (c: WorldChange, machinesUp: () => Uint8Array): void {
    switch (c.kind) {
      case 'partition':
        this.net.partition(c.groups)
        this.topologyChanged()
        return
      case 'heal':
        this.net.heal()
        this.topologyChanged()
        return
      case 'degrade': {
        const before = this.net.link(c.a, c.b)
        this.degraded.set(c.id, before)
        this.net.setLink(c.a, c.b, { ...before, ...c.link })
        return
      }
      case 'restore': this.net.setLink(c.a, c.b, this.degraded.get(c.id)!); return
      case 'uplink': this.net.uplinkUp[c.site] = c.up ? 1 : 0; return
      case 'fleet-fault': {
        const hosts = fleetTargets(c.fault, machinesUp(), this.faultRng)
        for (const s of this.mine) this.sims[s]!.applyFleetFault(c.fault, hosts)
      }
    }
  }

  private topologyChanged (): void {
    for (const s of this.mine) this.sims[s]!.topologyChanged()
  }

  /** Runs every site to `endMs` (included). */
  run (endMs: number): void {
    for (const s of this.mine) this.sims[s]!.runWindow(endMs)
  }

  async runAsync (endMs: number): Promise<void> {
    for (const s of this.mine) await this.sims[s]!.runWindowAsync(endMs)
  }

  /** What the sites sent since the last call. */
  takeOutbox (): CrossSiteRecord[] {
    const out = this.outbox
    this.outbox = []
    return out
  }

  violated (): boolean {
    return this.mine.some(s => this.sims[s]!.observer.violation !== undefined)
  }

  /** Marks the machines of this worker's hosts that run (1) or not (0), by fleet index. */
  markMachinesUp (into: Uint8Array): void {
    for (const s of this.mine) {
      for (const idx of hostsOfSite(this.scenario, s)) into[idx] = 0
      for (const idx of this.sims[s]!.machinesUp()) into[idx] = 1
    }
  }

  results (): SiteFigures[] {
    return this.mine.map(s => {
      const sim = this.sims[s]!
      sim.finish()
      const { propagation: _shared, ...figures } = sim.figures()
      return { site: s, figures, violatingStepsMs: sim.violatingStepsMs, ...(this.opts.transcripts === true ? { transcripts: sim.transcriptDigests() } : {}) }
    })
  }
}

/**
 * The hosts a fault without a site picks among every site's: `count` of those whose machine
 * runs (any host for a restart), drawn from the run's fault stream, as the whole-world run draws them.
 */
function fleetTargets (f: FaultSpec, up: Uint8Array, rng: Rng): number[] {
  if (f.kind !== 'crash' && f.kind !== 'restart' && f.kind !== 'docker-stop' && f.kind !== 'docker-start') return []
  if (f.target.type !== 'random') return []
  const pool: number[] = []
  for (let i = 0; i < up.length; i++) if (f.kind === 'restart' || up[i] === 1) pool.push(i)
  shuffle(pool, rng)
  return pool.slice(0, f.target.count)
}

// ---- the run -------------------------------------------------------------------------------

/** Sites to workers: round robin over sites ordered by size, so that workers get similar loads. */
export function assignSites (scenario: Scenario, workers: number): number[][] {
  const order = scenario.sites.map((s, i) => ({ i, hosts: s.hosts })).sort((a, b) => b.hosts - a.hosts || a.i - b.i)
  const out: number[][] = Array.from({ length: workers }, () => [])
  const load = new Array(workers).fill(0)
  for (const { i, hosts } of order) {
    let w = 0
    for (let k = 1; k < workers; k++) if (load[k] < load[w]) w = k
    out[w].push(i)
    load[w] += hosts
  }
  return out.map(sites => sites.sort((a, b) => a - b)).filter(sites => sites.length > 0)
}

export interface ShardedResult {
  figures: RunFigures
  /** Test only (opts.transcripts): host id → `lines:sha256` of its transcript. */
  transcripts?: Record<string, string>
}

/** Runs the scenario sharded, in this thread (workers ≤ 1 or one site) or over worker threads. */
export function runSharded (scenario: Scenario, opts: ShardedRunOptions): ShardedResult {
  simAssert(opts.forecast === undefined, 'a forecasting run is driven by runShardedAsync()')
  const workers = Math.min(opts.workers, scenario.sites.length)
  if (workers <= 1) return runInThread(scenario, opts)
  return runOnWorkers(scenario, opts, assignSites(scenario, workers))
}

function runInThread (scenario: Scenario, opts: ShardedRunOptions): ShardedResult {
  const set = new ShardSet(scenario, opts, scenario.sites.map((_, s) => s))
  const up = new Uint8Array(scenario.sites.reduce((n, s) => n + s.hosts, 0))
  const machinesUp = (): Uint8Array => { set.markMachinesUp(up); return up }
  let incoming: CrossSiteRecord[] = []
  let lastProgressMs = -Infinity
  for (let start = 0; start <= opts.durationMs;) {
    const end = windowEnd(start, set.lookahead, set.nextCutAfter(start), opts.durationMs)
    set.begin(start, incoming, machinesUp)
    set.run(end)
    incoming = set.takeOutbox()
    if (opts.onProgress !== undefined && end - lastProgressMs >= 1000) { opts.onProgress(end); lastProgressMs = end }
    if (set.violated()) break
    start = end + 1
  }
  return merge(scenario, opts, set.results(), [set.propagation], set.plan.markers)
}

/** runSharded in this thread, awaiting the forecast work the supervisors queue (runWindowAsync). */
export async function runShardedAsync (scenario: Scenario, opts: ShardedRunOptions): Promise<ShardedResult> {
  const set = new ShardSet(scenario, opts, scenario.sites.map((_, s) => s))
  const up = new Uint8Array(scenario.sites.reduce((n, s) => n + s.hosts, 0))
  const machinesUp = (): Uint8Array => { set.markMachinesUp(up); return up }
  let incoming: CrossSiteRecord[] = []
  for (let start = 0; start <= opts.durationMs;) {
    const end = windowEnd(start, set.lookahead, set.nextCutAfter(start), opts.durationMs)
    set.begin(start, incoming, machinesUp)
    await set.runAsync(end)
    incoming = set.takeOutbox()
    opts.onProgress?.(end)
    if (set.violated()) break
    start = end + 1
  }
  return merge(scenario, opts, set.results(), [set.propagation], set.plan.markers)
}

/** Merges the sites' figures into the run's, the pairs in the whole scenario's order. */
function merge (scenario: Scenario, opts: ShardedRunOptions, sites: SiteFigures[], propagations: MsHistogram[], worldMarkers: Marker[]): ShardedResult {
  sites.sort((a, b) => a.site - b.site)
  const bySite = new Map(sites.map(s => [s.site, s]))
  let violation: { v: Violation, site: number } | undefined
  for (const s of sites) {
    const v = s.figures.violation
    if (v !== undefined && (violation === undefined || v.atMs < violation.v.atMs)) violation = { v, site: s.site }
  }
  const stoppedAtMs = violation?.v.atMs ?? opts.durationMs
  const propagation = new MsHistogram()
  for (const p of propagations) propagation.merge(p)
  const sum = (f: (x: SiteFigures['figures']) => number): number => sites.reduce((n, s) => n + f(s.figures), 0)
  const violating = new Set<number>()
  for (const s of sites) for (const t of s.violatingStepsMs) violating.add(t)
  const pairs = new LoadModel(scenario).pairs.map(p => {
    const site = bySite.get(p.site)!
    const local = site.figures.pairs.find(x => x.service === p.service)
    simAssert(local !== undefined, 'every pair is some site\'s')
    return local
  })
  const figures: RunFigures = {
    hosts: sum(f => f.hosts),
    violation: violation?.v,
    stoppedAtMs,
    events: sum(f => f.events),
    elections: sum(f => f.elections),
    containerMs: sum(f => f.containerMs),
    reactionsMs: sites.flatMap(s => s.figures.reactionsMs),
    reactionsCensored: sum(f => f.reactionsCensored),
    failoversMs: sites.flatMap(s => s.figures.failoversMs),
    propagation,
    deliveries: sum(f => f.deliveries),
    lostDeliveries: sum(f => f.lostDeliveries),
    gossipBytes: sum(f => f.gossipBytes),
    anySlaViolationMs: violating.size * scenario.loadStepMs,
    pairs,
    series: mergeSeries(scenario, sites),
    markers: mergeMarkers(worldMarkers.filter(m => m.tMs <= stoppedAtMs), sites),
  }
  const transcripts = opts.transcripts === true ? Object.assign({}, ...sites.map(s => s.transcripts)) as Record<string, string> : undefined
  return { figures, ...(transcripts === undefined ? {} : { transcripts }) }
}

function mergeSeries (scenario: Scenario, sites: SiteFigures[]): RunSeries {
  const points = Math.min(...sites.map(s => s.figures.series.tMs.length))
  const out: RunSeries = { tMs: sites[0]?.figures.series.tMs.slice(0, points) ?? [], backlog: [], desired: [], running: [] }
  const anyRate = sites.some(s => s.figures.series.rate !== undefined)
  if (anyRate) { out.rate = []; out.forecast = [] }
  if (points === 0 && sites.every(s => s.figures.series.backlog.length === 0)) return out
  const bySite = new Map(sites.map(s => [s.site, s]))
  for (const p of new LoadModel(scenario).pairs) {
    const site = bySite.get(p.site)!
    const local = site.figures.pairs.findIndex(x => x.service === p.service)
    const sr = site.figures.series
    out.backlog.push(sr.backlog[local].slice(0, points))
    out.desired.push(sr.desired[local].slice(0, points))
    out.running.push(sr.running[local].slice(0, points))
    if (anyRate) { out.rate!.push(sr.rate?.[local].slice(0, points) ?? []); out.forecast!.push(sr.forecast?.[local].slice(0, points) ?? []) }
  }
  return out
}

/** The world's markers, then each site's, in time order (at one time: the world's, then by site). */
function mergeMarkers (world: Marker[], sites: SiteFigures[]): Marker[] {
  const all: { m: Marker, source: number, i: number }[] = []
  world.forEach((m, i) => all.push({ m, source: -1, i }))
  for (const s of sites) s.figures.markers.forEach((m, i) => all.push({ m, source: s.site, i }))
  all.sort((a, b) => a.m.tMs - b.m.tMs || a.source - b.source || a.i - b.i)
  return all.slice(0, MAX_MARKERS).map(x => x.m)
}

// ---- over worker threads ---------------------------------------------------------------------

/** Shared control words, per worker w of W: done[w], then per window parity: violated[p][w], sent[p][from][to]; abort. */
export interface ControlLayout { workers: number, done: number, violated: number, sent: number, abort: number, length: number }

export function controlLayout (workers: number): ControlLayout {
  const done = 0
  const violated = done + workers
  const sent = violated + 2 * workers
  const abort = sent + 2 * workers * workers
  return { workers, done, violated, sent, abort, length: abort + 1 }
}

/** What a worker is given (shard-worker.ts). */
export interface WorkerInit {
  scenario: Scenario
  opts: Omit<ShardedRunOptions, 'onProgress' | 'forecast'>
  index: number
  /** The sites of each worker. */
  assignment: number[][]
  control: SharedArrayBuffer
  /** Machines up, per window parity: 2 × hosts bytes. */
  machines: SharedArrayBuffer
  /** The simulated time each worker has reached (Float64 per worker), for progress. */
  clock: SharedArrayBuffer
  /** ports[v]: to and from worker v (undefined for itself). */
  ports: (MessagePort | undefined)[]
  results: MessagePort
}

/** What a worker sends back. */
export type WorkerResult =
  | { ok: true, sites: SiteFigures[], propagation: ReturnType<MsHistogram['toJSON']> }
  | { ok: false, error: string }

function runOnWorkers (scenario: Scenario, opts: ShardedRunOptions, assignment: number[][]): ShardedResult {
  const W = assignment.length
  const layout = controlLayout(W)
  const control = new SharedArrayBuffer(layout.length * 4)
  const hosts = scenario.sites.reduce((n, s) => n + s.hosts, 0)
  const machines = new SharedArrayBuffer(2 * hosts)
  const clock = new SharedArrayBuffer(8 * W)
  const ports: (MessagePort | undefined)[][] = assignment.map(() => new Array(W).fill(undefined))
  for (let a = 0; a < W; a++) {
    for (let b = a + 1; b < W; b++) {
      const ch = new MessageChannel()
      ports[a][b] = ch.port1
      ports[b][a] = ch.port2
    }
  }
  const results: MessagePort[] = []
  const workers: Worker[] = []
  const { onProgress, ...plain } = opts
  for (let w = 0; w < W; w++) {
    const ch = new MessageChannel()
    results.push(ch.port1)
    const init: WorkerInit = { scenario, opts: plain, index: w, assignment, control, machines, clock, ports: ports[w], results: ch.port2 }
    const transfer = [...ports[w].filter((p): p is MessagePort => p !== undefined), ch.port2]
    workers.push(new Worker(new URL('./shard-worker.js', import.meta.url), { workerData: init, transferList: transfer }))
  }
  // This thread waits (its event loop is blocked, so runScenario stays synchronous): the
  // workers report on their result ports, read here without the event loop.
  const ctrl = new Int32Array(control)
  const now = new Float64Array(clock)
  const got: (WorkerResult | undefined)[] = new Array(W).fill(undefined)
  let lastProgressMs = -Infinity
  while (got.some(r => r === undefined)) {
    for (let w = 0; w < W; w++) {
      if (got[w] !== undefined) continue
      const m = receiveMessageOnPort(results[w])
      if (m === undefined) continue
      got[w] = m.message as WorkerResult
      if (!(got[w] as WorkerResult).ok) { Atomics.store(ctrl, layout.abort, 1); for (let i = 0; i < layout.length; i++) Atomics.notify(ctrl, i) }
    }
    if (onProgress !== undefined) {
      let min = Infinity
      for (let w = 0; w < W; w++) min = Math.min(min, now[w])
      if (min - lastProgressMs >= 1000 && Number.isFinite(min)) { onProgress(min); lastProgressMs = min }
    }
    Atomics.wait(ctrl, layout.abort, 0, 50)
  }
  for (const w of workers) void w.terminate()
  for (const p of results) p.close()
  const failed = got.find((r): r is Extract<WorkerResult, { ok: false }> => r !== undefined && !r.ok)
  if (failed !== undefined) throw new SimError('E_SIM_WORKER', `a simulation worker failed: ${failed.error}`)
  const done = got as Extract<WorkerResult, { ok: true }>[]
  const plan = worldPlan(scenario, opts.seed, opts.durationMs)
  return merge(scenario, opts, done.flatMap(r => r.sites), done.map(r => MsHistogram.from(r.propagation)), plan.markers)
}

/**
 * One worker's side of the window loop (shard-worker.ts): the ShardSet of its sites, and the
 * exchange at every window's end, a barrier on the shared control words.
 */
export function runWorker (init: WorkerInit): WorkerResult {
  const { scenario, opts, index: me, assignment } = init
  const W = assignment.length
  const layout = controlLayout(W)
  const ctrl = new Int32Array(init.control)
  const machines = new Uint8Array(init.machines)
  const hosts = machines.length / 2
  const clock = new Float64Array(init.clock)
  const owner = new Int32Array(scenario.sites.length)
  assignment.forEach((sites, w) => { for (const s of sites) owner[s] = w })
  const set = new ShardSet(scenario, opts, assignment[me])
  let incoming: CrossSiteRecord[] = []
  let window = 0
  let start = 0
  let snapshotParity = 0
  const machinesUp = (): Uint8Array => machines.subarray(snapshotParity * hosts, (snapshotParity + 1) * hosts)
  try {
    while (start <= opts.durationMs) {
      const end = windowEnd(start, set.lookahead, set.nextCutAfter(start), opts.durationMs)
      set.begin(start, incoming, machinesUp)
      set.run(end)
      const out = set.takeOutbox()
      incoming = []
      const toOthers: CrossSiteRecord[][] = assignment.map(() => [])
      for (const r of out) {
        if (owner[r.toSite] === me) incoming.push(r)
        else toOthers[owner[r.toSite]].push(r)
      }
      const parity = window & 1
      for (let v = 0; v < W; v++) {
        if (v === me) continue
        const sent = toOthers[v].length > 0 ? 1 : 0
        if (sent === 1) init.ports[v]!.postMessage(toOthers[v])
        Atomics.store(ctrl, layout.sent + parity * W * W + me * W + v, sent)
      }
      Atomics.store(ctrl, layout.violated + parity * W + me, set.violated() ? 1 : 0)
      const next = end + 1
      if (next <= opts.durationMs && set.fleetFaultAt(next)) {
        snapshotParity = (window + 1) & 1
        set.markMachinesUp(machinesUp())
      }
      clock[me] = end
      Atomics.store(ctrl, layout.done + me, window + 1)
      Atomics.notify(ctrl, layout.done + me)
      for (let v = 0; v < W; v++) if (v !== me) waitDone(ctrl, layout, v, window + 1)
      let stop = false
      for (let v = 0; v < W; v++) {
        if (Atomics.load(ctrl, layout.violated + parity * W + v) === 1) stop = true
        if (v === me || Atomics.load(ctrl, layout.sent + parity * W * W + v * W + me) === 0) continue
        const m = receiveMessageOnPort(init.ports[v]!)
        simAssert(m !== undefined, `worker ${v}'s records of window ${window} are there`)
        for (const r of m.message as CrossSiteRecord[]) incoming.push(r)
      }
      if (stop) break
      window++
      start = next
    }
    return { ok: true, sites: set.results(), propagation: set.propagation.toJSON() }
  } catch (err) {
    Atomics.store(ctrl, layout.abort, 1)
    for (let i = 0; i < layout.length; i++) Atomics.notify(ctrl, i)
    return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) }
  }
}

/** Waits until worker `v` has finished `windows` windows; throws if the run was aborted. */
function waitDone (ctrl: Int32Array, layout: ControlLayout, v: number, windows: number): void {
  const at = layout.done + v
  for (let i = 0; i < BARRIER_SPINS; i++) if (Atomics.load(ctrl, at) >= windows) return
  for (;;) {
    const cur = Atomics.load(ctrl, at)
    if (cur >= windows) return
    if (Atomics.load(ctrl, layout.abort) !== 0) throw new SimError('E_SIM_WORKER', 'another simulation worker failed')
    Atomics.wait(ctrl, at, cur, BARRIER_CHECK_MS)
  }
}
