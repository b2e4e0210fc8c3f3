/**
 * One run of one policy over one scenario: the real core (node/core's SupervisorCore,
 * unchanged) for every simulated host under agentmesh, or a central controller for the
 * baselines, over a simulated network, container runtime and load, on one event queue.
 *
 * The driving contract of core-io.ts, as the simulator keeps it: after every input it drains
 * the outputs in order (persist is stored before anything that follows it is performed), and
 * it ticks the core no later than nextDeadlineMs(). 'observe' is answered a few ms later with
 * what the runtime holds; a container changing state (Docker's event stream) also triggers an
 * observation. Only hosts chosen as signal reporters get 'samples' inputs (see signals below).
 *
 * Everything random comes from one seeded Rng, forked per purpose, so the same scenario and
 * seed give the same run. Messages are shared, not copied, between receivers: the core never
 * mutates a message it receives or publishes (checked by reading membership.ts and
 * supervisor-core.ts: they store references to heartbeat fields and replace, never edit them).
 */
import { decodeMessage, digestRoute, encodeMessage, validateMessage, type Capacity, type Message, type SignalSample } from '../protocol/index.js'
import { timingsFor, type CoreTimings } from '../node/core/config.js'
import type { CoreEvent, CoreInput, CoreOutput, PersistentState, Topic } from '../node/core/core-io.js'
import type { PlacementHost } from '../node/core/placement.js'
import { OWNER_LABELS, reconcile, type ContainerAction } from '../node/core/reconcile.js'
import { Rng } from '../node/core/rng.js'
import type { ServiceSpec } from '../node/core/service-spec.js'
import { parseOverflowName } from '../node/core/spill.js'
import { SupervisorCore } from '../node/core/supervisor-core.js'
import { CentralController, type ControllerPorts } from './central-controller.js'
import { bookCpu, CpuCalendar } from './cpu-calendar.js'
import { ContainerLedger, logNormalMs, observedInput, SimulatedRuntime, SimulatedRuntimeError, type SimulatedRuntimeInit } from './simulated-runtime.js'
import { SimulatedTransport } from './simulated-transport.js'
import { simAssert } from './errors.js'
import { EventQueue } from './event-queue.js'
import { shuffle, SiteMesh, type Route } from './gossip-mesh.js'
import { LoadModel } from './load-model.js'
import { Network } from './network.js'
import { Observer, type Violation } from './observer.js'
import { hostIdOf } from './scenario-parse.js'
import type { FaultSpec, HostTarget, PolicyName, Scenario } from './scenario.js'
import { MsHistogram } from './stats.js'
import { ForecastRunner } from '../node/forecast/forecast-runner.js'
import type { SimForecast } from './forecast-sim.js'
import { describeInput, describeOutput, TranscriptDigests } from './transcript.js'
import { crossSiteOrder, faultScope, hostSitesOf, MAX_RECORDS_PER_SITE, siteRng, type CrossSiteRecord, type CrossTarget, type SiteShard } from './cross-site.js'

/** Hosts start their supervisors spread over this window, as machines booting do. */
const START_SPREAD_MS = 1000
/** How often the observer checks that plans are carried out. */
const OBSERVER_SWEEP_MS = 1000
/** At most this many leader-change markers are kept for the report. */
const MAX_MARKERS = 2000
/**
 * A sharded site's smallest event wheel, ms (event-queue.ts): a fleet has hundreds of sites, and
 * each wheel's buckets stay allocated. A site's wheel covers two of its heartbeat intervals
 * (siteWheelMs), so that every host's next tick falls within it and never goes to the heap.
 */
const SITE_WHEEL_MS = 1024
/** Heartbeats and site digests are encoded (to measure bytes and check limits) one in this many per host (messageBytes); every other kind always. */
const PERIODIC_ENCODE_EVERY = 16

const enum K { Tick, Deliver, Observe, Fn }

type SimEvent =
  | { k: K.Tick, h: SimHost, at: number, life: number }
  /** `to`: the receivers' host indices, or the one receiver's (most deliveries: no array to allocate). */
  | { k: K.Deliver, topic: Topic, message: Message, to: number | number[], from: number, sentAt: number }
  | { k: K.Observe, h: SimHost, life: number }
  | { k: K.Fn, fn: () => void }

export interface SimHost {
  idx: number
  id: string
  site: number
  /** Index inside its site (mesh node). */
  local: number
  labels: Map<string, string>
  capacity: Capacity
  priority: number
  machineUp: boolean
  /** The supervisor (or, for baselines, the host agent) runs. */
  supUp: boolean
  upSinceMs: number
  /** Bumped when the supervisor stops or starts: ticks and observations of an earlier life are void. */
  life: number
  incarnation: number
  persisted: PersistentState | undefined
  core: SupervisorCore | undefined
  tickAtMs: number
  observePending: boolean
  /** The machine's container runtime and its end of the network: the ports the core's driver uses. */
  runtime: SimulatedRuntime
  transport: SimulatedTransport
  /** The driver's listener is the transport's only one: a delivered copy goes to the driver directly (deliverTo). */
  driverOnly: boolean
  /** Baselines: what the controller last ordered. */
  agentWanted: Map<string, number>
  /** When the supervisor (or host agent) last stopped. */
  downSinceMs: number
  deficitSinceMs: number
  encodeCount: number
  heartbeatBytes: number
  /** Size of the last site digest this host encoded, and how many members it listed (messageBytes). */
  digestBytes: number
  digestMembers: number
  /** When this host's event loop is busy with the messages it has received (cpu-calendar.ts). */
  cpu: CpuCalendar
  /** Messages this host's publishes encoded so far: the first and every gossip.codecSampleEvery-th after are round-tripped through the codec. */
  codecCount: number
  /** Site digests this supervisor published (digestRoute's index: which go to members directly). */
  digestsSent: number
  /** This supervisor's forecaster (forecasting runs only). */
  forecaster?: ForecastRunner
}

export interface SeriesPoint { tMs: number }

/** A site's services as its runtimes look them up (SimulatedRuntimeInit.services). */
type RuntimeServices = SimulatedRuntimeInit['services']

export interface RunSeries {
  tMs: number[]
  /** Per pair: backlog, desired and running replicas at each point. */
  backlog: number[][]
  desired: number[][]
  running: number[][]
  /** Forecasting runs only, per pair: the arrival rate, and the site leader's forecast in use (-1: none). */
  rate?: number[][]
  forecast?: number[][]
}

export interface Marker { tMs: number, kind: 'fault' | 'leader' | 'spill', site: string, text: string }

/** What a run measured, for its summary (run-scenario.ts): one simulation's, or a sharded run's merged. */
export interface RunFigures {
  hosts: number
  violation: Violation | undefined
  stoppedAtMs: number
  /** Events of the simulated world (bookkeeping excluded). */
  events: number
  elections: number
  containerMs: number
  reactionsMs: number[]
  reactionsCensored: number
  failoversMs: number[]
  propagation: MsHistogram
  deliveries: number
  lostDeliveries: number
  gossipBytes: number
  anySlaViolationMs: number
  /** Per (site, service) pair, in the whole scenario's order (LoadModel's). */
  pairs: PairFigures[]
  series: RunSeries
  markers: Marker[]
}

export interface PairFigures { site: number, service: number, slaViolationMs: number, clairvoyantMs: number, backlog: number, running: number }

/**
 * Test only: a deliberate bug, to show that the observer catches the invariant it breaks (each
 * invariant has a test that trips it: test/sim/invariants.test.ts). Never set by a scenario.
 * - forged-leader: a core that reports winning the term of every plan it adopts from another
 *   leader (an election that forgot to count votes): single-leader-per-term.
 * - stale-term: a driver that stamps container starts with the term before the core's (it
 *   acts on a plan it cached): stale-plan-executed.
 * - spec-drift: at atMs every supervisor of the host's site restarts with maxReplicas 5 above
 *   the fleet's (a config rollout the scenario does not know of): replicas-within-bounds.
 * - lost-starts: a runtime that accepts starts and never creates the container: container-replaced.
 * - clock-back: a driver whose clock jumps back a second: the core's assertion throws, core-no-throw.
 * - oversize-label: at atMs the host restarts with a label longer than the protocol allows (the
 *   daemon's config validation would refuse it): message-encodable.
 * - over-capacity: the runtime starts two containers per start: host-capacity.
 * - codec-asymmetry: a decoder that reads `sentAtMs` as seconds (a unit mix-up between the
 *   encoder and the decoder), seen by the codec round trip: codec-round-trip.
 */
export type BugName = 'forged-leader' | 'stale-term' | 'spec-drift' | 'lost-starts' | 'clock-back' | 'oversize-label' | 'over-capacity' | 'codec-asymmetry'
/** `host` is a host id, or `*` for every host. */
export interface InjectedBug { bug: BugName, host: string, atMs: number }

export interface RunOptions {
  policy: PolicyName
  seed: number
  durationMs: number
  /** Points per series in the report; 0 = no series. */
  reportPoints: number
  /** Called every so often with the simulated time (for a progress bar). */
  onProgress?: (nowMs: number) => void
  /** Test only: deliberate bugs (see InjectedBug). */
  bugs?: readonly InjectedBug[]
  /**
   * Load forecasting for services with a `forecast` block (sim/forecast-sim.ts): each simulated
   * supervisor gets its own ForecastRunner over these shared models. Needs runAsync().
   */
  forecast?: SimForecast
  /**
   * This simulation is one site of a sharded run (sim/sharded-run.ts, sim/cross-site.ts): it
   * runs that site's hosts only, on its own queue and random streams; the network is the run's,
   * and what goes to other sites leaves through `shard.send`. Absent: the whole world on one
   * queue (the baselines, whose controller reads every site at once).
   */
  shard?: SiteShard
  /** Test only: keep a digest of every host's transcript (transcriptDigests()). */
  transcripts?: boolean
  /** Test only: false sends every cross-site record apart (SiteShard.batchRecords; default true). */
  batchCrossSite?: boolean
  /**
   * Test only: false queues one delivery per receiver instead of one per message and delay
   * (scheduleDeliveries; default true). The run is the same either way (test/sim/sharding.test.ts).
   */
  batchDeliveries?: boolean
}

/** Idle work never leaves a site's messages less than this share of its cores (gossip.idleCpuPct). */
const MIN_CPU_SHARE_LEFT = 0.1
/** spec-drift raises maxReplicas by this much. */
const SPEC_DRIFT_REPLICAS = 5
/** clock-back feeds the core a time this far behind. */
const CLOCK_BACK_MS = 1000
/** oversize-label's value: above PROTOCOL_LIMITS.maxLabelValueBytes (256). */
const OVERSIZE_LABEL_BYTES = 300

export class Simulation {
  readonly hosts: SimHost[] = []
  /** Hosts by id, for messages addressed to one host (publishDirect). */
  private readonly hostById = new Map<string, SimHost>()
  readonly net: Network
  readonly load: LoadModel
  readonly ledger: ContainerLedger
  readonly observer = new Observer()
  readonly queue: EventQueue<SimEvent>
  private readonly rng: { cores: Rng, gossip: Rng, containers: Rng, faults: Rng, misc: Rng }
  private readonly siteHosts: SimHost[][]
  private readonly siteSpecs: ServiceSpec[][]
  private readonly siteSpecByName: Map<string, ServiceSpec>[]
  private readonly siteTimings: CoreTimings[]
  private readonly serviceIndex: Map<string, number>
  /** Per site (sharded: this site's only). */
  private readonly meshes: (SiteMesh | undefined)[]
  private readonly reporters: SimHost[][]
  private readonly siteLeader: Int32Array
  private readonly siteLeaderTerm: Float64Array
  /** Per site: every host that leads now (its core's role), where `leader` messages go. */
  private readonly siteLeading: number[][]
  private readonly controller: CentralController | undefined
  /** The controller's pending wake-up (Infinity when none is queued). */
  private controllerWakeMs = Infinity
  private readonly signalKilled = new Map<number, { sinceMs: number, value: number, rate: number }>()
  private readonly upstreamKilled = new Map<number, { sinceMs: number, value: number }>()
  private readonly replaceBoundMs: number[]
  /** Injected bugs per host index (test only). */
  private readonly bugs = new Map<number, InjectedBug[]>()
  private readonly driftedSites = new Set<number>()
  /** Sharded: this site's first host's index (hosts holds that site's hosts only). */
  private readonly hostBase: number
  private readonly shard: SiteShard | undefined
  /** Sharded: what this site sent to others so far (their order in the receiving queue). */
  private crossSeq = 0
  /** Sharded: overflow replicas other sites run for this site's pairs (their copies of `running`). */
  private readonly remoteRunning: Int32Array
  /**
   * Sharded: the ledger counts this site's pairs, then one counter per (other site, service)
   * whose overflow this site may run, at foreignFrom + site × services + service.
   */
  private readonly foreignFrom: number
  /** Test only: every host's transcript, digested (opts.transcripts). */
  private readonly transcripts: TranscriptDigests | undefined
  /** Per site: the runtime's services (one lookup shared by the site's hosts). */
  private readonly runtimeServices: RuntimeServices[] = []
  // figures
  readonly propagation: MsHistogram
  deliveries = 0
  lostDeliveries = 0
  gossipBytes = 0
  private readonly failoverPending = new Map<number, number>()
  readonly failoversMs: number[] = []
  private readonly stepWatch: { pair: number, atMs: number, from: number }[] = []
  readonly reactionsMs: number[] = []
  reactionsCensored = 0
  readonly series: RunSeries = { tMs: [], backlog: [], desired: [], running: [] }
  readonly markers: Marker[] = []
  /** Per (site, service, helping site): the overflow replicas last marked, so a marker says a change. */
  private readonly spillShown = new Map<string, number>()
  private readonly scratchDelay: Int32Array
  /** CPU one received message costs its host (gossip.messageCpuUs), ms. */
  private readonly messageCostMs: number
  /** CPU one duplicate copy costs its host (gossip.duplicateCpuUs), ms. */
  private readonly duplicateCostMs: number
  /** CPU each end of a new connection costs (gossip.connectCpuUs), ms. */
  private readonly connectCostMs: number
  /** CPU a host spends on a dead peer's connection before its core hears of it (gossip.disconnectCpuUs), ms. */
  private readonly disconnectCostMs: number
  /** Per site, its shared cores (gossip.siteCores; none: a core per host). */
  private readonly siteCores: CpuCalendar[][]
  /**
   * Per site, how much longer a message's CPU takes because the hosts' idle work
   * (gossip.idleCpuPct) holds part of their cores: 1 ÷ the share left for messages.
   */
  private readonly siteCpuStretch: number[]
  /** Messages round-tripped through the codec (for tests and the docs' cost figure). */
  codecRoundTrips = 0
  private readonly scratchHost: Int32Array
  /** spread: when each host a route reaches is done reading the message (ms). */
  private scratchDone = new Float64Array(64)
  private countScratch = new Int32Array(64)
  private bookkeepingEvents = 0
  private lastMessageInput: CoreInput & { type: 'message' } = { type: 'message', message: undefined as unknown as Message }
  /** Forecast work (model loads, evaluations) queued by the supervisors, run before the next event. */
  private forecastWork: (() => Promise<void>)[] = []

  constructor (readonly scenario: Scenario, readonly opts: RunOptions) {
    const shard = opts.shard
    this.shard = shard
    simAssert(shard === undefined || opts.policy === 'agentmesh', 'only agentmesh runs sharded (a central controller reads every site at once)')
    const mine = (s: number): boolean => shard === undefined || s === shard.site
    // Forked in a fixed order, so each purpose's stream depends on the seed alone (and, sharded,
    // on the site's index). Faults and flaps draw from streams no policy-specific event
    // touches: every policy sees the same.
    const root = shard === undefined ? new Rng(opts.seed) : siteRng(opts.seed, shard.site)
    this.rng = { cores: root.fork(1), gossip: root.fork(2), containers: root.fork(3), faults: root.fork(4), misc: root.fork(5) }
    const flapRng = root.fork(6)
    this.serviceIndex = new Map(scenario.services.map((s, i) => [s.spec.name, i]))
    // Sharded, the other sites' entries are shared empties: a fleet has hundreds of sites, each its own simulation.
    const none: ServiceSpec[] = []
    const noSpecs = new Map<string, ServiceSpec>()
    const someTimings = timingsFor('lan')
    this.siteSpecs = scenario.sites.map((site, s) => mine(s) ? scenario.services.filter(x => x.sites.includes(site.name)).map(x => x.spec) : none)
    this.siteSpecByName = this.siteSpecs.map((specs, s) => mine(s) ? new Map(specs.map(x => [x.name, x])) : noSpecs)
    this.siteTimings = scenario.sites.map((site, s) => mine(s) ? timingsFor(site.profile) : someTimings)
    // A site's queue is smaller: a sharded fleet has hundreds of them.
    this.queue = new EventQueue<SimEvent>(shard === undefined ? undefined : siteWheelMs(this.siteTimings[shard.site].heartbeatIntervalMs))
    const noHosts: SimHost[] = []
    this.siteHosts = scenario.sites.map((_, s) => mine(s) ? [] : noHosts)
    this.load = new LoadModel(scenario, shard?.site)
    this.remoteRunning = new Int32Array(this.load.pairs.length)
    this.foreignFrom = this.load.pairs.length
    const foreign = shard === undefined ? 0 : scenario.sites.length * scenario.services.length
    this.ledger = new ContainerLedger(this.load.pairs.length + foreign, this.foreignFrom, (pair, delta) => this.foreignRunning(pair, delta))
    this.propagation = shard?.propagation ?? new MsHistogram()
    let base = 0
    for (let s = 0; s < (shard?.site ?? 0); s++) base += scenario.sites[s].hosts
    this.hostBase = base
    const siteOf: number[] = []
    scenario.sites.forEach((site, s) => {
      for (let i = 0; i < site.hosts; i++) siteOf.push(s)
      if (!mine(s)) return
      for (let i = 0; i < site.hosts; i++) {
        const id = hostIdOf(site.name, i, site.hosts)
        // The ports are made with the host, so every host has one shape from the start (a field
        // set later made the run's hottest accesses slower).
        const h: SimHost = {
          idx: this.hostBase + this.hosts.length, id, site: s, local: i,
          labels: new Map(Object.entries({ site: site.name, kind: site.kind, ...site.labels })),
          capacity: { slots: site.slots, cpuMillis: site.slots * 1000, memoryMib: site.slots * 1024 }, priority: site.priority,
          machineUp: true, supUp: false, upSinceMs: 0, life: 0, incarnation: 0, persisted: undefined, core: undefined,
          tickAtMs: Infinity, observePending: false, runtime: this.newRuntime(s, id),
          transport: new SimulatedTransport((topic, m, to) => {
            if (topic === 'site' && to !== undefined) this.publishDirect(h, to, m)
            else if (topic === 'site') this.publishSite(h, m)
            else if (topic === 'leader') this.publishToLeader(h, m)
            else this.publishGlobal(h, m)
          }, (count) => { h.driverOnly = count === 1 }),
          driverOnly: false,
          agentWanted: new Map(), downSinceMs: -Infinity, deficitSinceMs: -1, encodeCount: 0, heartbeatBytes: 0, digestBytes: 0, digestMembers: -1, cpu: new CpuCalendar(), codecCount: 0, digestsSent: 0,
        }
        this.listenToPorts(h)
        this.hosts.push(h)
        this.hostById.set(id, h)
        this.siteHosts[s].push(h)
      }
    })
    this.net = shard?.net ?? new Network(scenario.sites, scenario.links, Int32Array.from(siteOf))
    this.siteLeader = new Int32Array(scenario.sites.length).fill(-1)
    this.siteLeaderTerm = new Float64Array(scenario.sites.length)
    this.siteLeading = scenario.sites.map(() => [])
    this.reporters = this.siteHosts.map((hosts, s) => mine(s) ? hosts.slice(0, Math.min(scenario.signals.reporters, hosts.length)) : noHosts)
    this.replaceBoundMs = scenario.sites.map(s => scenario.replaceWithinMs + 2 * scenario.containers.startLatency[s.kind].p99Ms)
    const maxSite = Math.max(...scenario.sites.map((site, s) => mine(s) ? site.hosts : 0))
    // Big enough for one site's receivers, or one leader per site on the global topic.
    const scratch = Math.max(maxSite, scenario.sites.length) + 1
    this.scratchDelay = new Int32Array(scratch)
    this.messageCostMs = scenario.gossip.messageCpuUs / 1000
    this.connectCostMs = scenario.gossip.connectCpuUs / 1000
    this.disconnectCostMs = scenario.gossip.disconnectCpuUs / 1000
    this.duplicateCostMs = scenario.gossip.duplicateCpuUs / 1000
    this.siteCores = scenario.sites.map((_, s) => Array.from({ length: mine(s) ? scenario.gossip.siteCores : 0 }, () => new CpuCalendar()))
    this.siteCpuStretch = scenario.sites.map(site => {
      const idle = scenario.gossip.idleCpuPct / 100
      const held = scenario.gossip.siteCores > 0 ? idle * site.hosts / scenario.gossip.siteCores : idle
      return 1 / Math.max(MIN_CPU_SHARE_LEFT, 1 - held)
    })
    this.scratchHost = new Int32Array(scratch)
    this.meshes = this.siteHosts.map((hosts, s) => !mine(s)
      ? undefined
      : new SiteMesh(hosts.length, scenario.gossip, this.rng.gossip,
        local => hosts[local].supUp,
        (a, b) => this.net.group[hosts[a].idx] === this.net.group[hosts[b].idx]))
    this.transcripts = opts.transcripts === true ? new TranscriptDigests() : undefined
    if (opts.policy !== 'agentmesh') {
      this.controller = new CentralController(opts.policy, scenario, this.load, this.siteSpecs, this.controllerPorts(), this.siteHosts.map(hs => hs.map(h => h.idx)))
    }
    for (const b of opts.bugs ?? []) {
      for (const h of this.hosts) {
        if (b.host !== '*' && b.host !== h.id) continue
        const list = this.bugs.get(h.idx) ?? []
        list.push(b)
        this.bugs.set(h.idx, list)
      }
    }
    this.scheduleWorld(flapRng)
    this.scheduleBugs()
  }

  /** Test only: each host's transcript digest (opts.transcripts), by host id. */
  transcriptDigests (): Record<string, string> {
    simAssert(this.transcripts !== undefined, 'transcripts were asked for')
    return this.transcripts.done()
  }

  /** A host of this simulation by its index in the fleet. */
  private host (idx: number): SimHost {
    return this.hosts[idx - this.hostBase]
  }

  /** Bugs that act at one moment (a restart with a broken config, a runtime that starts doubling). */
  private scheduleBugs (): void {
    for (const [idx, list] of this.bugs) {
      const h = this.host(idx)
      for (const b of list) {
        if (b.bug === 'over-capacity') this.at(b.atMs, () => { h.runtime.startsPerAction = 2 })
        if (b.bug === 'oversize-label') {
          this.at(b.atMs, () => { h.labels.set('bug', 'x'.repeat(OVERSIZE_LABEL_BYTES)); this.stopSupervisor(h, true); this.startSupervisor(h) })
        }
        if (b.bug === 'spec-drift') {
          this.at(b.atMs, () => {
            if (this.driftedSites.has(h.site)) return
            this.driftedSites.add(h.site)
            for (const o of this.siteHosts[h.site]) if (o.supUp) { this.stopSupervisor(o, true); this.startSupervisor(o) }
          })
        }
      }
    }
  }

  private bug (h: SimHost, name: BugName): boolean {
    const list = this.bugs.get(h.idx)
    return list !== undefined && list.some(b => b.bug === name && b.atMs <= this.now)
  }

  // ---- set-up ------------------------------------------------------------------------------

  /**
   * A host's runtime (the port, as in the daemon). It draws its start latencies, failures and
   * crashes from the container stream, in the order a start and a container reaching running
   * ask for them.
   */
  private newRuntime (site: number, hostId: string): SimulatedRuntime {
    const sc = this.scenario
    const kind = sc.sites[site].kind
    const services = this.runtimeServices[site] ?? this.newRuntimeServices(site)
    this.runtimeServices[site] = services
    const rng = this.rng.containers
    return new SimulatedRuntime({ hostId, site: sc.sites[site].name, services }, {
      now: () => this.now,
      at: (atMs, fn) => this.at(atMs, fn),
      drawStart: () => ({ latencyMs: logNormalMs(sc.containers.startLatency[kind], rng), fails: rng.next() < sc.containers.startFailure }),
      drawCrashAfterMs: () => {
        const mtbf = sc.containers.crashMtbfMs
        if (mtbf <= 0) return undefined
        const after = Math.max(1, Math.round(-Math.log(1 - rng.next()) * mtbf))
        return this.now + after <= this.opts.durationMs ? after : undefined
      },
      ledger: this.ledger,
      onRunning: (c) => this.checkReaction(c.pair),
    })
  }

  /** The services the runtimes of a site's hosts know, with their load pairs (one lookup per site: it never changes). */
  private newRuntimeServices (site: number): RuntimeServices {
    const own = new Map(this.siteSpecs[site].map(spec => [spec.name, { pair: this.load.pair(site, this.serviceIndex.get(spec.name)!), slots: spec.slotsPerReplica }]))
    const siteIndex = new Map(this.scenario.sites.map((s, i) => [s.name, i]))
    const overflow = new Map<string, { pair: number, slots: number } | undefined>()
    // Another site's overflow of a service this site runs too (`service@origin`, core/spill.ts):
    // its replicas drain the origin's queue, as the daemon's agent is told to. Sharded, the
    // origin's pairs are counted here apart (foreignFrom) and told to it (foreignRunning).
    // Looked up when first started: a fleet has hundreds of sites, each could send overflow.
    return {
      get: (name) => {
        const mine = own.get(name)
        if (mine !== undefined) return mine
        if (overflow.has(name)) return overflow.get(name)
        const o = parseOverflowName(name)
        const origin = o === undefined ? undefined : siteIndex.get(o.origin)
        const spec = o === undefined ? undefined : own.get(o.service)
        let found: { pair: number, slots: number } | undefined
        if (o !== undefined && origin !== undefined && origin !== site && spec !== undefined) {
          const v = this.serviceIndex.get(o.service)!
          const pair = this.shard === undefined ? this.load.pair(origin, v) : this.scenario.services[v].sites.includes(o.origin) ? this.foreignFrom + origin * this.scenario.services.length + v : -1
          if (pair >= 0) found = { pair, slots: spec.slots }
        }
        overflow.set(name, found)
        return found
      },
    }
  }

  /**
   * Sharded: overflow replicas this site runs for another started or stopped running; they drain
   * the origin's queue once the change has crossed the link between the two sites (its median
   * latency, at least the run's lookahead).
   */
  private foreignRunning (pair: number, delta: number): void {
    const shard = this.shard
    if (shard === undefined) return
    const k = pair - this.foreignFrom
    const services = this.scenario.services.length
    const site = Math.floor(k / services)
    const afterMs = Math.max(shard.lookaheadMs, Math.round(this.net.link(shard.site, site).medianMs))
    shard.send({ kind: 'running', fromSite: shard.site, targets: [{ site, seq: this.nextCrossSeq(), arriveAtMs: this.now + afterMs }], service: k % services, delta })
  }

  /** Replicas running that serve a pair of this site: its own and, sharded, those other sites run for it. */
  runningOf (pair: number): number {
    return this.ledger.running[pair] + this.remoteRunning[pair]
  }

  /**
   * The driver's side of the ports: a runtime change asks for an observation (Docker's event
   * stream); a delivered copy feeds the core. The driver listens first, and never stops: while
   * its listener is the transport's only one, deliverTo does what it would without calling it.
   */
  private listenToPorts (h: SimHost): void {
    h.runtime.onChange(() => this.scheduleObserve(h))
    h.transport.onMessage((_topic, message) => this.feed(h, message))
  }

  /** A delivered copy, fed to the host's core (the driver's listener, or deliverTo for it). */
  private feed (h: SimHost, message: Message): void {
    this.input(h, this.messageInput(message))
  }

  /**
   * The core's input for a delivered message, one per message (the receivers of one message
   * share it, as they share the message: the core never keeps or mutates either). A delivery
   * is the hottest path of a run: an input per receiver cost about a third of a run's time.
   */
  private messageInput (message: Message): CoreInput {
    if (this.lastMessageInput.message !== message) this.lastMessageInput = { type: 'message', message }
    return this.lastMessageInput
  }

  private scheduleWorld (flapRng: Rng): void {
    const sc = this.scenario
    const policy = this.opts.policy
    for (const h of this.hosts) {
      const at = this.rng.misc.int(START_SPREAD_MS)
      this.at(at, () => this.startSupervisor(h))
    }
    if (policy === 'agentmesh') {
      this.at(START_SPREAD_MS, () => { this.meshes.forEach((m, s) => { if (m !== undefined) this.connected(s, m.build()) }) })
      sc.sites.forEach((_, s) => { if (this.shard === undefined || s === this.shard.site) this.every(this.rng.misc.int(sc.signals.intervalMs), sc.signals.intervalMs, () => this.sampleSignals(s)) })
    } else {
      this.scheduleControllerWake()
    }
    this.every(0, sc.loadStepMs, () => this.loadStep())
    this.every(OBSERVER_SWEEP_MS, OBSERVER_SWEEP_MS, () => this.sweepPlansCarriedOut())
    for (const step of this.load.stepUps()) {
      if (step.atMs < this.opts.durationMs) this.at(step.atMs, () => this.stepWatch.push({ ...step, from: this.runningOf(step.pair) }))
    }
    this.scheduleFaults()
    if (this.shard !== undefined) {
      // The network's changes and the faults drawn among every site's hosts are the sharded run's (sharded-run.ts).
      this.scheduleExtras()
      return
    }
    sc.sites.forEach((site, s) => {
      if (site.flap === undefined) return
      // The whole flap schedule is drawn up front, so it is the same for every policy.
      let t = 0
      for (;;) {
        t += Math.max(1, Math.round(-Math.log(1 - flapRng.next()) * site.flap.upMs))
        if (t >= this.opts.durationMs) break
        const down = Math.max(1, Math.round(-Math.log(1 - flapRng.next()) * site.flap.downMs))
        this.at(t, () => this.setUplink(s, false))
        this.at(Math.min(t + down, this.opts.durationMs), () => this.setUplink(s, true))
        t += down
      }
    })
    this.scheduleExtras()
  }

  /** The scenario's faults: sharded, only those inside this site (cross-site.ts, faultScope). */
  private scheduleFaults (): void {
    const shard = this.shard
    const hostSites = shard === undefined ? undefined : hostSitesOf(this.scenario)
    for (const f of this.scenario.faults) {
      if (f.atMs > this.opts.durationMs) continue
      if (shard !== undefined) {
        const where = faultScope(this.scenario, f, hostSites!)
        if (where.scope !== 'site' || where.site !== shard.site) continue
      }
      this.at(f.atMs, () => this.applyFault(f))
    }
  }

  /** Report series and progress: bookkeeping, which cannot change the run. */
  private scheduleExtras (): void {
    const sc = this.scenario
    if (this.opts.reportPoints > 0) {
      const every = Math.max(sc.loadStepMs, Math.ceil(this.opts.durationMs / this.opts.reportPoints / sc.loadStepMs) * sc.loadStepMs)
      this.series.backlog = this.load.pairs.map(() => [])
      this.series.desired = this.load.pairs.map(() => [])
      this.series.running = this.load.pairs.map(() => [])
      if (this.opts.forecast !== undefined) {
        this.series.rate = this.load.pairs.map(() => [])
        this.series.forecast = this.load.pairs.map(() => [])
      }
      this.every(every - 1, every, () => this.recordSeries(), true)
    }
    if (this.opts.onProgress !== undefined) {
      const every = Math.max(1000, Math.floor(this.opts.durationMs / 200))
      this.every(every, every, () => this.opts.onProgress!(this.now), true)
    }
  }

  get now (): number { return this.queue.now }

  private at (atMs: number, fn: () => void): void {
    this.queue.push(Math.max(this.now, Math.round(atMs)), { k: K.Fn, fn })
  }

  /** Runs fn at first, then every periodMs, until the end of the run. */
  private every (first: number, periodMs: number, fn: () => void, bookkeeping = false): void {
    const run = (t: number): void => {
      if (t > this.opts.durationMs) return
      if (bookkeeping) this.bookkeepingEvents++
      this.at(t, () => { fn(); run(t + periodMs) })
    }
    run(first)
  }

  /** Events of the simulated world (report sampling and progress excluded, so they cannot change the summary). */
  get worldEvents (): number {
    return this.queue.processed - this.bookkeepingEvents
  }

  // ---- running -----------------------------------------------------------------------------

  run (): void {
    simAssert(this.opts.forecast === undefined, 'a forecasting run is driven by runAsync()')
    this.queue.runUntil(this.opts.durationMs, (e) => this.dispatch(e), () => this.observer.violation !== undefined)
    this.ledger.accrue(Math.min(this.now, this.opts.durationMs))
    this.reactionsCensored = this.stepWatch.length
  }

  /**
   * Runs the world up to `untilMs` (never past the run's duration), whatever the observer
   * found: for a test that drives a run step by step (the transport contract). `run()` stops
   * at the first violation.
   */
  runUntil (untilMs: number): void {
    this.queue.runUntil(Math.min(untilMs, this.opts.durationMs), (e) => this.dispatch(e), () => false)
  }

  /**
   * run(), with the forecast work the supervisors queue: the queue stops after the event that
   * queued some, the work is awaited in the order it was queued (simulated time stands still
   * meanwhile), and the run goes on. Every answer lands before the next event, on every run.
   */
  async runAsync (): Promise<void> {
    const stop = (): boolean => this.observer.violation !== undefined || this.forecastWork.length > 0
    for (;;) {
      this.queue.runUntil(this.opts.durationMs, (e) => this.dispatch(e), stop)
      if (this.forecastWork.length === 0 || this.observer.violation !== undefined) break
      const work = this.forecastWork
      this.forecastWork = []
      for (const w of work) await w()
    }
    this.ledger.accrue(Math.min(this.now, this.opts.durationMs))
    this.reactionsCensored = this.stepWatch.length
  }

  get stoppedAtMs (): number { return this.now }

  /** What this simulation measured (its pairs in its load model's order). */
  figures (): RunFigures {
    return {
      hosts: this.hosts.length,
      violation: this.observer.violation,
      stoppedAtMs: this.stoppedAtMs,
      events: this.worldEvents,
      elections: this.observer.elections,
      containerMs: this.ledger.containerMs,
      reactionsMs: this.reactionsMs,
      reactionsCensored: this.reactionsCensored,
      failoversMs: this.failoversMs,
      propagation: this.propagation,
      deliveries: this.deliveries,
      lostDeliveries: this.lostDeliveries,
      gossipBytes: this.gossipBytes,
      anySlaViolationMs: this.load.anySlaViolationMs,
      pairs: this.load.pairs.map(p => ({
        site: p.site, service: p.service, slaViolationMs: this.load.slaViolationMs[p.index], clairvoyantMs: this.load.clairvoyantMs[p.index],
        backlog: this.load.backlog[p.index], running: this.runningOf(p.index),
      })),
      series: this.series,
      markers: this.markers,
    }
  }

  /** Sharded: the start of every load step in which a pair of this site was above its SLA. */
  get violatingStepsMs (): readonly number[] {
    return this.load.violatingStepsMs ?? []
  }

  // ---- sharded: one site, run window by window (sharded-run.ts) ---------------------------

  private readonly dispatchFn = (e: SimEvent): void => this.dispatch(e)
  private readonly violatedFn = (): boolean => this.observer.violation !== undefined

  /** The clock moves to a window's start: every event before it has run. */
  startWindow (atMs: number): void {
    this.queue.advanceTo(atMs)
  }

  /** Runs this site up to `endMs` (included); it stops at its first violation. */
  runWindow (endMs: number): void {
    this.queue.runUntil(endMs, this.dispatchFn, this.violatedFn)
  }

  /** runWindow with the forecast work the supervisors queue, awaited as runAsync() does. */
  async runWindowAsync (endMs: number): Promise<void> {
    const stop = (): boolean => this.observer.violation !== undefined || this.forecastWork.length > 0
    for (;;) {
      this.queue.runUntil(endMs, this.dispatchFn, stop)
      if (this.forecastWork.length === 0 || this.observer.violation !== undefined) break
      const work = this.forecastWork
      this.forecastWork = []
      for (const w of work) await w()
    }
  }

  /** The run is over: container time is counted to the end, reactions still awaited are censored. */
  finish (): void {
    this.ledger.accrue(Math.min(this.now, this.opts.durationMs))
    this.reactionsCensored = this.stepWatch.length
  }

  private dispatch (e: SimEvent): void {
    switch (e.k) {
      case K.Deliver: return this.deliver(e.topic, e.message, e.to, e.from, e.sentAt)
      case K.Tick: {
        const h = e.h
        if (h.life !== e.life || h.tickAtMs !== e.at || h.core === undefined) return
        h.tickAtMs = Infinity
        this.input(h, TICK)
        return
      }
      case K.Observe: {
        const h = e.h
        h.observePending = false
        if (h.life !== e.life || !h.supUp) return
        if (h.core !== undefined) this.observed(h)
        else this.agentReconcile(h)
        return
      }
      case K.Fn: return e.fn()
    }
  }

  // ---- the core driver ---------------------------------------------------------------------

  private input (h: SimHost, input: CoreInput): void {
    const core = h.core!
    const transcript = this.transcripts
    if (transcript !== undefined) transcript.add(h.id, describeInput(this.now, input))
    try {
      core.handle(input, this.bugs.size > 0 && this.bug(h, 'clock-back') ? this.now - CLOCK_BACK_MS : this.now)
    } catch (err) {
      this.observer.fail({ invariant: 'core-no-throw', atMs: this.now, site: this.siteName(h), host: h.id, detail: `${(err as Error).name}: ${(err as Error).message}` })
      return
    }
    let out = core.pollOutput()
    if (out !== undefined) {
      let acted = false
      while (out !== undefined) {
        if (transcript !== undefined) transcript.add(h.id, describeOutput(out))
        acted = this.perform(h, out) || acted
        out = core.pollOutput()
      }
      if (acted) this.checkCapacity(h)
    }
    if (h.core !== core) return
    let d = core.nextDeadlineMs()
    if (d <= this.now) d = input === TICK ? this.now + 1 : this.now
    if (d < h.tickAtMs) {
      h.tickAtMs = d
      this.queue.push(d, { k: K.Tick, h, at: d, life: h.life })
    }
  }

  /** Performs one output; true when it was a container action. */
  private perform (h: SimHost, out: CoreOutput): boolean {
    switch (out.type) {
      case 'publish':
        h.transport.publish(out.topic, out.message, out.to)
        return false
      case 'event': this.onCoreEvent(h, out.event); return false
      case 'persist': h.persisted = out.state; return false
      case 'observe': this.scheduleObserve(h); return false
      case 'action': {
        let action = out.action
        if (action.type === 'start' && this.bugs.size > 0 && this.bug(h, 'stale-term')) action = { ...action, term: action.term - 1 }
        if (action.type === 'start') this.observer.startExecuted(this.siteName(h), h.id, action.term, h.core!.currentTerm, this.now)
        this.applyAction(h, action)
        return true
      }
    }
  }

  private onCoreEvent (h: SimHost, e: CoreEvent): void {
    const site = h.site
    switch (e.kind) {
      case 'leader-elected': {
        this.observer.leaderElected(this.siteName(h), e.term, h.id, this.now)
        if (e.term >= this.siteLeaderTerm[site]) { this.siteLeader[site] = h.idx; this.siteLeaderTerm[site] = e.term }
        if (!this.siteLeading[site].includes(h.idx)) this.siteLeading[site].push(h.idx)
        this.pinLeader(h)
        const since = this.failoverPending.get(site)
        if (since !== undefined) { this.failoversMs.push(this.now - since); this.failoverPending.delete(site) }
        this.marker('leader', site, `${h.id} leads term ${e.term}`)
        return
      }
      case 'stepped-down':
        if (this.siteLeader[site] === h.idx) this.siteLeader[site] = -1
        this.notLeading(h)
        return
      case 'plan-adopted':
        if (this.bugs.size > 0 && this.bug(h, 'forged-leader') && this.siteLeader[site] !== h.idx) this.observer.leaderElected(this.siteName(h), e.term, h.id, this.now)
        return
      case 'spill-offered': {
        const key = `${site}/${e.service}/${e.fromSite}`
        if (this.spillShown.get(key) !== e.replicas) this.marker('spill', site, `${e.fromSite} runs ${e.replicas} of ${e.service} (asked ${e.asked})`)
        this.spillShown.set(key, e.replicas)
        return
      }
      case 'plan-published': {
        const plan = h.core!.plan?.plan
        if (plan !== undefined && plan.version === e.version) this.observer.planPublished(this.siteName(h), h.id, plan, this.siteSpecByName[site], this.now)
        return
      }
      default:
    }
  }

  /**
   * The new leader's followers pin it as a dial target when its first digest comes (within a
   * heartbeat interval), and dial it at once (Mesh.noteLeader): each is connected to it from
   * then on, over targetPeers (a dial's own time is not modelled).
   */
  private pinLeader (h: SimHost): void {
    const mesh = this.meshes[h.site]
    if (mesh === undefined || mesh.pinned === h.local) return
    mesh.pinned = h.local
    const life = h.life
    this.at(this.now + this.siteTimings[h.site].heartbeatIntervalMs, () => {
      if (h.life !== life || mesh.pinned !== h.local) return
      this.connected(h.site, mesh.dialPinned())
    })
  }

  private notLeading (h: SimHost): void {
    const leading = this.siteLeading[h.site]
    const i = leading.indexOf(h.idx)
    if (i >= 0) leading.splice(i, 1)
  }

  private marker (kind: Marker['kind'], site: number, text: string): void {
    if (this.markers.length < MAX_MARKERS) this.markers.push({ tMs: this.now, kind, site: site < 0 ? '' : this.scenario.sites[site].name, text })
  }

  private siteName (h: SimHost): string {
    return this.scenario.sites[h.site].name
  }

  // ---- gossip ------------------------------------------------------------------------------

  /**
   * Encoded size of a message. Every message but heartbeats and site digests is encoded; of
   * those, which each host sends every interval and which barely change between two, one in
   * 16, and a digest also whenever it lists another number of members than the last one
   * encoded; the others are sized as the last one encoded (a digest's ages may differ by a byte
   * or two). A digest not encoded is still validated against the protocol's limits, so the
   * message-encodable invariant sees every one. −1 when the codec refuses it: the message
   * goes nowhere, as libp2p's Mesh drops it (the transport contract), and the observer keeps
   * the broken invariant. Encoding digests was a tenth of a 1,000-host fleet run.
   */
  private messageBytes (h: SimHost, m: Message): number {
    const body = m.body
    if (body.kind === 'heartbeat' && h.encodeCount++ % PERIODIC_ENCODE_EVERY !== 0) return h.heartbeatBytes
    if (body.kind === 'siteDigest' && body.siteDigest.members.length === h.digestMembers && h.encodeCount++ % PERIODIC_ENCODE_EVERY !== 0) {
      const problem = validateMessage(m)
      if (problem === undefined) return h.digestBytes
      this.observer.fail({ invariant: 'message-encodable', atMs: this.now, site: this.siteName(h), host: h.id, detail: `${body.kind}: ${problem.message}` })
      return -1
    }
    let encoded: Uint8Array
    try {
      encoded = encodeMessage(m)
    } catch (err) {
      this.observer.fail({ invariant: 'message-encodable', atMs: this.now, site: this.siteName(h), host: h.id, detail: `${m.body.kind}: ${(err as Error).message}` })
      return -1
    }
    const every = this.scenario.gossip.codecSampleEvery
    if (every > 0 && h.codecCount++ % every === 0) this.codecRoundTrip(h, m, encoded)
    if (body.kind === 'heartbeat') h.heartbeatBytes = encoded.length
    if (body.kind === 'siteDigest') { h.digestBytes = encoded.length; h.digestMembers = body.siteDigest.members.length }
    return encoded.length
  }

  /**
   * codec-round-trip: the message the core published, encoded, decodes to the same message
   * (every field, undefined and absent alike), and that decoded message encodes to the same
   * bytes. The simulator hands receivers the publisher's object, never bytes: without this, a
   * field the encoder drops or the decoder misreads would go unseen here and break only the
   * daemon.
   */
  private codecRoundTrip (h: SimHost, m: Message, encoded: Uint8Array): void {
    this.codecRoundTrips++
    const fail = (detail: string): void => { this.observer.fail({ invariant: 'codec-round-trip', atMs: this.now, site: this.siteName(h), host: h.id, detail: `${m.body.kind}: ${detail}` }) }
    let decoded: Message
    let again: Uint8Array
    try {
      decoded = decodeMessage(encoded)
      if (this.bugs.size > 0 && this.bug(h, 'codec-asymmetry')) decoded = { ...decoded, sentAtMs: Math.floor(decoded.sentAtMs / 1000) }
      again = encodeMessage(decoded)
    } catch (err) {
      fail(`its own encoding does not decode and encode again: ${(err as Error).message}`)
      return
    }
    const diff = firstDifference(m, decoded, 'message')
    if (diff !== undefined) { fail(`decode(encode(m)) differs from m at ${diff}`); return }
    if (!sameBytes(encoded, again)) fail(`encode(decode(bytes)) differs from the bytes (${encoded.length} → ${again.length} bytes)`)
  }

  private publishSite (h: SimHost, m: Message): void {
    const bytes = this.messageBytes(h, m)
    if (bytes < 0) return
    const route = this.meshes[h.site]!.route(h.local)
    this.gossipBytes += bytes * (route.transmissions + route.unreached.length)
    // Hosts that run but have no connection yet: gossip cannot reach them.
    this.lostDeliveries += route.isolated
    // A digest the daemon sends each member on its own topic crosses one connection: no copies.
    const direct = m.body.kind === 'siteDigest' && this.digestDirect(h, m.body.siteDigest.members)
    const n = this.spread(h, route, direct, -1)
    this.scheduleDeliveries('site', m, h.idx, n, this.now, true)
  }

  /**
   * One publish on the site topic over `route`: its eager copies hop by hop, then the repairs of
   * the hosts no path reaches. Each host that gets a copy is charged for reading it (and its
   * duplicate copies, unless `noDuplicates`), and is listed in scratchHost and scratchDelay with
   * when it is done; returns how many are listed. A relay forwards only once it has read and
   * validated a message (gossipsub validates before it forwards): a later hop leaves when the
   * first of its parents is done with it, behind what that relay's CPU already had. `only` (a
   * local index, or −1 for every host): the one host the message is for, the only one listed;
   * the others still read it and drop it (the daemon's messages for one host that has no direct
   * connection, publishDirect).
   */
  private spread (h: SimHost, route: Route, noDuplicates: boolean, only: number): number {
    const link = this.net.intra[h.site]
    const hosts = this.siteHosts[h.site]
    const rng = this.rng.gossip
    const delays = this.scratchDelay
    const to = this.scratchHost
    const now = this.now
    const charge = this.messageCostMs > 0 || this.duplicateCostMs > 0
    // When each reached host is done reading the message (ms; Infinity: it never got it).
    if (this.scratchDone.length < route.order.length) this.scratchDone = new Float64Array(route.order.length * 2)
    const doneAt = this.scratchDone
    let n = 0
    for (let i = 0; i < route.order.length; i++) {
      const hops = route.hops[i]
      let leaves = now
      if (hops > 1) {
        leaves = Infinity
        for (let k = route.parentStart[i]; k < route.parentStart[i + 1]; k++) leaves = Math.min(leaves, doneAt[route.parentList[k]])
        // Every parent lost its copy: the hop count's worth of links, as if none had to read it.
        if (leaves === Infinity) leaves = now + (hops - 1) * link.medianMs
      }
      let d = leaves - now + link.medianMs + rng.next() * link.jitterMs
      if (link.loss > 0 && rng.next() < link.loss ** route.parents[i]) d = this.repairDelay(d, link.medianMs, link.jitterMs, link.loss)
      const local = route.order[i]
      if (d < 0) { if (only < 0 || local === only) this.lostDeliveries++; doneAt[i] = Infinity; continue }
      const r = hosts[local]
      const arrives = now + Math.max(1, Math.round(d))
      const done = charge ? this.runOnCpu(r, arrives, this.messageCostMs + (noDuplicates ? 0 : route.duplicates[i] * this.duplicateCostMs)) : arrives
      doneAt[i] = done
      if (only >= 0 && local !== only) continue
      delays[n] = Math.max(1, Math.round(done - now))
      to[n++] = r.idx
    }
    for (let i = 0; i < route.unreached.length; i++) {
      const d = this.repairDelay(link.medianMs, link.medianMs, link.jitterMs, link.loss)
      const local = route.unreached[i]
      if (d < 0) { if (only < 0 || local === only) this.lostDeliveries++; continue }
      const r = hosts[local]
      const arrives = now + Math.max(1, Math.round(d))
      const done = charge ? this.runOnCpu(r, arrives, this.messageCostMs) : arrives
      if (only >= 0 && local !== only) continue
      delays[n] = Math.max(1, Math.round(done - now))
      to[n++] = r.idx
    }
    return n
  }

  /** Whether the daemon would send this digest to each member on its own digest topic (digestRoute). */
  private digestDirect (h: SimHost, members: ReadonlyArray<{ hostId: string }>): boolean {
    const mesh = this.meshes[h.site]!
    const reachable = (hostId: string): number | undefined => {
      const o = this.hostById.get(hostId)
      return o !== undefined && o.site === h.site && mesh.connected(h.local, o.local) ? o.local : undefined
    }
    return digestRoute(members, h.id, h.digestsSent++, reachable) !== 'site'
  }

  /**
   * IHAVE/IWANT repair of a copy that eager push did not bring: wait for a neighbour's next
   * gossip emission, then IHAVE, IWANT and the message each cross one hop; retried on the next
   * heartbeats while the message is in the gossip window. −1 when every attempt is lost.
   */
  private repairDelay (eagerMs: number, medianMs: number, jitterMs: number, loss: number): number {
    const g = this.scenario.gossip
    const rng = this.rng.gossip
    let t = eagerMs + rng.next() * g.heartbeatMs
    for (let attempt = 0; attempt < g.historyHeartbeats; attempt++) {
      const ok = loss === 0 || (rng.next() >= loss && rng.next() >= loss && rng.next() >= loss)
      if (ok) return t + 3 * medianMs + rng.next() * jitterMs * 3
      t += g.heartbeatMs
    }
    return -1
  }

  /**
   * A heartbeat for the site's leader (topic `leader`): one direct hop to each host of the site
   * that leads now (usually one; two while a cut-off leader has not yet stepped down, as in the
   * daemon, where every leading host subscribes to the inbox topic), with the site's link
   * latency and loss. Nothing else subscribes to that topic, so there is no mesh to repair a
   * lost copy: the next heartbeat replaces it.
   */
  private publishToLeader (h: SimHost, m: Message): void {
    const leading = this.siteLeading[h.site]
    if (leading.length === 0) return
    const bytes = this.messageBytes(h, m)
    if (bytes < 0) return
    const link = this.net.intra[h.site]
    const mesh = this.meshes[h.site]!
    const rng = this.rng.gossip
    let n = 0
    for (const idx of leading) {
      const r = this.host(idx)
      if (idx === h.idx || !r.supUp || !this.net.connected(h.idx, idx)) continue
      // Flood publish reaches the subscriber over a direct connection only; nobody else subscribes to relay it.
      if (!mesh.connected(h.local, r.local)) { this.lostDeliveries++; continue }
      if (link.loss > 0 && rng.next() < link.loss) { this.lostDeliveries++; continue }
      this.gossipBytes += bytes
      this.scratchDelay[n] = Math.max(1, Math.round(link.medianMs + rng.next() * link.jitterMs))
      this.scratchHost[n++] = idx
    }
    this.scheduleDeliveries('leader', m, h.idx, n)
  }

  /**
   * A site message only one host needs (a pre-vote for its candidate). Connected to it, the
   * daemon sends it to that host's inbox topic: one direct hop, with the site's link latency and
   * loss; lost, it is not repaired (the candidate's round ends without it). Not connected, the
   * daemon publishes it on the site topic, which carries it as any site message: every host
   * reads it (gossipsub validates it before it forwards it) and every other host then drops it;
   * it reaches the host as the site's route does, at that route's cost (spread).
   */
  private publishDirect (h: SimHost, toId: string, m: Message): void {
    const r = this.hostById.get(toId)
    if (r === undefined || r.site !== h.site || r === h || !r.supUp || !this.net.connected(h.idx, r.idx)) return
    const bytes = this.messageBytes(h, m)
    if (bytes < 0) return
    const link = this.net.intra[h.site]
    const mesh = this.meshes[h.site]!
    const rng = this.rng.gossip
    if (mesh.connected(h.local, r.local)) {
      if (link.loss > 0 && rng.next() < link.loss) { this.lostDeliveries++; return }
      this.gossipBytes += bytes
      this.scratchDelay[0] = Math.max(1, Math.round(link.medianMs + rng.next() * link.jitterMs))
      this.scratchHost[0] = r.idx
      this.scheduleDeliveries('site', m, h.idx, 1)
      return
    }
    // The whole site topic carries it: every host reads it, only r keeps it.
    const route = mesh.route(h.local)
    if (route.at[r.local] === 0) { this.lostDeliveries++; return }
    this.gossipBytes += bytes * (route.transmissions + route.unreached.length)
    this.scheduleDeliveries('site', m, h.idx, this.spread(h, route, false, r.local), this.now, true)
  }

  private publishGlobal (h: SimHost, m: Message): void {
    const bytes = this.messageBytes(h, m)
    if (bytes < 0) return
    const rng = this.rng.gossip
    const delays = this.scratchDelay
    const to = this.scratchHost
    let n = 0
    const consider = (r: SimHost): void => {
      if (r === h || !r.supUp || !this.net.connected(h.idx, r.idx) || n >= delays.length) return
      const link = this.net.link(h.site, r.site)
      const inner = this.net.intra[r.site]
      let d = link.medianMs + rng.next() * link.jitterMs + (r.site === h.site ? 0 : inner.medianMs + rng.next() * inner.jitterMs)
      const loss = 1 - (1 - link.loss) * (r.site === h.site ? 1 : 1 - inner.loss)
      if (loss > 0 && rng.next() < loss) d = this.repairDelay(d, link.medianMs, link.jitterMs, loss)
      if (d < 0) { this.lostDeliveries++; return }
      this.gossipBytes += bytes
      delays[n] = Math.max(1, Math.round(d))
      to[n++] = r.idx
    }
    if (this.scenario.gossip.globalSubscribers === 'all') {
      for (const r of this.hosts) {
        consider(r)
        if (n === delays.length) { this.scheduleDeliveries('global', m, h.idx, n); n = 0 }
      }
    } else {
      for (let s = 0; s < this.siteLeader.length; s++) if (this.siteLeader[s] >= 0) consider(this.host(this.siteLeader[s]))
    }
    this.scheduleDeliveries('global', m, h.idx, n)
    if (this.shard !== undefined) this.publishToOtherSites(h, m, bytes)
  }

  /**
   * Sharded: the global topic's copies for the other sites cross the inter-site link here (its
   * latency, its loss and gossip's repair drawn from this site's stream); the receiving site
   * hands each on to its subscribers when it arrives (arriveGlobal), over its own hop inside.
   */
  private publishToOtherSites (h: SimHost, m: Message, bytes: number): void {
    const shard = this.shard!
    const rng = this.rng.gossip
    const net = this.net
    const targets: CrossTarget[] = []
    for (let s = 0; s < this.scenario.sites.length; s++) {
      if (s === h.site || net.uplinkUp[h.site] === 0 || net.uplinkUp[s] === 0) continue
      const link = net.link(h.site, s)
      let d = link.medianMs + rng.next() * link.jitterMs
      if (link.loss > 0 && rng.next() < link.loss) d = this.repairDelay(d, link.medianMs, link.jitterMs, link.loss)
      if (d < 0) { this.lostDeliveries++; continue }
      const afterMs = Math.max(1, Math.round(d))
      simAssert(afterMs >= shard.lookaheadMs, `a copy to another site in ${afterMs} ms, under the lookahead of ${shard.lookaheadMs} ms`)
      targets.push({ site: s, seq: this.nextCrossSeq(), arriveAtMs: this.now + afterMs })
    }
    if (targets.length === 0) return
    const record = (t: CrossTarget[]): CrossSiteRecord => ({ kind: 'global', fromSite: h.site, targets: t, from: h.idx, sentAtMs: this.now, bytes, message: m })
    if (shard.batchRecords) shard.send(record(targets))
    else for (const t of targets) shard.send(record([t]))
  }

  private nextCrossSeq (): number {
    simAssert(this.crossSeq < MAX_RECORDS_PER_SITE, 'a site sends fewer than 2^32 records')
    return this.crossSeq++
  }

  /**
   * Sharded: something another site sent, to arrive here later. It runs before anything else of
   * its millisecond, in the order it was sent (sending site, then its sequence): when the run
   * learnt of it does not change the run (cross-site.ts).
   */
  receiveCrossSite (record: CrossSiteRecord, target: CrossTarget): void {
    simAssert(target.site === this.shard?.site && target.arriveAtMs > this.now, 'a record for this site, from the future')
    this.queue.pushFront(target.arriveAtMs, crossSiteOrder(record, target), { k: K.Fn, fn: () => { if (record.kind === 'global') this.arriveGlobal(record); else this.arriveRunning(record.service, record.delta) } })
  }

  /** A global-topic copy reached this site: one hop on to its subscribers (the leader, or every host). */
  private arriveGlobal (r: Extract<CrossSiteRecord, { kind: 'global' }>): void {
    const rng = this.rng.gossip
    const site = this.shard!.site
    const inner = this.net.intra[site]
    const delays = this.scratchDelay
    const to = this.scratchHost
    let n = 0
    const consider = (h: SimHost): void => {
      if (!h.supUp || !this.net.connected(r.from, h.idx)) return
      let d = inner.medianMs + rng.next() * inner.jitterMs
      if (inner.loss > 0 && rng.next() < inner.loss) d = this.repairDelay(d, inner.medianMs, inner.jitterMs, inner.loss)
      if (d < 0) { this.lostDeliveries++; return }
      this.gossipBytes += r.bytes
      delays[n] = Math.max(1, Math.round(d))
      to[n++] = h.idx
    }
    if (this.scenario.gossip.globalSubscribers === 'all') {
      for (const h of this.siteHosts[site]) consider(h)
    } else if (this.siteLeader[site] >= 0) {
      consider(this.host(this.siteLeader[site]))
    }
    this.scheduleDeliveries('global', r.message, r.from, n, r.sentAtMs)
  }

  /** Overflow replicas another site runs for one of this site's services started or stopped running. */
  private arriveRunning (service: number, delta: number): void {
    const pair = this.load.pair(this.shard!.site, service)
    simAssert(pair >= 0, 'overflow of a service this site runs')
    this.remoteRunning[pair] += delta
    if (delta > 0) this.checkReaction(pair)
  }

  /**
   * Turns the scratch (delay, receiver) pairs into one event per distinct delivery time:
   * receivers of one message in the same millisecond are delivered by a single event, in the
   * order they were drawn (a counting sort over the small range of delays keeps it stable).
   * `charged`: the receivers' CPU is already in the delays (spread charges it hop by hop).
   */
  private scheduleDeliveries (topic: Topic, m: Message, from: number, n: number, sentAt = this.now, charged = false): void {
    if (n === 0) return
    const delays = this.scratchDelay
    const to = this.scratchHost
    if (!charged && this.messageCostMs > 0) this.queueOnCpu(n)
    let min = delays[0]
    let max = delays[0]
    for (let i = 1; i < n; i++) { const d = delays[i]; if (d < min) min = d; else if (d > max) max = d }
    const now = this.now
    if (this.opts.batchDeliveries === false) {
      // The reference the batching is checked against: at one time, the queue runs what was
      // pushed in the order pushed, so these come in the order the groups below give them.
      for (let i = 0; i < n; i++) this.queue.push(now + delays[i], { k: K.Deliver, topic, message: m, to: to[i], from, sentAt })
      return
    }
    if (n === 1) {
      this.queue.push(now + min, { k: K.Deliver, topic, message: m, to: to[0], from, sentAt })
      return
    }
    if (min === max) {
      const all: number[] = new Array(n)
      for (let i = 0; i < n; i++) all[i] = to[i]
      this.queue.push(now + min, { k: K.Deliver, topic, message: m, to: all, from, sentAt })
      return
    }
    const range = max - min + 1
    if (range > this.countScratch.length) this.countScratch = new Int32Array(range * 2)
    const counts = this.countScratch
    counts.fill(0, 0, range)
    for (let i = 0; i < n; i++) counts[delays[i] - min]++
    for (let r = 0; r < range; r++) {
      const c = counts[r]
      if (c === 0) continue
      const d = r + min
      if (c === 1) {
        let i = 0
        while (delays[i] !== d) i++
        this.queue.push(now + d, { k: K.Deliver, topic, message: m, to: to[i], from, sentAt })
        continue
      }
      const group: number[] = new Array(c)
      let k = 0
      for (let i = 0; i < n && k < c; i++) if (delays[i] === d) group[k++] = to[i]
      this.queue.push(now + d, { k: K.Deliver, topic, message: m, to: group, from, sentAt })
    }
  }

  /**
   * The receivers' CPU (runOnCpu): each takes the message in the first gap of its calendar at or
   * after the copy arrives, and the delivery (the core's input) is when it is done, rounded to the
   * millisecond. Computed here, when the delivery is scheduled, so it adds no event. A storm of
   * votes thus delays every message behind it on a busy host, as on a real one. Site-topic
   * publishes charge it themselves, hop by hop (spread).
   */
  private queueOnCpu (n: number): void {
    const delays = this.scratchDelay
    const to = this.scratchHost
    const now = this.now
    for (let i = 0; i < n; i++) {
      const r = this.host(to[i])
      const done = this.runOnCpu(r, now + delays[i], this.messageCostMs)
      delays[i] = Math.max(1, Math.round(done - now))
    }
  }

  /**
   * `costMs` of work that host h can start at `readyMs`: in the first gap of h's event loop long
   * enough for it, and, when the site's hosts share cores (gossip.siteCores), of one of those
   * cores too (cpu-calendar.ts). Returns when it is done. Work is booked when it is scheduled,
   * out of arrival order (a relayed copy arrives after the relays' queues), so each takes the
   * earliest gap at or after its arrival rather than a place behind everything booked before.
   */
  private runOnCpu (h: SimHost, readyMs: number, costMs: number): number {
    const now = this.now
    const cores = this.siteCores[h.site]
    h.cpu.prune(now)
    for (let c = 0; c < cores.length; c++) cores[c].prune(now)
    return bookCpu(h.cpu, cores, readyMs, costMs * this.siteCpuStretch[h.site])
  }

  private deliver (topic: Topic, message: Message, to: number | number[], from: number, sentAt: number): void {
    if (typeof to === 'number') { this.deliverTo(to, topic, message, from, sentAt); return }
    for (let i = 0; i < to.length; i++) this.deliverTo(to[i], topic, message, from, sentAt)
  }

  private deliverTo (idx: number, topic: Topic, message: Message, from: number, sentAt: number): void {
    const h = this.hosts[idx - this.hostBase]
    // A host that restarted after the send, or a link cut since, does not get it.
    if (h.core === undefined || h.upSinceMs > sentAt || !this.net.connected(from, h.idx)) { this.lostDeliveries++; return }
    this.deliveries++
    if (sentAt >= this.scenario.measureFromMs) this.propagation.add(this.now - sentAt)
    // What the driver's listener does, without the transport, its list of listeners and the
    // listener's closure: three objects more to bring into the cache at every delivery of a
    // large fleet, where a host's state has long left it (docs/simulator.md, Speed at fleet scale).
    if (h.driverOnly) this.feed(h, message)
    else h.transport.receive(topic, message)
  }

  // ---- containers --------------------------------------------------------------------------

  /**
   * One action through the host's runtime port. A failure the port reports (its engine is
   * stopped) changes nothing: the core is level-triggered and asks again after the next
   * observation, as the daemon's driver does after counting it.
   */
  private applyAction (h: SimHost, a: ContainerAction): void {
    if (a.type === 'start' && this.bugs.size > 0 && this.bug(h, 'lost-starts')) return
    try {
      h.runtime.apply(a)
    } catch (err) {
      if (!(err instanceof SimulatedRuntimeError)) throw err
    }
  }

  /** Feeds the core what the host's runtime port reports now. */
  private observed (h: SimHost): void {
    this.input(h, observedInput(h.runtime.observe()))
  }

  /** Docker's event stream: the supervisor observes the runtime shortly after a change. */
  private scheduleObserve (h: SimHost): void {
    if (h.observePending || !h.supUp) return
    h.observePending = true
    this.queue.push(this.now + 5, { k: K.Observe, h, life: h.life })
  }

  private checkCapacity (h: SimHost): void {
    this.observer.capacity(this.siteName(h), h.id, h.runtime.usedSlots(), h.capacity.slots, this.now)
  }

  private checkReaction (pair: number): void {
    for (let i = 0; i < this.stepWatch.length; i++) {
      const w = this.stepWatch[i]
      if (w.pair !== pair || this.runningOf(pair) <= w.from) continue
      this.reactionsMs.push(this.now - w.atMs)
      this.stepWatch.splice(i--, 1)
    }
  }

  // ---- baselines: the host agent -----------------------------------------------------------

  private agentReconcile (h: SimHost): void {
    if (!h.supUp || !h.runtime.reachable) return
    const actions = reconcile({ hostId: h.id, site: this.siteName(h), term: 0, wanted: h.agentWanted, observed: h.runtime.containers })
    for (const a of actions) this.applyAction(h, a)
    if (actions.length > 0) this.checkCapacity(h)
  }

  /** Runs the controller when it is due; a new, earlier due time queues another wake-up. */
  private scheduleControllerWake (): void {
    const c = this.controller!
    const at = Math.max(this.now, c.nextDueMs())
    if (at >= this.controllerWakeMs || at > this.opts.durationMs) return
    this.controllerWakeMs = at
    this.at(at, () => {
      if (this.controllerWakeMs !== at) return
      this.controllerWakeMs = Infinity
      c.runDue(this.now)
      this.scheduleControllerWake()
    })
  }

  private controllerHostChanged (): void {
    if (this.controller === undefined) return
    this.controller.hostChanged(this.now)
    this.scheduleControllerWake()
  }

  private controllerPorts (): ControllerPorts {
    const index = new Map(this.hosts.map(h => [h.id, h.idx]))
    const sc = this.scenario
    return {
      hostUp: (i) => this.hosts[i].machineUp && this.hosts[i].supUp,
      reachable: (from, site) => this.siteHosts[site].some(h => h.machineUp && this.net.connected(from, h.idx)),
      readSignal: (from, pair, extraDelayMs) => {
        if (this.signalKilled.has(pair)) return undefined
        // The same hosts read the signal as under agentmesh (see sampleSignals): the controller
        // reads them, so it sees the signal only while one of them runs and is reachable.
        const p = this.load.pairs[pair]
        if (!this.reporters[p.site].some(h => h.machineUp && this.net.connected(from, h.idx))) return undefined
        return this.load.delayedBacklog(pair, sc.signals.delayMs + extraDelayMs, sc.loadStepMs)
      },
      reporterSamples: (from, site) => {
        // Reporters share the backlog as a consumer group does: among those that run.
        const running = this.reporters[site].filter(h => h.machineUp && h.supUp)
        const signals = running.length > 0 ? this.siteSignals(site, running.length) : []
        return this.reporters[site].map(h => ({ host: h.idx, signals: h.machineUp && h.supUp && this.net.connected(from, h.idx) ? signals : undefined }))
      },
      ready: (pair) => this.ledger.running[pair],
      placementHosts: (from, site, graceMs) => this.siteHosts[site]
        .filter(h => (h.machineUp && h.supUp && this.net.connected(from, h.idx)) || (!h.supUp && this.now - h.downSinceMs < graceMs))
        .map((h): PlacementHost => ({
          hostId: h.id, labels: h.labels, slots: !h.supUp || h.runtime.reachable ? h.capacity.slots : h.runtime.usedSlots(), state: h.supUp ? 'alive' : 'suspect',
        })),
      send: (from, hostIdx, wanted) => {
        const h = this.hosts[hostIdx]
        const link = this.net.link(this.hosts[from].site, h.site)
        const d = Math.max(1, Math.round(link.medianMs + this.rng.gossip.next() * link.jitterMs))
        const life = h.life
        this.at(this.now + d, () => {
          if (h.life !== life || !h.supUp || !this.net.connected(from, h.idx)) return
          h.agentWanted = wanted
          this.agentReconcile(h)
        })
      },
      hostIndex: (id) => index.get(id)!,
      phaseMs: (periodMs) => this.rng.misc.int(periodMs),
    }
  }

  // ---- supervisors -------------------------------------------------------------------------

  private startSupervisor (h: SimHost): void {
    if (!h.machineUp || h.supUp) return
    h.supUp = true
    h.life++
    h.upSinceMs = this.now
    h.tickAtMs = Infinity
    h.deficitSinceMs = -1
    h.cpu = new CpuCalendar()
    h.digestsSent = 0
    if (this.opts.policy !== 'agentmesh') { this.scheduleObserve(h); this.controllerHostChanged(); return }
    h.incarnation++
    const site = this.scenario.sites[h.site]
    h.forecaster = this.newForecaster(h)
    h.core = new SupervisorCore({
      hostId: h.id, site: site.name, incarnation: h.incarnation, labels: h.labels, priority: h.priority,
      capacity: h.capacity, services: this.driftedSites.has(h.site) ? this.siteSpecs[h.site].map(s => ({ ...s, maxReplicas: s.maxReplicas + SPEC_DRIFT_REPLICAS })) : this.siteSpecs[h.site], timings: this.siteTimings[h.site],
      seed: this.rng.cores.int(2 ** 31), startMs: this.now, persisted: h.persisted, bootstrapExpect: site.hosts,
      forecast: h.forecaster,
    })
    this.meshes[h.site]!.invalidate()
    this.meshDirty(h.site)
    this.observed(h)
  }

  /** A new supervisor's forecaster: a fresh history, as a restarted daemon has (none when the run does not forecast). */
  private newForecaster (h: SimHost): ForecastRunner | undefined {
    const f = this.opts.forecast
    const specs = this.siteSpecs[h.site]
    if (f === undefined || !specs.some(s => s.forecast !== undefined)) return undefined
    return new ForecastRunner({ services: specs, load: f.load, schedule: (work) => { this.forecastWork.push(work) } })
  }

  private stopSupervisor (h: SimHost, hint: boolean): void {
    if (!h.supUp) return
    h.supUp = false
    h.downSinceMs = this.now
    h.life++
    h.core = undefined
    h.tickAtMs = Infinity
    h.observePending = false
    this.notLeading(h)
    if (this.siteLeader[h.site] === h.idx) {
      this.siteLeader[h.site] = -1
      if (!this.failoverPending.has(h.site)) this.failoverPending.set(h.site, this.now)
    }
    if (this.opts.policy !== 'agentmesh') { this.controllerHostChanged(); return }
    const mesh = this.meshes[h.site]!
    mesh.invalidate()
    this.meshDirty(h.site)
    if (!hint) return
    // The OS closes the dead process's connections at once: the peers it was connected to (and
    // only those) get a disconnect hint. The close crosses the link like a message (a hop's
    // latency), and the peer's event loop reads it after what it has queued (its CPU calendar)
    // and after tearing the connection down (gossip.disconnectCpuUs), as the daemons behind the
    // fidelity benchmark's latency relays see it (26–69 ms after a SIGKILL in a 20-host site).
    const peers = mesh.connections(h.local)
    mesh.dropNode(h.local)
    const hosts = this.siteHosts[h.site]
    const link = this.net.intra[h.site]
    const rng = this.rng.gossip
    for (const local of peers) {
      const o = hosts[local]
      const arrives = this.now + link.medianMs + rng.next() * link.jitterMs
      // Its libp2p tears the connection down first (gossip.disconnectCpuUs), on its CPU.
      const told = this.disconnectCostMs > 0 ? this.runOnCpu(o, arrives, this.disconnectCostMs) : Math.max(arrives, o.cpu.lastEndMs)
      this.at(Math.max(this.now + 1, told), () => {
        if (o.core !== undefined && this.net.connected(h.idx, o.idx)) this.input(o, { type: 'disconnected', hostId: h.id })
      })
    }
  }

  private crashMachine (h: SimHost): void {
    if (!h.machineUp) return
    this.stopSupervisor(h, false)
    h.machineUp = false
    h.runtime.machineCrashed()
  }

  private bootMachine (h: SimHost): void {
    if (h.machineUp) { this.startSupervisor(h); return }
    h.machineUp = true
    h.agentWanted = new Map()
    this.startSupervisor(h)
  }

  private meshDirty (site: number): void {
    const mesh = this.meshes[site]!
    if (mesh.dirty || this.opts.policy !== 'agentmesh') return
    mesh.dirty = true
    const hb = this.scenario.gossip.heartbeatMs
    this.at((Math.floor(this.now / hb) + 1) * hb, () => this.connected(site, mesh.maintain()))
  }

  /**
   * Hosts that had no connection and have one now: the transport tells the core it can reach
   * its site (the daemon's 'site:reachable', on the first peer subscribed to the site topic).
   */
  private connected (site: number, locals: number[]): void {
    const hosts = this.siteHosts[site]
    const mesh = this.meshes[site]!
    // Each new connection's handshake costs both ends CPU (messages queue behind it).
    if (this.connectCostMs > 0) for (const local of mesh.takeNewConnectionEnds()) this.runOnCpu(hosts[local], this.now, this.connectCostMs)
    for (const local of locals) {
      const h = hosts[local]
      if (h.core !== undefined) this.input(h, REACHABLE)
    }
  }

  // ---- signals -----------------------------------------------------------------------------

  /**
   * Signals under agentmesh: the first `signals.reporters` hosts of each site (by id) read
   * every service's backlog (as of signals.delay ago) and each reports an equal share, so
   * the leader's sum is the site's backlog. Shares are recomputed over the reporters that run,
   * as a consumer group rebalances. A killed source keeps reporting its last value with a
   * growing age, as the daemon does, so the core sees it go stale and fails static.
   */
  private sampleSignals (site: number): void {
    const up = this.reporters[site].filter(h => h.core !== undefined)
    if (up.length === 0) return
    const signals = this.siteSignals(site, up.length)
    for (const h of up) this.input(h, { type: 'samples', signals, capacity: h.capacity })
  }

  /**
   * What each of `shares` running reporters of the site reports now: its share of every
   * service's backlog (and, with signals.rate, of its arrival rate), and the upstreams' saturation.
   */
  private siteSignals (site: number, shares: number): SignalSample[] {
    const sc = this.scenario
    const signals: SignalSample[] = []
    for (const spec of this.siteSpecs[site]) {
      const pair = this.load.pair(site, this.serviceIndex.get(spec.name)!)
      const killed = this.signalKilled.get(pair)
      if (killed !== undefined) {
        const ageMs = Math.min(0xffffffff, this.now - killed.sinceMs + sc.signals.delayMs)
        signals.push({ service: spec.name, value: killed.value / shares, ageMs, upstream: false })
        if (sc.signals.rate) signals.push({ service: spec.name, value: killed.rate / shares, ageMs, upstream: false, rate: true })
      } else {
        signals.push({ service: spec.name, value: this.load.delayedBacklog(pair, sc.signals.delayMs, sc.loadStepMs) / shares, ageMs: sc.signals.delayMs, upstream: false })
        if (sc.signals.rate) signals.push({ service: spec.name, value: this.load.delayedArrivalRate(pair, sc.signals.delayMs, sc.signals.intervalMs, sc.loadStepMs) / shares, ageMs: sc.signals.delayMs, upstream: false, rate: true })
      }
    }
    this.load.upstreamKeys.forEach((u, i) => {
      if (u.site !== site) return
      const killed = this.upstreamKilled.get(i)
      signals.push(killed !== undefined
        ? { service: u.name, value: killed.value, ageMs: Math.min(0xffffffff, this.now - killed.sinceMs + sc.signals.delayMs), upstream: true }
        : { service: u.name, value: this.load.upstreamSaturation[i], ageMs: sc.signals.delayMs, upstream: true })
    })
    return signals
  }

  private loadStep (): void {
    const dt = this.scenario.loadStepMs
    this.load.step(this.now, dt, pair => this.runningOf(pair))
  }

  // ---- the observer's sweep ----------------------------------------------------------------

  /** container-replaced: what a reachable host's plan wants must run within the bound. */
  private sweepPlansCarriedOut (): void {
    for (const h of this.hosts) {
      const wanted = this.wantedOn(h)
      if (wanted === undefined) { h.deficitSinceMs = -1; continue }
      let short = ''
      for (const [service, n] of wanted) {
        let have = 0
        for (const c of h.runtime.containers) if (c.state !== 'exited' && c.labels[OWNER_LABELS.service] === service) have++
        if (have < n) { short = `${service}: ${have} of ${n}`; break }
      }
      if (short === '') { h.deficitSinceMs = -1; continue }
      if (h.deficitSinceMs < 0) { h.deficitSinceMs = this.now; continue }
      const bound = this.replaceBoundMs[h.site]
      if (this.now - h.deficitSinceMs > bound) {
        this.observer.fail({ invariant: 'container-replaced', atMs: this.now, site: this.siteName(h), host: h.id, detail: `runs ${short} wanted for ${this.now - h.deficitSinceMs} ms (bound ${bound} ms)` })
      }
    }
  }

  private wantedOn (h: SimHost): ReadonlyMap<string, number> | undefined {
    if (!h.supUp || !h.runtime.reachable) return undefined
    if (h.core === undefined) return h.agentWanted
    const plan = h.core.plan
    if (plan === undefined || plan.plan.term !== h.core.currentTerm) return undefined
    return plan.wanted
  }

  // ---- faults ------------------------------------------------------------------------------

  /**
   * Sharded: a fault drawn among every site's hosts (sharded-run.ts resolved it from a snapshot
   * of the fleet), applied here to those of this site's hosts it picked.
   */
  applyFleetFault (f: FaultSpec, hostIdxs: readonly number[]): void {
    const mine = hostIdxs.filter(i => i >= this.hostBase && i < this.hostBase + this.hosts.length).map(i => this.host(i))
    if (mine.length > 0) this.applyFault(f, mine)
  }

  /** Machines that run now, by fleet index (sharded: to draw a fleet fault among them). */
  machinesUp (): number[] {
    return this.hosts.filter(h => h.machineUp).map(h => h.idx)
  }

  /** `targets`: the hosts a fleet fault picked (applyFleetFault); otherwise the fault's target is resolved here. */
  private applyFault (f: FaultSpec, targets?: SimHost[]): void {
    // Sharded, the run marks every fault once (sharded-run.ts), whichever site applies it.
    if (this.shard === undefined) this.marker('fault', -1, faultText(f))
    switch (f.kind) {
      case 'crash':
        for (const h of targets ?? this.resolveTargets(f.target)) {
          if (f.mode === 'host') this.crashMachine(h)
          else this.stopSupervisor(h, true)
          if (f.restartAfterMs !== undefined) this.at(this.now + f.restartAfterMs, () => this.bootMachine(h))
        }
        return
      case 'restart':
        for (const h of targets ?? this.resolveTargets(f.target, true)) {
          if (h.machineUp && h.supUp) {
            this.stopSupervisor(h, true)
            this.startSupervisor(h)
          } else {
            this.bootMachine(h)
          }
        }
        return
      case 'partition':
        this.net.partition(f.groups.map(g => g.flatMap(name => {
          const s = this.scenario.sites.findIndex(x => x.name === name)
          return s >= 0 ? this.siteHosts[s].map(h => h.idx) : this.hosts.filter(h => h.id === name).map(h => h.idx)
        })))
        this.topologyChanged()
        if (f.healAfterMs !== undefined) this.at(this.now + f.healAfterMs, () => { this.net.heal(); this.topologyChanged(); this.marker('fault', -1, 'heal') })
        return
      case 'heal':
        this.net.heal()
        this.topologyChanged()
        return
      case 'degrade': {
        const a = this.siteIndex(f.sites[0])
        const b = this.siteIndex(f.sites[1])
        const before = this.net.link(a, b)
        this.net.setLink(a, b, { ...before, ...f.link })
        if (f.restoreAfterMs !== undefined) this.at(this.now + f.restoreAfterMs, () => this.net.setLink(a, b, before))
        return
      }
      case 'docker-stop':
        for (const h of targets ?? this.resolveRuntimeTargets(f.target)) {
          this.setRuntime(h, false)
          if (f.restartAfterMs !== undefined) this.at(this.now + f.restartAfterMs, () => this.setRuntime(h, true))
        }
        return
      case 'docker-start':
        for (const h of targets ?? this.resolveRuntimeTargets(f.target)) this.setRuntime(h, true)
        return
      case 'signal-kill': {
        const s = this.siteIndex(f.site)
        for (const p of this.load.pairs) {
          if (p.site !== s || (f.service !== undefined && this.scenario.services[p.service].spec.name !== f.service)) continue
          if (!this.signalKilled.has(p.index)) this.signalKilled.set(p.index, { sinceMs: this.now, value: this.load.delayedBacklog(p.index, this.scenario.signals.delayMs, this.scenario.loadStepMs), rate: this.load.delayedArrivalRate(p.index, this.scenario.signals.delayMs, this.scenario.signals.intervalMs, this.scenario.loadStepMs) })
        }
        if (f.service === undefined) {
          this.load.upstreamKeys.forEach((u, i) => { if (u.site === s) this.upstreamKilled.set(i, { sinceMs: this.now, value: this.load.upstreamSaturation[i] }) })
        }
        if (f.restoreAfterMs !== undefined) this.at(this.now + f.restoreAfterMs, () => this.restoreSignals(s, f.service))
        return
      }
      case 'signal-restore': return this.restoreSignals(this.siteIndex(f.site), f.service)
      case 'inject-over-capacity': {
        const h = this.hosts.find(x => x.id === f.hostId)
        if (h !== undefined) h.runtime.startsPerAction = 2
      }
    }
  }

  private restoreSignals (site: number, service: string | undefined): void {
    for (const p of this.load.pairs) {
      if (p.site === site && (service === undefined || this.scenario.services[p.service].spec.name === service)) this.signalKilled.delete(p.index)
    }
    if (service === undefined) this.load.upstreamKeys.forEach((u, i) => { if (u.site === site) this.upstreamKilled.delete(i) })
  }

  private setRuntime (h: SimHost, ok: boolean): void {
    if (h.machineUp && h.runtime.setReachable(ok)) this.scheduleObserve(h)
  }

  private setUplink (site: number, up: boolean): void {
    this.net.uplinkUp[site] = up ? 1 : 0
  }

  /** The partition changed (sharded: the run changed the shared network, between windows). */
  topologyChanged (): void {
    this.meshes.forEach((m, s) => { if (m === undefined) return; m.invalidate(); this.meshDirty(s) })
  }

  private siteIndex (name: string): number {
    const s = this.scenario.sites.findIndex(x => x.name === name)
    simAssert(s >= 0, `validated site ${name}`)
    return s
  }

  /**
   * `leader`: under agentmesh the site's current leader (the first running host if it has
   * none); under the baselines the active controller's host when the site runs a controller,
   * else the site's first host. `random`: n running hosts drawn from the fault stream.
   */
  private resolveTargets (t: HostTarget, includeDown = false): SimHost[] {
    switch (t.type) {
      case 'host': return this.hosts.filter(h => h.id === t.hostId)
      case 'leader': {
        const s = this.siteIndex(t.site)
        if (this.opts.policy === 'agentmesh') {
          const l = this.siteLeader[s]
          if (l >= 0) return [this.host(l)]
        } else {
          const replicas = this.controller!.controllerHosts(s)
          if (this.hosts[replicas[0]].site === s) {
            const active = this.controller!.activeHost(s)
            const up = active >= 0 ? active : replicas.find(i => this.hosts[i].supUp || includeDown)
            if (up !== undefined) return [this.hosts[up]]
          }
        }
        const first = this.siteHosts[s].find(h => h.supUp || includeDown)
        return first === undefined ? [] : [first]
      }
      case 'random': {
        const pool = (t.site === undefined ? this.hosts : this.siteHosts[this.siteIndex(t.site)]).filter(h => h.machineUp || includeDown)
        shuffle(pool, this.rng.faults)
        return pool.slice(0, t.count)
      }
    }
  }

  private resolveRuntimeTargets (t: HostTarget | { type: 'site', site: string }): SimHost[] {
    return t.type === 'site' ? this.siteHosts[this.siteIndex(t.site)] : this.resolveTargets(t)
  }

  // ---- report series -----------------------------------------------------------------------

  private recordSeries (): void {
    this.series.tMs.push(this.now)
    for (const p of this.load.pairs) {
      this.series.backlog[p.index].push(Math.round(this.load.backlog[p.index] * 10) / 10)
      this.series.running[p.index].push(this.runningOf(p.index))
      this.series.desired[p.index].push(this.desiredOf(p.index))
      this.series.rate?.[p.index].push(Math.round(this.load.arrivalRate[p.index] * 100) / 100)
      this.series.forecast?.[p.index].push(this.forecastOf(p.index))
    }
  }

  /** The forecast the site's leader uses for the pair now (-1 when none). */
  private forecastOf (pair: number): number {
    const p = this.load.pairs[pair]
    const l = this.siteLeader[p.site]
    const f = l >= 0 ? this.host(l).forecaster?.current(this.scenario.services[p.service].spec.name) : undefined
    return f === undefined ? -1 : Math.round(f * 100) / 100
  }

  /** What the site's deciding party wants for the pair now (-1 when no leader). */
  desiredOf (pair: number): number {
    if (this.controller !== undefined) return this.controller.desired(pair)
    const p = this.load.pairs[pair]
    const l = this.siteLeader[p.site]
    const core = l >= 0 ? this.host(l).core : undefined
    const name = this.scenario.services[p.service].spec.name
    const d = core?.plan?.plan.decisions.find(x => x.service === name)
    return d === undefined ? -1 : d.desired
  }
}

const TICK: CoreInput = { type: 'tick' }
const REACHABLE: CoreInput = { type: 'reachable' }

/** Deepest first path where two decoded values differ (a key set to undefined counts as absent); undefined when equal. */
export function firstDifference (a: unknown, b: unknown, path: string): string | undefined {
  // The usual answer, none, without building a path for every field: the simulator compares
  // a sample of every host's messages, and the paths were 4 % of what a large fleet allocated.
  return sameDecoded(a, b) ? undefined : pathOfDifference(a, b, path)
}

/** firstDifference's path, found by walking both values (iterative: no recursion); sameDecoded is tested against it. */
export function pathOfDifference (a: unknown, b: unknown, path: string): string | undefined {
  const stack: [unknown, unknown, string][] = [[a, b, path]]
  while (stack.length > 0) {
    const [x, y, p] = stack.pop()!
    if (Object.is(x, y)) continue
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return `${p} (${show(x)} ≠ ${show(y)})`
    if (x instanceof Uint8Array || y instanceof Uint8Array) {
      if (!(x instanceof Uint8Array && y instanceof Uint8Array && sameBytes(x, y))) return `${p} (bytes differ)`
      continue
    }
    if (Array.isArray(x) !== Array.isArray(y)) return `${p} (array ≠ object)`
    if (x instanceof Map || y instanceof Map) {
      if (!(x instanceof Map && y instanceof Map) || x.size !== y.size) return `${p} (map sizes differ)`
      for (const [k, v] of x) stack.push([v, y.get(k), `${p}[${String(k)}]`])
      continue
    }
    const xo = x as Record<string, unknown>
    const yo = y as Record<string, unknown>
    const keys = new Set([...Object.keys(xo).filter(k => xo[k] !== undefined), ...Object.keys(yo).filter(k => yo[k] !== undefined)])
    for (const k of [...keys].sort().reverse()) stack.push([xo[k], yo[k], `${p}.${k}`])
  }
  return undefined
}

/**
 * firstDifference(a, b) === undefined, without the paths: the same comparison (a key set to
 * undefined counts as absent), recursive, as deep as a decoded message (the codec's schema
 * bounds it).
 */
export function sameDecoded (x: unknown, y: unknown): boolean {
  if (Object.is(x, y)) return true
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false
  if (x instanceof Uint8Array || y instanceof Uint8Array) return x instanceof Uint8Array && y instanceof Uint8Array && sameBytes(x, y)
  if (Array.isArray(x) !== Array.isArray(y)) return false
  if (x instanceof Map || y instanceof Map) {
    if (!(x instanceof Map && y instanceof Map) || x.size !== y.size) return false
    for (const [k, v] of x) if (!sameDecoded(v, y.get(k))) return false
    return true
  }
  const xo = x as Record<string, unknown>
  const yo = y as Record<string, unknown>
  // Every key x defines is equal in y (so defined there too); then y defines no other.
  let defined = 0
  for (const k of Object.keys(xo)) {
    if (xo[k] === undefined) continue
    defined++
    if (!sameDecoded(xo[k], yo[k])) return false
  }
  for (const k of Object.keys(yo)) if (yo[k] !== undefined) defined--
  return defined === 0
}

function show (v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v)
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function faultText (f: FaultSpec): string {
  const target = (t: HostTarget | { type: 'site', site: string }): string =>
    t.type === 'host' ? t.hostId : t.type === 'leader' ? `leader of ${t.site}` : t.type === 'site' ? `site ${t.site}` : `${t.count} random${t.site === undefined ? '' : ` in ${t.site}`}`
  switch (f.kind) {
    case 'crash': return `crash ${f.mode} ${target(f.target)}${f.restartAfterMs !== undefined ? `, back after ${f.restartAfterMs / 1000} s` : ''}`
    case 'restart': return `restart ${target(f.target)}`
    case 'partition': return `partition ${f.groups.map(g => `[${g.join(' ')}]`).join(' | ')}${f.healAfterMs !== undefined ? `, heals after ${f.healAfterMs / 1000} s` : ''}`
    case 'heal': return 'heal'
    case 'degrade': return `degrade ${f.sites.join('↔')}`
    case 'docker-stop': return `docker stop ${target(f.target)}`
    case 'docker-start': return `docker start ${target(f.target)}`
    case 'signal-kill': return `signal source killed in ${f.site}${f.service !== undefined ? ` (${f.service})` : ''}`
    case 'signal-restore': return `signal source back in ${f.site}`
    case 'inject-over-capacity': return `inject over-capacity bug on ${f.hostId}`
  }
}

/**
 * A sharded site's wheel: SITE_WHEEL_MS, doubled until it covers two heartbeat intervals. An
 * edge site's hosts tick every 2 s: with a 1,024 ms wheel each tick went through the queue's
 * heap, a third of the heap's traffic on the 10,000-host fleet's edge sites. The order events run
 * in does not depend on the wheel (test/sim/event-queue.test.ts).
 */
export function siteWheelMs (heartbeatIntervalMs: number): number {
  let wheel = SITE_WHEEL_MS
  while (wheel < 2 * heartbeatIntervalMs) wheel *= 2
  return wheel
}
