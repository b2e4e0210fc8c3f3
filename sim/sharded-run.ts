/**
 * An agentmesh run sharded by site (see cross-site.ts for why sites can be): every site is a
 * Simulation of its own (its hosts, its event queue, its random streams). The sites are spread
 * over workers (worker_threads, shard-worker.ts; one worker: this thread), and each worker
 * advances its sites round by round:
 *
 * - Each site runs a *step* of one or more rounds at once, never longer than the shortest
 *   latency from it to another of the worker's sites, so what it sends in a step reaches no
 *   site before that site has run to where it was sent from (SiteSteps: an edge site 80 ms from
 *   every other steps 80 ms while on-prem sites 10 ms apart step 10). What the worker's sites
 *   sent each other goes into the receiving queues between rounds; what goes to another
 *   worker's sites is posted to it at the round's end.
 * - Each worker publishes, for every other, how far it lets that one run: the least, over its
 *   sites, of the time a site has run to plus the shortest latency from it to the other's sites
 *   (conservative lookahead, as in parallel discrete-event simulation): nothing it still sends
 *   can arrive by then, and what it sent is in hand. Before a round that ends at `e`, a worker
 *   waits until every other lets it run to `e`. A step is at most half the latency to another
 *   worker's sites, so that workers drift apart instead of meeting at every round.
 * - What arrives from another site runs before the receiving site's own events of its
 *   millisecond, in the order sent (EventQueue.pushFront): when a worker learnt of it does not
 *   matter, so the rounds and steps (which differ with the number of workers) do not change
 *   the run.
 * - The network's changes (partitions, degraded links, flapping uplinks) are applied by every
 *   worker to its copy of the network at the start of a round, every site having run to it
 *   (rounds are cut at them); a fault drawn among every site's hosts waits for all workers to
 *   reach it, and draws from a snapshot of which machines run.
 * - An invariant broken somewhere stops the run at the earliest violation, whichever site and
 *   worker found it: a run that breaks one runs again, every site stopping at that time.
 *
 * So a run gives the same bytes whatever the number of workers (test/sim/sharding.test.ts).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import type { Rng } from '../node/core/rng.js'
import { lookaheadBetween, MAX_SITES, siteLatencyFloorsMs, splitByWorker, type CrossSiteRecord } from './cross-site.js'
import { simAssert, SimError } from './errors.js'
import { LoadModel } from './load-model.js'
import { Network } from './network.js'
import type { Violation } from './observer.js'
import type { LinkSpec, Scenario } from './scenario.js'
import { Simulation, type Marker, type RunFigures, type RunOptions, type RunSeries } from './simulation.js'
import { assignSites } from './site-assignment.js'
import { MsHistogram } from './stats.js'
import { fleetTargets, hostsOfSite, runStreams, worldPlan, type WorldChange, type WorldPlan } from './world-plan.js'

/** How often this thread looks at the workers (progress, a failure) while they run, ms. */
const MAIN_POLL_MS = 100
/** How long a worker sleeps waiting for the others before it looks again (abort, a violation), ms. */
const WAIT_CHECK_MS = 200
/** Checks before a worker sleeps waiting for the others (a round of a small fleet is over in microseconds). */
const WAIT_SPINS = 20000
/** At most this many markers (as the whole-world run keeps). */
const MAX_MARKERS = 2000

export interface ShardedRunOptions extends Omit<RunOptions, 'shard' | 'onProgress'> {
  /** Worker threads to spread the sites over (1: in this thread). The result does not depend on it. */
  workers: number
  /** false: every site runs every round of its worker, none several at once (SiteSteps; the tests compare). */
  siteSteps?: boolean
  onProgress?: (nowMs: number) => void
}

/** What one site measured, as plain data (it crosses from a worker). */
export interface SiteFigures {
  site: number
  figures: Omit<RunFigures, 'propagation'>
  violatingStepsMs: readonly number[]
  transcripts?: Record<string, string>
}


// ---- a worker's sites ------------------------------------------------------------------------

/**
 * The sites one worker runs (every site in a run on this thread), with that worker's copy of
 * the network, the world's changes, and the records its sites sent since the last round.
 */
export class ShardSet {
  readonly sims: (Simulation | undefined)[]
  readonly net: Network
  readonly propagation = new MsHistogram()
  readonly plan: WorldPlan
  private outbox: CrossSiteRecord[] = []
  private nextChange = 0
  /** Per site of `mine` (by position), the time it has run to. */
  private readonly until: Float64Array
  private readonly degraded = new Map<number, LinkSpec>()
  private readonly faultRng: Rng

  /** `lookahead`: no record sent arrives sooner (the shortest latency from one of `mine` to any other site). */
  constructor (readonly scenario: Scenario, readonly opts: RunPass, readonly mine: readonly number[], lookahead: number) {
    this.plan = worldPlan(scenario, opts.seed, opts.durationMs)
    this.until = new Float64Array(mine.length).fill(-1)
    this.faultRng = runStreams(opts.seed).faults
    const siteOf: number[] = []
    scenario.sites.forEach((site, s) => { for (let i = 0; i < site.hosts; i++) siteOf.push(s) })
    this.net = new Network(scenario.sites, scenario.links, Int32Array.from(siteOf))
    this.sims = scenario.sites.map(() => undefined)
    const send = (r: CrossSiteRecord): void => { this.outbox.push(r) }
    for (const s of mine) {
      this.sims[s] = new Simulation(scenario, {
        policy: 'agentmesh', seed: opts.seed, durationMs: opts.durationMs, reportPoints: opts.reportPoints, bugs: opts.bugs,
        forecast: opts.forecast, transcripts: opts.transcripts, batchDeliveries: opts.batchDeliveries,
        shard: { site: s, net: this.net, propagation: this.propagation, lookaheadMs: lookahead, send, batchRecords: opts.batchCrossSite !== false },
      })
    }
  }

  /** The time of the next world change after `afterMs` (Infinity: none). */
  nextCutAfter (afterMs: number): number {
    for (let i = this.nextChange; i < this.plan.changes.length; i++) if (this.plan.changes[i].atMs > afterMs) return this.plan.changes[i].atMs
    return Infinity
  }

  /** Whether a fault drawn among every site's hosts falls at `atMs` (the workers then meet there). */
  fleetFaultAt (atMs: number): boolean {
    for (let i = this.nextChange; i < this.plan.changes.length && this.plan.changes[i].atMs <= atMs; i++) {
      const c = this.plan.changes[i]
      if (c.atMs === atMs && c.kind === 'fleet-fault') return true
    }
    return false
  }

  /** Records from other sites, to run when they arrive (any time before that). */
  receive (records: readonly CrossSiteRecord[]): void {
    for (const r of records) for (const t of r.targets) this.sims[t.site]!.receiveCrossSite(r, t)
  }

  /**
   * A round starts at `startMs` with every site there: the clocks move there and the world's
   * changes of that time are applied. `machinesUp` gives every host's machine state as of the
   * end of the last round.
   */
  begin (startMs: number, machinesUp: () => Uint8Array): void {
    for (const s of this.mine) this.sims[s]!.startWindow(startMs)
    while (this.nextChange < this.plan.changes.length && this.plan.changes[this.nextChange].atMs <= startMs) {
      const c = this.plan.changes[this.nextChange++]
      simAssert(c.atMs === startMs, `a world change at ${c.atMs} applied at ${startMs}: rounds are cut at changes`)
      this.apply(c, machinesUp)
    }
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

  /** Whether a world change falls at `atMs` or before (begin() applies it). */
  changeAt (atMs: number): boolean {
    return this.nextChange < this.plan.changes.length && this.plan.changes[this.nextChange].atMs <= atMs
  }

  /**
   * Round `round` of runLoop, ending at `endMs`: runs to `endMs` each site due (see SiteSteps), or
   * every site not there yet when `everySite` (the round before a world change, or the last).
   */
  runRound (steps: SiteSteps, round: number, endMs: number, everySite: boolean): void {
    const until = this.until
    for (let pos = 0; pos < this.mine.length; pos++) {
      const from = until[pos]
      if (from >= endMs) continue
      const k = steps.rounds[pos]
      // Sites of a step of k rounds take turns, a k-th of them a round, so that rounds stay
      // even. Rounds are roundMs long but for those that end at a world change or the run's
      // end, where every site runs: a site's turn comes within its step.
      if (!everySite && (round + pos) % k !== k - 1) continue
      simAssert(endMs - from <= k * steps.roundMs, `a site runs ${endMs - from} ms at once, over its step of ${k * steps.roundMs} ms`)
      const sim = this.sims[this.mine[pos]]!
      sim.startWindow(from + 1)
      sim.runWindow(endMs)
      until[pos] = endMs
    }
  }

  /** The time every site of this worker has run to. */
  doneUntil (): number {
    let min = Infinity
    for (let pos = 0; pos < this.until.length; pos++) min = Math.min(min, this.until[pos])
    return min
  }

  /**
   * What another worker may run to on what these sites sent so far: by `laterMs` (per site, by
   * position: the shortest latency from it to that worker's sites) after the time each has run to,
   * anything it sends next arrives later than this.
   */
  horizonFor (laterMs: Float64Array): number {
    let min = Infinity
    for (let pos = 0; pos < this.until.length; pos++) min = Math.min(min, this.until[pos] + laterMs[pos])
    return min
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

  /** The earliest violation time among these sites (Infinity: none). */
  earliestViolationMs (): number {
    let min = Infinity
    for (const s of this.mine) min = Math.min(min, this.sims[s]!.observer.violation?.atMs ?? Infinity)
    return min
  }

  /** Marks the machines of these sites' hosts that run (1) or not (0), by fleet index. */
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

// ---- the run -------------------------------------------------------------------------------

/** One pass of a run: to stopAtMs (the run's end, or its earliest violation on the second pass). */
export interface RunPass extends Omit<ShardedRunOptions, 'workers' | 'onProgress'> {
  stopAtMs: number
}

export interface ShardedResult {
  figures: RunFigures
  /** Per worker, how it spent its time (the last pass's; not part of any summary). */
  workerStats: WorkerStats[]
  /** Test only (opts.transcripts): host id → `lines:sha256` of its transcript. */
  transcripts?: Record<string, string>
}

/**
 * How a worker's sites step through time (runLoop). The worker runs rounds of `roundMs`; a site
 * runs `rounds[pos]` of them at once (by position in the worker's sites), its *step*, that is
 * never longer than the shortest latency from it to another of the worker's sites (so that what
 * it sends reaches none of them before they have run to where it sent it from), nor than half
 * the shortest latency from it to another worker's sites (so that workers may drift apart by
 * the other half instead of meeting at every round). An edge site 80 ms from any other then
 * runs 40 or 80 ms at once beside on-prem sites that run 10: a site's step costs a visit to its
 * queue and the cache misses of bringing it back in, whether or not it has events.
 */
export interface SiteSteps { roundMs: number, rounds: Int32Array }

export function siteSteps (floors: Float64Array, sites: number, mine: readonly number[], others: readonly number[], bySite = true): SiteSteps {
  const stepMs = mine.map(s => {
    let local = Infinity
    let remote = Infinity
    for (const t of mine) if (t !== s) local = Math.min(local, floors[s * sites + t])
    for (const t of others) remote = Math.min(remote, floors[s * sites + t])
    return Math.max(1, Math.min(local, Math.floor(remote / 2)))
  })
  const roundMs = Math.min(...stepMs)
  // One site alone in the run: one round to the end (or to the next world change).
  if (!Number.isFinite(roundMs) || !bySite) return { roundMs, rounds: new Int32Array(mine.length).fill(1) }
  return { roundMs, rounds: Int32Array.from(stepMs, ms => Math.max(1, Math.floor(ms / roundMs))) }
}

/**
 * What a worker needs of the others, and gives them: how far each lets it run (the time each of
 * their sites has run to, plus the shortest latency from that site to this worker's), the time
 * each has run every site to, the records for its sites, the earliest violation anyone found,
 * and the machines' snapshot at a fleet fault. A run on one thread has no others.
 */
interface Peers {
  /** Workers other than this one. */
  others: readonly number[]
  /** Every other worker's records so far. */
  pull: () => CrossSiteRecord[]
  /** The time worker `w` has run every one of its sites to. */
  doneUntil: (worker: number) => number
  /** How far worker `w` lets this one run: nothing it sends from now on arrives by then. */
  horizonFrom: (worker: number) => number
  /**
   * Hands `out` (for other workers' sites) over, then tells the time every site here has run
   * to (`doneMs`) and how far each other worker may run (`horizon(w)`).
   */
  publish: (doneMs: number, horizon: (worker: number) => number, out: CrossSiteRecord[], violationMs: number) => void
  earliestViolationMs: () => number
  /** A counter every publish bumps: read it before looking at the others, then idle() on it. */
  bump: () => number
  /** Waits until the counter moves from `bump` (a publish), or a little while (or returns at once on one thread). */
  idle: (bump: number) => void
  /** Snapshot of every host's machine for the `k`th fleet fault: this worker's part is written into it. */
  machines: (k: number) => Uint8Array
}

/**
 * The round loop of one worker (or of a run on one thread). Returns its sites' figures.
 * `laterMs[w]`: per site of this worker (by position), the shortest latency from it to worker
 * w's sites (what horizonFor needs).
 */
function runLoop (set: ShardSet, pass: RunPass, steps: SiteSteps, laterMs: readonly Float64Array[], peers: Peers, stats: WorkerStats, onProgress?: (nowMs: number) => void): SiteFigures[] {
  const t0 = performance.now()
  let roundEnd = -1
  // The time every site of this worker has run to (set.doneUntil(), once a round).
  let done = -1
  let fleetFaults = 0
  let local: CrossSiteRecord[] = []
  let snapshot: Uint8Array | undefined
  const machinesUp = (): Uint8Array => snapshot!
  const horizon = (w: number): number => set.horizonFor(laterMs[w])
  // Ready: this worker's part of a snapshot for a fleet fault at time 0 is written.
  if (set.fleetFaultAt(0)) set.markMachinesUp(peers.machines(0))
  peers.publish(-1, horizon, [], Infinity)
  for (let round = 0; ; round++) {
    const stopAt = Math.min(pass.stopAtMs, peers.earliestViolationMs(), set.earliestViolationMs())
    if (done >= stopAt) break
    // A violation found meanwhile may stop the run before the round reached: the sites that are
    // not there yet run to it (no world change lies between, each was applied with every site
    // before it).
    const catchUp = roundEnd >= stopAt
    const start = roundEnd + 1
    const cutEnd = catchUp ? stopAt : set.nextCutAfter(start) - 1
    const end = catchUp ? stopAt : Math.min(start + steps.roundMs - 1, cutEnd, stopAt)
    if (!catchUp && set.fleetFaultAt(start)) {
      // Every worker meets here: the fault draws among every host that runs at this time.
      if (!waitFor(peers, () => peers.others.every(w => peers.doneUntil(w) >= start - 1), stats)) { round--; continue }
      snapshot = peers.machines(fleetFaults++)
    }
    if (!waitFor(peers, () => peers.others.every(w => peers.horizonFrom(w) >= end), stats)) { round--; continue }
    set.receive(peers.pull())
    set.receive(local)
    if (!catchUp && set.changeAt(start)) {
      simAssert(done === start - 1, 'every site reaches a world change before it applies')
      set.begin(start, machinesUp)
    }
    set.runRound(steps, round, end, end === cutEnd || end === stopAt)
    const [mine, others] = splitByWorker(set.takeOutbox(), site => set.sims[site] !== undefined ? 0 : 1, 2)
    local = mine
    if (set.fleetFaultAt(end + 1)) set.markMachinesUp(peers.machines(fleetFaults))
    roundEnd = Math.max(roundEnd, end)
    done = set.doneUntil()
    peers.publish(done, horizon, others, set.earliestViolationMs())
    stats.windows++
    onProgress?.(done)
  }
  stats.totalMs = performance.now() - t0
  return set.results()
}

/** How a worker spent its time (wall ms), for the benchmark's figures. */
export interface WorkerStats { windows: number, waitMs: number, totalMs: number }

/**
 * Waits until the others are where `ready` needs them; false when a violation found meanwhile
 * changes the plan (the caller looks again).
 */
function waitFor (peers: Peers, ready: () => boolean, stats: WorkerStats): boolean {
  if (ready()) return true
  const violation = peers.earliestViolationMs()
  const t0 = performance.now()
  try {
    for (let spin = 0; ; spin++) {
      const bump = peers.bump()
      if (ready()) return true
      if (peers.earliestViolationMs() !== violation) return false
      if (spin >= WAIT_SPINS) peers.idle(bump)
    }
  } finally {
    stats.waitMs += performance.now() - t0
  }
}

const ALONE: Peers = {
  others: [], pull: () => [], doneUntil: () => Infinity, horizonFrom: () => Infinity, publish: () => {}, earliestViolationMs: () => Infinity, bump: () => 0, idle: () => {}, machines: () => new Uint8Array(0),
}

/** Runs the scenario sharded, on this thread (workers ≤ 1, or one site) or over worker threads. */
export function runSharded (scenario: Scenario, opts: ShardedRunOptions): ShardedResult {
  simAssert(opts.forecast === undefined, 'a forecasting run is driven by runShardedAsync()')
  simAssert(scenario.sites.length <= MAX_SITES, `at most ${MAX_SITES} sites`)
  const assignment = assignSites(scenario, Math.min(opts.workers, scenario.sites.length))
  const { workers: _w, onProgress, ...rest } = opts
  const once = (stopAtMs: number): PassResult => assignment.length <= 1
    ? runHere(scenario, { ...rest, stopAtMs }, onProgress)
    : runOnWorkers(scenario, { ...rest, stopAtMs }, assignment, onProgress)
  let r = once(opts.durationMs)
  const violationMs = Math.min(...r.sites.map(s => s.figures.violation?.atMs ?? Infinity))
  // Sites ran on past the first violation until the run learnt of it, each as far as its
  // worker had gone: run again, every site stopping at that time.
  if (Number.isFinite(violationMs)) r = once(violationMs)
  return { ...merge(scenario, opts, r.sites, r.propagations), workerStats: r.stats }
}

interface PassResult { sites: SiteFigures[], propagations: MsHistogram[], stats: WorkerStats[] }

function runHere (scenario: Scenario, pass: RunPass, onProgress?: (nowMs: number) => void): PassResult {
  const all = scenario.sites.map((_, s) => s)
  const floors = siteLatencyFloorsMs(scenario)
  const set = new ShardSet(scenario, pass, all, lookaheadBetween(floors, all.length, all, all))
  const up = new Uint8Array(scenario.sites.reduce((n, s) => n + s.hosts, 0))
  const peers: Peers = { ...ALONE, machines: () => up }
  const stats: WorkerStats = { windows: 0, waitMs: 0, totalMs: 0 }
  const steps = siteSteps(floors, all.length, all, [], pass.siteSteps)
  return { sites: runLoop(set, pass, steps, [], peers, stats, throttled(onProgress)), propagations: [set.propagation], stats: [stats] }
}

/**
 * runSharded on this thread, awaiting the forecast work the supervisors queue
 * (Simulation.runWindowAsync). Forecasting runs do not use workers (the models are this thread's).
 */
export async function runShardedAsync (scenario: Scenario, opts: ShardedRunOptions): Promise<ShardedResult> {
  const all = scenario.sites.map((_, s) => s)
  const lookahead = lookaheadBetween(siteLatencyFloorsMs(scenario), all.length, all, all)
  const { workers: _w, onProgress, ...rest } = opts
  const once = async (stopAtMs: number): Promise<ShardSet> => {
    const set = new ShardSet(scenario, { ...rest, stopAtMs }, all, lookahead)
    const up = new Uint8Array(scenario.sites.reduce((n, s) => n + s.hosts, 0))
    let local: CrossSiteRecord[] = []
    for (let start = 0; start <= stopAtMs;) {
      const end = Math.min(start + lookahead - 1, set.nextCutAfter(start) - 1, stopAtMs)
      set.receive(local)
      set.begin(start, () => { set.markMachinesUp(up); return up })
      await set.runAsync(end)
      local = set.takeOutbox()
      onProgress?.(end)
      if (Number.isFinite(set.earliestViolationMs())) break
      start = end + 1
    }
    return set
  }
  let set = await once(opts.durationMs)
  const violationMs = set.earliestViolationMs()
  if (Number.isFinite(violationMs)) set = await once(violationMs)
  return { ...merge(scenario, opts, set.results(), [set.propagation]), workerStats: [] }
}

function throttled (onProgress: ((nowMs: number) => void) | undefined): ((nowMs: number) => void) | undefined {
  if (onProgress === undefined) return undefined
  let last = -Infinity
  return (now) => { if (now - last >= 1000) { last = now; onProgress(now) } }
}

/** Merges the sites' figures into the run's, the pairs in the whole scenario's order. */
function merge (scenario: Scenario, opts: ShardedRunOptions, sites: SiteFigures[], propagations: MsHistogram[]): Omit<ShardedResult, 'workerStats'> {
  sites.sort((a, b) => a.site - b.site)
  const bySite = new Map(sites.map(s => [s.site, s]))
  let violation: Violation | undefined
  for (const s of sites) {
    const v = s.figures.violation
    if (v !== undefined && (violation === undefined || v.atMs < violation.atMs)) violation = v
  }
  const stoppedAtMs = violation?.atMs ?? opts.durationMs
  const propagation = new MsHistogram()
  for (const p of propagations) propagation.merge(p)
  const sum = (f: (x: SiteFigures['figures']) => number): number => sites.reduce((n, s) => n + f(s.figures), 0)
  const violating = new Set<number>()
  for (const s of sites) for (const t of s.violatingStepsMs) violating.add(t)
  const pairs = new LoadModel(scenario).pairs.map(p => {
    const local = bySite.get(p.site)!.figures.pairs.find(x => x.service === p.service)
    simAssert(local !== undefined, 'every pair is some site\'s')
    return local
  })
  const worldMarkers = worldPlan(scenario, opts.seed, opts.durationMs).markers.filter(m => m.tMs <= stoppedAtMs)
  const figures: RunFigures = {
    hosts: sum(f => f.hosts),
    violation,
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
    markers: mergeMarkers(worldMarkers, sites),
  }
  const transcripts = opts.transcripts === true ? Object.assign({}, ...sites.map(s => s.transcripts)) as Record<string, string> : undefined
  return { figures, ...(transcripts === undefined ? {} : { transcripts }) }
}

function mergeSeries (scenario: Scenario, sites: SiteFigures[]): RunSeries {
  const points = Math.min(...sites.map(s => s.figures.series.tMs.length))
  const out: RunSeries = { tMs: sites[0]?.figures.series.tMs.slice(0, points) ?? [], backlog: [], desired: [], running: [] }
  if (sites.every(s => s.figures.series.backlog.length === 0)) return out
  const anyRate = sites.some(s => s.figures.series.rate !== undefined)
  if (anyRate) { out.rate = []; out.forecast = [] }
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

/**
 * Shared words: per worker, the time it has run every site to (−2 before it is ready, −1 before
 * its first round) and the earliest violation it found (Int32 ms; −1: none); per worker and
 * other worker, how far it lets that one run (at `horizon + writer × workers + reader`; −2
 * before it is ready); a counter bumped on every publish, what a waiting worker sleeps on, and
 * how many sleep (a publish wakes them only then: a wake costs a system call, and a round of a
 * small fleet takes microseconds); how many workers have finished (what this thread sleeps
 * on); an abort flag.
 */
interface ControlLayout { done: number, violation: number, horizon: number, bump: number, sleepers: number, finished: number, abort: number, length: number }

function controlLayout (workers: number): ControlLayout {
  const horizon = 2 * workers
  const bump = horizon + workers * workers
  return { done: 0, violation: workers, horizon, bump, sleepers: bump + 1, finished: bump + 2, abort: bump + 3, length: bump + 4 }
}

/** A time as a shared Int32 word (a horizon may be further than any run lasts). */
const INT32_MAX = 2 ** 31 - 1

/** What a worker is given (shard-worker.ts). */
export interface WorkerInit {
  scenario: Scenario
  pass: RunPass
  index: number
  /** The sites of each worker. */
  assignment: number[][]
  control: SharedArrayBuffer
  /** Machines up at a fleet fault, two snapshots (by the fault's parity) of hosts bytes. */
  machines: SharedArrayBuffer
  /** ports[v]: to and from worker v (undefined for itself). */
  ports: (MessagePort | undefined)[]
  results: MessagePort
}

/** What a worker sends back. */
export type WorkerResult =
  | { ok: true, sites: SiteFigures[], propagation: ReturnType<MsHistogram['toJSON']>, stats: WorkerStats }
  | { ok: false, error: string }

function runOnWorkers (scenario: Scenario, pass: RunPass, assignment: number[][], onProgress?: (nowMs: number) => void): PassResult {
  simAssert(pass.durationMs < 2 ** 31, 'a sharded run over workers lasts under 2^31 ms (its times are Int32 words)')
  const W = assignment.length
  const layout = controlLayout(W)
  const control = new SharedArrayBuffer(layout.length * 4)
  const ctrl = new Int32Array(control)
  // −2: not ready; −1: ready, no round run yet (runLoop).
  for (let w = 0; w < W; w++) { ctrl[layout.done + w] = -2; ctrl[layout.violation + w] = -1 }
  ctrl.fill(-2, layout.horizon, layout.horizon + W * W)
  const hosts = scenario.sites.reduce((n, s) => n + s.hosts, 0)
  const machines = new SharedArrayBuffer(2 * hosts)
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
  for (let w = 0; w < W; w++) {
    const ch = new MessageChannel()
    results.push(ch.port1)
    const init: WorkerInit = { scenario, pass, index: w, assignment, control, machines, ports: ports[w], results: ch.port2 }
    const transfer = [...ports[w].filter((p): p is MessagePort => p !== undefined), ch.port2]
    workers.push(new Worker(new URL('./shard-worker.js', import.meta.url), { workerData: init, transferList: transfer }))
  }
  // This thread waits without its event loop (runScenario stays synchronous): the workers
  // report on their result ports, read here with receiveMessageOnPort.
  const got: (WorkerResult | undefined)[] = new Array(W).fill(undefined)
  const progress = throttled(onProgress)
  while (got.some(r => r === undefined)) {
    for (let w = 0; w < W; w++) {
      if (got[w] !== undefined) continue
      const m = receiveMessageOnPort(results[w])
      if (m === undefined) continue
      got[w] = m.message as WorkerResult
      if (!got[w]!.ok) abort(ctrl, layout)
    }
    let min = Infinity
    for (let w = 0; w < W; w++) min = Math.min(min, Atomics.load(ctrl, layout.done + w))
    if (min >= 0) progress?.(min)
    const finished = Atomics.load(ctrl, layout.finished)
    if (got.filter(r => r !== undefined).length < finished) continue
    Atomics.wait(ctrl, layout.finished, finished, MAIN_POLL_MS)
  }
  for (const w of workers) void w.terminate()
  for (const p of results) p.close()
  const failed = got.find((r): r is Extract<WorkerResult, { ok: false }> => r !== undefined && !r.ok)
  if (failed !== undefined) throw new SimError('E_SIM_WORKER', `a simulation worker failed: ${failed.error}`)
  const done = got as Extract<WorkerResult, { ok: true }>[]
  return { sites: done.flatMap(r => r.sites), propagations: done.map(r => MsHistogram.from(r.propagation)), stats: done.map(r => r.stats) }
}

function abort (ctrl: Int32Array, layout: ControlLayout): void {
  Atomics.store(ctrl, layout.abort, 1)
  Atomics.add(ctrl, layout.bump, 1)
  Atomics.notify(ctrl, layout.bump)
}

/** A worker is done (its result posted): this thread, asleep on `finished`, wakes. */
function finished (ctrl: Int32Array, layout: ControlLayout): void {
  Atomics.add(ctrl, layout.finished, 1)
  Atomics.notify(ctrl, layout.finished)
}

/** A worker thread's whole life (shard-worker.ts): runs, posts its result, tells this thread. */
export function workerMain (init: WorkerInit): void {
  const result = runWorker(init)
  init.results.postMessage(result)
  init.results.close()
  finished(new Int32Array(init.control), controlLayout(init.assignment.length))
}

/** One worker: the round loop over its sites, with the others as peers. */
function runWorker (init: WorkerInit): WorkerResult {
  const { scenario, pass, index: me, assignment } = init
  const W = assignment.length
  const layout = controlLayout(W)
  const ctrl = new Int32Array(init.control)
  const hosts = init.machines.byteLength / 2
  const floors = siteLatencyFloorsMs(scenario)
  const n = scenario.sites.length
  const owner = new Int32Array(n)
  assignment.forEach((sites, w) => { for (const s of sites) owner[s] = w })
  const mine = assignment[me]
  const others = assignment.map((_, w) => w).filter(w => w !== me)
  const lookahead = lookaheadBetween(floors, n, mine, scenario.sites.map((_, s) => s))
  const steps = siteSteps(floors, n, mine, others.flatMap(w => assignment[w]), pass.siteSteps)
  const laterMs = assignment.map(sites => Float64Array.from(mine, s => lookaheadBetween(floors, n, [s], sites)))
  const set = new ShardSet(scenario, pass, mine, lookahead)
  const checkAbort = (): void => { if (Atomics.load(ctrl, layout.abort) !== 0) throw new SimError('E_SIM_WORKER', 'another simulation worker failed') }
  const peers: Peers = {
    others,
    pull: () => {
      const got: CrossSiteRecord[] = []
      for (const o of others) {
        for (let m = receiveMessageOnPort(init.ports[o]!); m !== undefined; m = receiveMessageOnPort(init.ports[o]!)) {
          for (const r of m.message as CrossSiteRecord[]) got.push(r)
        }
      }
      return got
    },
    doneUntil: (w) => Atomics.load(ctrl, layout.done + w),
    horizonFrom: (w) => Atomics.load(ctrl, layout.horizon + w * W + me),
    publish: (doneMs, horizon, out, violationMs) => {
      const byWorker = splitByWorker(out, site => owner[site], W)
      for (const o of others) if (byWorker[o].length > 0) init.ports[o]!.postMessage(byWorker[o])
      if (Number.isFinite(violationMs)) Atomics.store(ctrl, layout.violation + me, violationMs)
      // Records first, then the times: a worker that sees a time finds the records.
      for (const o of others) Atomics.store(ctrl, layout.horizon + me * W + o, Math.min(INT32_MAX, horizon(o)))
      Atomics.store(ctrl, layout.done + me, Math.min(INT32_MAX, doneMs))
      Atomics.add(ctrl, layout.bump, 1)
      if (Atomics.load(ctrl, layout.sleepers) > 0) Atomics.notify(ctrl, layout.bump)
    },
    earliestViolationMs: () => {
      let min = Infinity
      for (let w = 0; w < W; w++) {
        const v = Atomics.load(ctrl, layout.violation + w)
        if (v >= 0) min = Math.min(min, v)
      }
      return min
    },
    bump: () => Atomics.load(ctrl, layout.bump),
    idle: (bump) => {
      checkAbort()
      Atomics.add(ctrl, layout.sleepers, 1)
      Atomics.wait(ctrl, layout.bump, bump, WAIT_CHECK_MS)
      Atomics.sub(ctrl, layout.sleepers, 1)
    },
    machines: (k) => new Uint8Array(init.machines, (k & 1) * hosts, hosts),
  }
  try {
    const stats: WorkerStats = { windows: 0, waitMs: 0, totalMs: 0 }
    const sites = runLoop(set, pass, steps, laterMs, peers, stats)
    return { ok: true, sites, propagation: set.propagation.toJSON(), stats }
  } catch (err) {
    abort(ctrl, layout)
    return { ok: false, error: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) }
  }
}
