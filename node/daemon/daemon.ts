/**
 * The supervisor daemon: wires the pure core to the real parts. Start order matters: the data
 * dir and the incarnation first (so a crash during start still counts as a start), the keys,
 * the mesh (its bound addresses go into the core's heartbeats), the core and its driver, and
 * the HTTP API last, so /readyz never answers for a daemon that is not running.
 *
 * The container runtime and the signal source are ports (ports.ts), built from the config by
 * workload.ts (Docker or child processes; MQTT, Prometheus and pushed signals) unless a test
 * hands its own in through DaemonPorts. With `runtime.kind: none` and no signals the daemon
 * runs end to end with the null stand-ins.
 */
import type { PlanResponse, ScalingRulesView, SitesResponse, StatusResponse } from './api-schema.js'
import type { ScalingRules } from '../core/service-spec.js'
import './polyfill.js'
import { createHash } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { pino, type Logger } from 'pino'
import { SupervisorCore } from '../core/supervisor-core.js'
import type { SiteView } from '../core/site-view.js'
import type { DaemonConfig } from './config.js'
import { Driver } from './driver.js'
import { DaemonError, DaemonErrorCode } from './errors.js'
import { EventLog } from './event-log.js'
import { HttpApi, type ApiSource } from './http-api.js'
import { checkToken, loadOrCreateHostKey, loadSwarmKey, loadToken, parseSwarmKey } from './identity.js'
import { Mesh } from './mesh.js'
import { DaemonMetrics } from './metrics.js'
import type { ContainerRuntime, SignalSource } from '../core/ports.js'
import { buildRuntime, buildSignals, type StatusRuntime } from './workload.js'
import { SignalError } from '../signals/signal-source.js'
import { StateStore } from './state-store.js'
import { VaultSecrets } from './vault-secrets.js'
import { FORECAST_FALLBACK_REASONS } from '../core/forecast-check.js'
import { ForecastRunner } from '../forecast/forecast-runner.js'
import { loadForecastModel, type ForecastModel } from '../forecast/onnx-model.js'

export interface DaemonPorts {
  /** The agentmesh version shown in status (the command line passes package.json's). */
  version?: string
  runtime?: ContainerRuntime
  signals?: SignalSource
  logger?: Logger
}

/** How long stop() waits for the goodbye message to leave. */
const LEAVE_FLUSH_MS = 500
/** /healthz fails when the driver has not run for this many heartbeat intervals. */
const HEALTH_STALL_HEARTBEATS = 10
const GAUGE_REFRESH_MS = 1000
/** Refused gossip messages and refused inbound connections are logged at most once per (topic, reason) in this interval. */
const REJECT_LOG_INTERVAL_MS = 10_000

/** Wall-aligned and monotonic: Date.now() at process start plus a monotonic clock since. */
export function daemonClock (): number {
  return Math.floor(performance.timeOrigin + performance.now())
}

export class Daemon implements ApiSource {
  readonly config: DaemonConfig
  readonly version: string
  readonly log: Logger
  readonly metrics = new DaemonMetrics()
  readonly events: EventLog
  private readonly runtime: StatusRuntime
  private readonly signals: SignalSource & Partial<SignalPushTarget>
  /** Undefined without a `vault` section (node-vault is then never loaded). */
  private readonly vault: VaultSecrets | undefined
  private store!: StateStore
  private mesh!: Mesh
  private core!: SupervisorCore
  private driver!: Driver
  private api!: HttpApi
  private startedAtMs = 0
  private gaugeTimer: NodeJS.Timeout | undefined
  private stopping: Promise<void> | undefined
  private readonly rejectLog = new Map<string, { atMs: number, suppressed: number }>()
  /** Load forecasts, when a service has a forecast block (startForecaster). */
  private forecaster: ForecastRunner | undefined
  /** Models this host loaded (released on stop). */
  private readonly forecastModels: ForecastModel[] = []
  /** Fallback counts already added to the metric, by service/reason. */
  private readonly forecastCounted = new Map<string, number>()
  httpAddress = { host: '', port: 0 }
  /** Called when the daemon cannot go on (the state file cannot be written, say). */
  onFatal: (err: Error) => void = () => {}

  constructor (config: DaemonConfig, ports: DaemonPorts = {}) {
    this.config = config
    this.version = ports.version ?? 'unknown'
    this.log = (ports.logger ?? pino({ level: config.log.level })).child({ hostId: config.hostId, site: config.site })
    this.events = new EventLog(config.http.eventHistory)
    this.vault = config.vault === undefined ? undefined : new VaultSecrets({ ...config, vault: config.vault }, this.log, this.metrics, this.events, daemonClock)
    this.runtime = ports.runtime ?? buildRuntime(config, this.log, this.metrics, this.vault?.agents)
    this.signals = ports.signals ?? buildSignals(config, this.log, daemonClock)
    this.metrics.signalStatuses = () => this.signals.statuses?.() ?? []
  }

  async start (): Promise<void> {
    const cfg = this.config
    this.startedAtMs = daemonClock()
    try {
      mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 })
    } catch (err) {
      throw new DaemonError(DaemonErrorCode.StateIo, `cannot create data dir ${cfg.dataDir}: ${(err as Error).message}`, [], { cause: err })
    }
    this.store = StateStore.openAndBumpIncarnation(cfg.dataDir)
    this.store.onLazyError = (err) => this.log.warn({ err: err.message, file: this.store.file }, 'member list not written to the state file (the next term or vote write will try again)')
    const { key, created } = await loadOrCreateHostKey(cfg.network.privateKeyFile)
    if (created) this.log.info({ file: cfg.network.privateKeyFile }, 'created host key')
    await this.vault?.start()
    const swarmKey = cfg.network.swarmKeyVault === undefined
      ? loadSwarmKey(cfg.network.swarmKeyFile)
      : parseSwarmKey(await this.vault!.readAtStart(cfg.network.swarmKeyVault, 'swarm key'), 'the swarm key from Vault', true)
    const token = cfg.http.tokenVault !== undefined
      ? checkToken(await this.vault!.readAtStart(cfg.http.tokenVault, 'HTTP API token'), 'the HTTP API token from Vault')
      : cfg.http.tokenFile === '' ? undefined : loadToken(cfg.http.tokenFile)
    await this.runtime.start?.()
    await this.signals.start?.()

    this.mesh = new Mesh({ hostId: cfg.hostId, site: cfg.site, privateKey: key, swarmKey, ...cfg.network }, {
      'message:copies': (copies) => { this.metrics.copiesIn.inc(copies) },
      'message:received': (topic, message, bytes, atMs) => {
        this.metrics.messagesIn.inc({ topic, kind: message.body.kind })
        this.metrics.bytesIn.inc({ topic }, bytes)
        if (atMs >= message.sentAtMs) this.metrics.propagation.observe({ topic }, (atMs - message.sentAtMs) / 1000)
        this.driver?.message(topic, message)
      },
      'message:rejected': (topic, reason, verdict, peerId) => {
        this.metrics.rejected.inc({ topic, reason })
        this.logLimited(`${topic}/${reason}`, (suppressed) => this.log.warn({ topic, reason, verdict, peer: peerId, suppressed }, 'gossip message refused'))
      },
      'message:published': (topic, message, bytes) => {
        this.metrics.messagesOut.inc({ topic, kind: message.body.kind })
        this.metrics.bytesOut.inc({ topic }, bytes)
      },
      'publish:failed': (topic, message, err) => {
        this.metrics.publishErrors.inc({ topic })
        this.log.warn({ topic, kind: message.body.kind, err: err.message }, 'publish failed')
      },
      'peer:connected': (peerId) => {
        this.log.debug({ peer: peerId }, 'peer connected')
      },
      'site:reachable': () => {
        this.log.debug('a site member is reachable')
        this.driver?.reachable()
      },
      'peer:disconnected': (peerId, hostId) => {
        this.metrics.disconnects.inc()
        this.log.debug({ peer: peerId, peerHost: hostId }, 'peer disconnected')
        if (hostId !== undefined) this.driver?.disconnected(hostId)
      },
      'connection:refused': (reason, remoteAddr) => {
        this.metrics.connectionsRefused.inc({ reason })
        this.logLimited(`refused/${reason}`, (suppressed) => this.log.warn({ reason, remoteAddr, suppressed }, 'inbound connection refused'))
      },
      'dial:failed': (peerId, err) => {
        this.metrics.dialFailures.inc()
        this.log.debug({ peer: peerId, err: err.message }, 'dial failed')
      },
    }, daemonClock)
    await this.mesh.start()
    this.log.debug({ fixes: this.mesh.hotPathFixes }, 'libp2p hot-path fixes')
    if (!this.mesh.countsCopies) this.log.warn('gossip message copies are not counted (agentmesh_gossip_received_copies_total stays 0): this gossipsub has no handleReceivedRpc to wrap')

    const addrs = cfg.network.announce.length > 0 ? cfg.network.announce : this.mesh.dialableAddrs()
    this.forecaster = this.startForecaster(cfg)
    this.core = new SupervisorCore({
      hostId: cfg.hostId,
      site: cfg.site,
      incarnation: this.store.incarnation,
      labels: cfg.labels,
      priority: cfg.priority,
      capacity: cfg.capacity,
      services: cfg.services,
      timings: cfg.timings,
      seed: seedOf(cfg.hostId, this.store.incarnation),
      addrs: addrs.map(a => a.includes('/p2p/') ? a : `${a}/p2p/${this.mesh.peerId}`),
      startMs: daemonClock(),
      ...(this.store.core === undefined ? {} : { persisted: this.store.core }),
      bootstrapExpect: cfg.bootstrapExpect,
      ...(this.forecaster === undefined ? {} : { forecast: this.forecaster }),
    })
    this.driver = new Driver({
      core: this.core,
      transport: this.mesh,
      runtime: this.runtime,
      signals: this.signals,
      persist: (state, membersOnly) => this.store.saveCore(state, membersOnly),
      clock: daemonClock,
      log: this.log,
      metrics: this.metrics,
      events: this.events,
    }, { capacity: cfg.capacity, sampleIntervalMs: cfg.timings.heartbeatIntervalMs, resyncIntervalMs: cfg.runtime.resyncIntervalMs })
    this.driver.onFatal = (err) => {
      this.log.fatal({ err: err.message, code: (err as { code?: string }).code }, 'driver stopped')
      this.onFatal(err)
    }
    this.driver.start()
    this.metrics.incarnation.set(this.store.incarnation)
    for (const s of cfg.services) this.metrics.serviceTarget.set({ service: s.name }, s.targetPerReplica)

    if (cfg.debug.faultInjection) {
      this.setPartitioned = (on) => {
        this.mesh.setPartitioned(on)
        this.metrics.partitioned.set(on ? 1 : 0)
      }
    }
    this.api = new HttpApi({ http: cfg.http, token }, { source: this, events: this.events, metrics: this.metrics, log: this.log, clock: daemonClock })
    this.httpAddress = await this.api.start()
    this.gaugeTimer = setInterval(() => this.refreshGauges(), GAUGE_REFRESH_MS)
    this.gaugeTimer.unref()
    this.refreshGauges()
    this.log.info({
      peerId: this.mesh.peerId, incarnation: this.store.incarnation, addrs, http: `${this.httpAddress.host}:${this.httpAddress.port}`,
      runtime: this.runtime.name, signals: this.signals.name, services: cfg.services.map(s => s.name), profile: cfg.profile,
    }, 'supervisor started')
  }

  /** Graceful: say goodbye to the site, let it leave, close everything. Idempotent. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      if (this.gaugeTimer !== undefined) clearInterval(this.gaugeTimer)
      await this.driver?.stop()
      await this.store?.settle()
      await this.mesh?.flush(LEAVE_FLUSH_MS)
      await this.api?.stop()
      await this.mesh?.stop()
      await this.signals.stop?.()
      await this.runtime.stop?.()
      this.vault?.stop()
      for (const m of this.forecastModels.splice(0)) await m.close().catch(() => undefined)
      this.log.info('supervisor stopped')
    })()
    return await this.stopping
  }

  /**
   * A hostile peer can cause thousands of refusals a second: one line per key per interval,
   * carrying how many were left out since the last one.
   */
  private logLimited (key: string, line: (suppressed: number) => void): void {
    const now = daemonClock()
    const last = this.rejectLog.get(key)
    if (last !== undefined && now - last.atMs < REJECT_LOG_INTERVAL_MS) { last.suppressed++; return }
    line(last?.suppressed ?? 0)
    this.rejectLog.set(key, { atMs: now, suppressed: 0 })
  }

  // ---- ApiSource ---------------------------------------------------------------------------

  setPartitioned?: (on: boolean) => void

  status (): StatusResponse {
    const now = daemonClock()
    const connected = this.mesh.connectedPeers()
    const plan = this.core.plan
    return {
      hostId: this.core.hostId,
      site: this.core.site,
      peerId: this.mesh.peerId,
      version: this.version,
      incarnation: this.core.incarnation,
      role: this.core.currentRole,
      term: this.core.currentTerm,
      leaderId: this.core.currentLeaderId,
      uptimeMs: now - this.startedAtMs,
      addrs: this.mesh.dialableAddrs(),
      connections: this.mesh.connectionCount(),
      // gossipsub's mesh for each topic: a host with none on the site topic hears only what
      // its publishers flood to it directly, and relays nothing.
      gossipMeshPeers: { site: this.mesh.meshPeers('site').length, global: this.mesh.meshPeers('global').length },
      partitioned: this.mesh.isPartitioned,
      runtime: { name: this.runtime.name, ...this.runtime.status?.(), ok: this.core.isRuntimeOk, running: this.replicasHere('running'), starting: this.replicasHere('starting'), unavailable: [...this.core.unavailableServices] },
      // The workload's signal set adds each signal's scope to its status (workload.ts).
      signals: { name: this.signals.name, signals: [...(this.signals.statuses?.() ?? [])] as StatusResponse['signals']['signals'] },
      vault: this.vault?.status() ?? null,
      forecast: this.forecaster?.statuses() ?? [],
      capacity: this.config.capacity,
      plan: plan === undefined ? null : { term: plan.plan.term, version: plan.plan.version, leaderId: plan.leaderId },
      peers: this.core.peers().map(p => {
        const peerId = this.mesh.peerOf(p.hostId)
        return {
          hostId: p.hostId,
          state: p.state,
          incarnation: p.incarnation,
          term: p.term,
          leaderId: p.leaderId,
          priority: p.priority,
          planVersion: p.planVersion,
          runtimeOk: p.runtimeOk,
          unavailable: [...p.unavailable],
          running: Object.fromEntries(p.running.map(r => [r.service, r.replicas])),
          lastHeardAgoMs: now - p.lastHeardMs,
          labels: Object.fromEntries(p.labels),
          peerId: peerId ?? null,
          connected: peerId !== undefined && connected.has(peerId),
        }
      }),
    }
  }

  sites (): SitesResponse {
    const now = daemonClock()
    const v = this.core.siteView()
    const local = {
      site: v.site, local: true, leaderId: v.leaderId, term: v.term,
      hostsAlive: v.hostsAlive, hostsKnown: v.hostsKnown, slotsTotal: v.slotsTotal, slotsFree: v.slotsFree, seenAgoMs: 0, services: this.localServices(v),
    }
    const remote = [...this.core.sites.values()].filter(s => s.site !== this.core.site).sort((a, b) => a.site < b.site ? -1 : 1).map(s => ({
      site: s.site, local: false, leaderId: s.leaderId, term: s.summary.term, hostsAlive: s.summary.hostsAlive,
      slotsTotal: s.summary.slotsTotal, slotsFree: s.summary.slotsFree, seenAgoMs: now - s.receivedAtMs, services: s.summary.services,
    }))
    return { sites: [local, ...remote] }
  }

  /**
   * This site's services (desired, running, load, unplaced): on the leader its own latest round;
   * on a follower the summary the leader last gossiped on the global topic (every
   * summaryIntervalMs) if it is the current leader's of this term; before either, none.
   */
  private localServices (v: SiteView): SitesResponse['sites'][number]['services'] {
    const lv = this.core.leaderView
    if (lv !== undefined) {
      return [...lv.scalers.keys()].sort().map(name => ({
        service: name, desired: lv.scalers.get(name)!.replicas, running: v.held.get(name) ?? 0, load: lv.load.get(name) ?? 0, unplaced: lv.unplaced.get(name) ?? 0,
      }))
    }
    const heard = this.core.sites.get(this.core.site)
    return heard !== undefined && heard.leaderId === v.leaderId && heard.summary.term === v.term ? heard.summary.services : []
  }

  plan (): PlanResponse {
    const adopted = this.core.plan
    const lv = this.core.leaderView
    return {
      site: this.core.site,
      plan: adopted === undefined
        ? null
        : {
            term: adopted.plan.term,
            version: adopted.plan.version,
            leaderId: adopted.leaderId,
            services: adopted.plan.services,
            hosts: adopted.plan.hosts,
            decisions: adopted.plan.decisions,
            wantedHere: Object.fromEntries(adopted.wanted),
          },
      leader: lv === undefined
        ? null
        : {
            services: [...lv.scalers.keys()].sort().map(name => {
              const scaler = lv.scalers.get(name)!
              const drain = scaler.drainPerReplica
              return { service: name, desired: scaler.replicas, load: lv.load.get(name) ?? 0, unplaced: lv.unplaced.get(name) ?? 0, ...(drain === undefined ? {} : { drainPerReplica: drain }) }
            }),
          },
      scaling: {
        sampleMaxAgeMs: this.config.timings.sampleMaxAgeMs,
        services: this.config.services.map(s => ({
          service: s.name,
          policy: s.policy,
          rate: { ...s.rate },
          targetPerReplica: s.targetPerReplica,
          minReplicas: s.minReplicas,
          maxReplicas: s.maxReplicas,
          tolerance: s.tolerance,
          activationThreshold: s.activationThreshold,
          scaleUp: rulesView(s.scaleUp),
          scaleDown: rulesView(s.scaleDown),
          ...(s.upstream === undefined ? {} : { upstream: { name: s.upstream.name, saturatedAt: s.upstream.saturatedAt } }),
        })),
      },
    }
  }

  async openApi (): Promise<Record<string, unknown>> {
    // Loaded here, not at start: TypeBox and the schemas cost every supervisor about 200
    // modules and several MB, and only this route needs them.
    const { openApiDocument } = await import('./openapi.js')
    return openApiDocument(this.version)
  }

  /**
   * `POST /v1/signals`: `{service, value, upstream?, measures?}` or `{signals: [...]}` (`measures`:
   * which push signal of the service, `backlog` or `rate`; absent: its first push signal). The shape of every
   * entry is checked before any is set; entries are then set in order, and the first one that
   * names no push signal (or carries a refused value) stops the rest with its error.
   */
  pushSignals (body: unknown): { accepted: number } {
    const push = this.signals.push
    if (push === undefined) throw new SignalError('E_SIGNAL_NOT_FOUND', 'this host has no push signal (signals with kind: push)')
    const list = typeof body === 'object' && body !== null && Array.isArray((body as { signals?: unknown }).signals)
      ? (body as { signals: unknown[] }).signals
      : [body]
    const checked = list.map((x, i) => {
      const e = x as { service?: unknown, value?: unknown, upstream?: unknown, measures?: unknown }
      if (typeof e !== 'object' || e === null || typeof e.service !== 'string' || typeof e.value !== 'number' || (e.upstream !== undefined && typeof e.upstream !== 'boolean') ||
        (e.measures !== undefined && e.measures !== 'backlog' && e.measures !== 'rate')) {
        throw new SignalError('E_SIGNAL_VALUE_INVALID', `signal ${i}: must be {"service": string, "value": number, "upstream"?: boolean, "measures"?: "backlog" | "rate"}`)
      }
      return { service: e.service, value: e.value, upstream: e.upstream ?? false, measures: e.measures as 'backlog' | 'rate' | undefined }
    })
    for (const e of checked) push.call(this.signals, e.service, e.value, e.upstream, e.measures)
    return { accepted: checked.length }
  }

  /** This host's replicas per service at the last observation: running, or started but not seen running yet. */
  private replicasHere (state: 'running' | 'starting'): Record<string, number> {
    return Object.fromEntries([...this.core.replicasHere].filter(([, r]) => r[state] > 0).map(([service, r]) => [service, r[state]]))
  }

  ready (): { ready: boolean, reason: string } {
    if (this.stopping !== undefined) return { ready: false, reason: 'stopping' }
    if (this.mesh.isPartitioned) return { ready: false, reason: 'partitioned by fault injection' }
    if (this.core.currentLeaderId === '') return { ready: false, reason: 'no site leader known yet' }
    return { ready: true, reason: this.core.currentRole === 'leader' ? 'leading the site' : `following ${this.core.currentLeaderId}` }
  }

  healthy (): { healthy: boolean, reason: string } {
    const stalledMs = daemonClock() - this.driver.lastHandledMs
    const limit = HEALTH_STALL_HEARTBEATS * this.config.timings.heartbeatIntervalMs
    return stalledMs > limit
      ? { healthy: false, reason: `driver loop stalled for ${stalledMs} ms` }
      : { healthy: true, reason: 'ok' }
  }

  /**
   * Load forecasting for the services with a `forecast` block (docs/forecast.md): onnxruntime-node
   * is imported only then. Evaluations start as soon as a step of history closes; each state
   * change of a service's forecast is logged once.
   */
  private startForecaster (cfg: DaemonConfig): ForecastRunner | undefined {
    if (!cfg.services.some(s => s.forecast !== undefined)) return undefined
    return new ForecastRunner({
      services: cfg.services,
      load: async (model) => {
        const m = await loadForecastModel(model)
        this.forecastModels.push(m)
        return m
      },
      schedule: (work) => { work().catch((err: Error) => this.log.error({ err: err.message }, 'forecast work failed')) },
      onChange: (s) => {
        const fields = { service: s.service, model: s.model, state: s.state, reason: s.reason, detail: s.detail }
        if (s.state === 'fallback') this.log.warn(fields, 'forecast ignored: the service scales reactively')
        else this.log.info(fields, 'forecast state changed')
      },
    })
  }

  private refreshForecastMetrics (): void {
    if (this.forecaster === undefined) return
    const m = this.metrics
    m.forecastRate.reset()
    for (const s of this.forecaster.statuses()) {
      if (s.state === 'ok' && s.forecastPerS !== undefined) m.forecastRate.set({ service: s.service }, s.forecastPerS)
      for (const reason of FORECAST_FALLBACK_REASONS) {
        const key = `${s.service}/${reason}`
        const delta = s.fallbacks[reason] - (this.forecastCounted.get(key) ?? 0)
        if (delta > 0) { m.forecastFallbacks.inc({ service: s.service, reason }, delta); this.forecastCounted.set(key, s.fallbacks[reason]) }
      }
    }
  }

  private refreshGauges (): void {
    this.refreshForecastMetrics()
    const m = this.metrics
    const counts = { alive: 0, suspect: 0, dead: 0 }
    for (const p of this.core.peers()) counts[p.state]++
    for (const [state, n] of Object.entries(counts)) m.peers.set({ state }, n)
    m.term.set(this.core.currentTerm)
    m.isLeader.set(this.core.currentRole === 'leader' ? 1 : 0)
    m.planVersion.set(this.core.plan?.plan.version ?? 0)
    m.connections.set(this.mesh.connectionCount())
    m.serviceDesired.reset()
    m.serviceWantedHere.reset()
    const plan = this.core.plan
    for (const d of plan?.plan.decisions ?? []) m.serviceDesired.set({ service: d.service }, d.desired)
    for (const [service, n] of plan?.wanted ?? []) m.serviceWantedHere.set({ service }, n)
    m.containersRunning.reset()
    for (const [service, n] of Object.entries(this.replicasHere('running'))) m.containersRunning.set({ service }, n)
    if (this.runtime.status === undefined) m.runtimeUp.set(this.core.isRuntimeOk ? 1 : 0)
    m.siteLeader.reset()
    m.siteTerm.reset()
    if (this.core.currentLeaderId !== '') m.siteLeader.set({ site: this.core.site, leader: this.core.currentLeaderId }, 1)
    m.siteTerm.set({ site: this.core.site }, this.core.currentTerm)
    for (const s of this.core.sites.values()) {
      if (s.site === this.core.site) continue
      m.siteLeader.set({ site: s.site, leader: s.leaderId }, 1)
      m.siteTerm.set({ site: s.site }, s.summary.term)
    }
  }
}

/** What a signal source offers besides sampling (ScopedSignalSet, SignalSet). */
interface SignalPushTarget {
  push: (service: string, value: number, upstream?: boolean, measures?: 'backlog' | 'rate') => void
  statuses: () => ReturnType<DaemonMetrics['signalStatuses']>
}

/** A copy of scaling rules for /v1/plan (the config's objects are shared with the core). */
function rulesView (r: ScalingRules): ScalingRulesView {
  return { stabilizationMs: r.stabilizationMs, policies: r.policies.map(p => ({ type: p.type, value: p.value, periodMs: p.periodMs })), selectPolicy: r.selectPolicy }
}

/** Seeds the core's jitter: differs per host and per start, repeatable for a given pair. */
function seedOf (hostId: string, incarnation: number): number {
  return createHash('sha256').update(`${hostId}/${incarnation}`).digest().readUInt32LE(0)
}
