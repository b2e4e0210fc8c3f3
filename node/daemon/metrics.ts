/**
 * The daemon's Prometheus metrics (prom-client), on a registry of its own. Names follow
 * Prometheus conventions: `agentmesh_` prefix, base units (seconds, bytes), `_total` for
 * counters; labels take values from closed sets (topic, kind, reason, state) or the site name
 * (bounded by the fleet's sites). Host ids appear only in `agentmesh_site_leader_info`, one
 * series per site.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * How often the event-loop lag histogram (nodejs_eventloop_lag_*) samples. prom-client's 10 ms
 * default wakes the loop 100 times a second: measured here, a lone supervisor used 1.3-1.4 % of
 * a core with it and 0.8-1.0 % at 100 ms (in a 20-host mesh the difference is within the noise).
 */
export const EVENT_LOOP_SAMPLE_MS = 100

/**
 * Buckets for gossip propagation (upper bounds, s): fine below 50 ms, where loopback and LAN
 * delivery live. The fidelity benchmark counts the simulator's deliveries in the same ones.
 */
export const PROPAGATION_BUCKETS_S = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5]
/** Buckets for a container start, from the start call to the first time it is seen running. */
const CONTAINER_START_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60]
const TICK_BUCKETS_S = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1]

export class DaemonMetrics {
  readonly registry = new Registry()
  readonly peers: Gauge<'state'>
  readonly isLeader: Gauge
  readonly term: Gauge
  readonly incarnation: Gauge
  readonly siteLeader: Gauge<'site' | 'leader'>
  readonly siteTerm: Gauge<'site'>
  readonly forecastFallbacks: Counter<'service' | 'reason'>
  readonly forecastRate: Gauge<'service'>
  readonly messagesIn: Counter<'topic' | 'kind'>
  readonly copiesIn: Counter
  readonly bytesIn: Counter<'topic'>
  readonly messagesOut: Counter<'topic' | 'kind'>
  readonly bytesOut: Counter<'topic'>
  readonly publishErrors: Counter<'topic'>
  readonly rejected: Counter<'topic' | 'reason'>
  readonly propagation: Histogram<'topic'>
  readonly electionsStarted: Counter<'pre_vote'>
  readonly leadersElected: Counter
  readonly leaderChanges: Counter
  readonly steppedDown: Counter<'reason'>
  readonly planVersion: Gauge
  readonly plansAdopted: Counter
  readonly plansIgnored: Counter<'reason'>
  readonly plansCapped: Counter<'reason'>
  readonly coreDropped: Counter<'reason'>
  readonly coreTick: Histogram
  readonly connections: Gauge
  readonly dialFailures: Counter
  readonly disconnects: Counter
  readonly actions: Counter<'type' | 'result'>
  readonly persistWrites: Counter
  readonly httpRequests: Counter<'route' | 'code'>
  readonly sseClients: Gauge
  readonly httpDroppedConnections: Counter
  readonly httpConnections: Gauge
  readonly connectionsRefused: Counter<'reason'>
  readonly partitioned: Gauge
  readonly containerStart: Histogram<'service'>
  readonly containerStartFailures: Counter<'service'>
  readonly runtimeUp: Gauge
  readonly containersRunning: Gauge<'service'>
  readonly serviceDesired: Gauge<'service'>
  readonly serviceWantedHere: Gauge<'service'>
  readonly serviceTarget: Gauge<'service'>
  readonly signalValue: Gauge<'service' | 'kind' | 'upstream'>
  readonly signalAge: Gauge<'service' | 'kind' | 'upstream'>
  readonly signalErrors: Counter<'service' | 'kind' | 'upstream'>
  readonly vaultRequests: Counter<'op' | 'result'>
  readonly vaultUp: Gauge
  readonly vaultTokenTtl: Gauge
  readonly secretResolutions: Counter<'service' | 'result'>
  readonly secretRestarts: Counter<'service'>
  readonly secretAge: Gauge<'service'>
  readonly serviceUnavailable: Gauge<'service'>
  /** Set by the daemon when Vault is configured: read at each scrape. */
  vaultStatus: (() => { up: boolean, tokenTtlLeftMs: number | null, unavailable: readonly string[], ages: ReadonlyMap<string, number> }) | undefined
  /** Set by the daemon: the signals' statuses, read at each scrape. */
  signalStatuses: () => ReadonlyArray<{ service: string, kind: string, upstream: boolean, value?: number, ageMs?: number, errorsCount: number }> = () => []

  constructor () {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS })
    // prom-client names these gauges with a `_total` suffix, which Prometheus reserves for
    // counters (promtool flags them); the same figures remain as nodejs_active_*{type}.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) this.registry.removeSingleMetric(name)
    this.peers = new Gauge({ name: 'agentmesh_peers', help: 'Site members this host knows, by state.', labelNames: ['state'], registers })
    this.forecastFallbacks = new Counter({ name: 'agentmesh_forecast_fallbacks_total', help: 'Planning rounds a service with a forecast scaled reactively instead, by reason (docs/forecast.md).', labelNames: ['service', 'reason'], registers })
    this.forecastRate = new Gauge({ name: 'agentmesh_forecast_arrival_rate', help: 'The latest usable forecast of a service\'s arrival rate over the next step (requests per second).', labelNames: ['service'], registers })
    this.isLeader = new Gauge({ name: 'agentmesh_is_leader', help: '1 while this host leads its site.', registers })
    this.term = new Gauge({ name: 'agentmesh_term', help: 'This host\'s current election term.', registers })
    this.incarnation = new Gauge({ name: 'agentmesh_incarnation', help: 'Starts of this host (persisted, grows by one per start).', registers })
    this.siteLeader = new Gauge({ name: 'agentmesh_site_leader_info', help: 'The leader of each known site as this host sees it (value 1).', labelNames: ['site', 'leader'], registers })
    this.siteTerm = new Gauge({ name: 'agentmesh_site_term', help: 'The term of each known site\'s leader as this host sees it.', labelNames: ['site'], registers })
    this.messagesIn = new Counter({ name: 'agentmesh_gossip_received_messages_total', help: 'Gossip messages accepted, by topic and kind.', labelNames: ['topic', 'kind'], registers })
    this.copiesIn = new Counter({ name: 'agentmesh_gossip_received_copies_total', help: 'Gossip message copies received, duplicates included (gossipsub accepts each message once and drops the later copies by id).', registers })
    this.bytesIn = new Counter({ name: 'agentmesh_gossip_received_bytes_total', help: 'Bytes of gossip messages accepted, by topic.', labelNames: ['topic'], registers })
    this.messagesOut = new Counter({ name: 'agentmesh_gossip_published_messages_total', help: 'Gossip messages published, by topic and kind.', labelNames: ['topic', 'kind'], registers })
    this.bytesOut = new Counter({ name: 'agentmesh_gossip_published_bytes_total', help: 'Bytes of gossip messages published, by topic.', labelNames: ['topic'], registers })
    this.publishErrors = new Counter({ name: 'agentmesh_gossip_publish_errors_total', help: 'Messages that could not be encoded or published, by topic.', labelNames: ['topic'], registers })
    this.rejected = new Counter({ name: 'agentmesh_gossip_rejected_messages_total', help: 'Received gossip messages refused by the validator, by topic and reason.', labelNames: ['topic', 'reason'], registers })
    this.propagation = new Histogram({ name: 'agentmesh_gossip_propagation_seconds', help: 'From the sender\'s sentAtMs to acceptance here (includes clock skew between hosts).', labelNames: ['topic'], buckets: PROPAGATION_BUCKETS_S, registers })
    this.electionsStarted = new Counter({ name: 'agentmesh_elections_started_total', help: 'Election rounds this host started (pre_vote="true" for pre-vote rounds).', labelNames: ['pre_vote'], registers })
    this.leadersElected = new Counter({ name: 'agentmesh_elections_won_total', help: 'Elections this host won.', registers })
    this.leaderChanges = new Counter({ name: 'agentmesh_leader_changes_total', help: 'Times this host started following a new leader.', registers })
    this.steppedDown = new Counter({ name: 'agentmesh_leader_step_downs_total', help: 'Times this host stopped leading, by reason.', labelNames: ['reason'], registers })
    this.planVersion = new Gauge({ name: 'agentmesh_plan_version', help: 'Version of the plan in force on this host.', registers })
    this.plansAdopted = new Counter({ name: 'agentmesh_plans_adopted_total', help: 'Plans this host adopted.', registers })
    this.plansIgnored = new Counter({ name: 'agentmesh_plans_ignored_total', help: 'Plans this host ignored, by reason (stale-term, not-leader, old-version, unproven-leader: its sender was not seen to win; term-jump).', labelNames: ['reason'], registers })
    this.plansCapped = new Counter({ name: 'agentmesh_plan_capped_total', help: 'Services of an adopted plan whose part on this host was cut, by reason (unknown-service, max-replicas, slots).', labelNames: ['reason'], registers })
    this.coreDropped = new Counter({ name: 'agentmesh_core_dropped_messages_total', help: 'Accepted messages the core dropped, by reason (wrong-site, stale, self, term-jump, incarnation-jump, not-handled: spill messages, not acted on yet).', labelNames: ['reason'], registers })
    this.coreTick = new Histogram({ name: 'agentmesh_core_handle_duration_seconds', help: 'Time the core takes for one input (tick, message, hint), outputs included.', buckets: TICK_BUCKETS_S, registers })
    this.connections = new Gauge({ name: 'agentmesh_connections', help: 'Open libp2p connections.', registers })
    this.dialFailures = new Counter({ name: 'agentmesh_dial_failures_total', help: 'Dials of the re-dial loop that failed.', registers })
    this.disconnects = new Counter({ name: 'agentmesh_peer_disconnects_total', help: 'Peers whose last connection closed.', registers })
    this.actions = new Counter({ name: 'agentmesh_container_actions_total', help: 'Container actions the core asked for, by type and result (ok, failed, skipped by the null runtime, dropped when the action queue was full).', labelNames: ['type', 'result'], registers })
    this.persistWrites = new Counter({ name: 'agentmesh_state_writes_total', help: 'Atomic writes of the election state file.', registers })
    this.httpRequests = new Counter({ name: 'agentmesh_http_requests_total', help: 'HTTP API requests, by route and status code.', labelNames: ['route', 'code'], registers })
    this.httpConnections = new Gauge({ name: 'agentmesh_http_connections', help: 'Open HTTP API connections (http.maxConnections at most).', registers })
    this.httpDroppedConnections = new Counter({ name: 'agentmesh_http_dropped_connections_total', help: 'HTTP connections closed on arrival because http.maxConnections were open.', registers })
    this.connectionsRefused = new Counter({ name: 'agentmesh_connections_refused_total', help: 'Inbound libp2p connections refused before they became peers, by reason (pnet: the private-network handshake failed, a peer without this swarm key; encryption: the Noise handshake failed; partitioned: fault injection).', labelNames: ['reason'], registers })
    this.sseClients = new Gauge({ name: 'agentmesh_http_event_streams', help: 'Open /v1/events streams.', registers })
    this.partitioned = new Gauge({ name: 'agentmesh_fault_partitioned', help: '1 while fault injection cuts this host off the mesh.', registers })
    this.containerStart = new Histogram({ name: 'agentmesh_container_start_duration_seconds', help: 'From the start call to the first observation of the container running, by service.', labelNames: ['service'], buckets: CONTAINER_START_BUCKETS_S, registers })
    this.containerStartFailures = new Counter({ name: 'agentmesh_container_start_failures_total', help: 'Started containers seen exited or gone before ever running, by service.', labelNames: ['service'], registers })
    this.runtimeUp = new Gauge({ name: 'agentmesh_runtime_up', help: '1 while the container runtime answers; 0 while it is unreachable (the host then offers only what runs).', registers })
    this.containersRunning = new Gauge({ name: 'agentmesh_containers_running', help: 'Agent containers of this host seen running at the last observation, by service.', labelNames: ['service'], registers })
    this.serviceDesired = new Gauge({ name: 'agentmesh_service_desired_replicas', help: 'Replicas the plan in force wants in this host\'s site, by service (the leader\'s decision; the same on every host that follows it).', labelNames: ['service'], registers })
    this.serviceTarget = new Gauge({ name: 'agentmesh_service_target_per_replica', help: 'Signal units one replica of the service handles (services[].targetPerReplica): desired × this is the load the plan is sized for.', labelNames: ['service'], registers })
    this.serviceWantedHere = new Gauge({ name: 'agentmesh_service_wanted_here_replicas', help: 'Replicas the plan in force wants on this host, by service, after this host\'s caps.', labelNames: ['service'], registers })
    this.vaultRequests = new Counter({ name: 'agentmesh_vault_requests_total', help: 'Requests to Vault, by op (read, login, lookup, renew, health) and result (ok, or the error: unreachable, unavailable, forbidden, not-found, auth, tls, bad-response).', labelNames: ['op', 'result'], registers })
    this.secretResolutions = new Counter({ name: 'agentmesh_secret_resolutions_total', help: 'Starts of agents that need secrets, by service and where the secrets came from (fresh: Vault; cached: memory, Vault not answering; failed: the start failed).', labelNames: ['service', 'result'], registers })
    this.secretRestarts = new Counter({ name: 'agentmesh_secret_restarts_total', help: 'Agents restarted because a secret they were started with changed (restartOnChange), by service.', labelNames: ['service'], registers })
    const vault = (): ReturnType<NonNullable<DaemonMetrics['vaultStatus']>> | undefined => this.vaultStatus?.()
    this.vaultUp = new Gauge({
      name: 'agentmesh_vault_up', help: '1 while Vault answers (unsealed), 0 while it does not; absent without a vault section.', registers,
      collect () { this.reset(); const v = vault(); if (v !== undefined) this.set(v.up ? 1 : 0) },
    })
    this.vaultTokenTtl = new Gauge({
      name: 'agentmesh_vault_token_ttl_seconds', help: 'Time left of the supervisor\'s Vault token (absent without a token or for one that never expires).', registers,
      collect () { this.reset(); const v = vault(); if (v?.tokenTtlLeftMs !== null && v?.tokenTtlLeftMs !== undefined) this.set(v.tokenTtlLeftMs / 1000) },
    })
    this.secretAge = new Gauge({
      name: 'agentmesh_secret_age_seconds', help: 'Per service, the age of the oldest copy in memory of its secrets (past vault.maxStaleMs a start needs Vault).', labelNames: ['service'], registers,
      collect () { this.reset(); for (const [service, s] of vault()?.ages ?? []) this.set({ service }, s) },
    })
    this.serviceUnavailable = new Gauge({
      name: 'agentmesh_service_unavailable', help: 'Services this host cannot start now because their secrets cannot be read (1), as reported to the site leader.', labelNames: ['service'], registers,
      collect () { this.reset(); for (const service of vault()?.unavailable ?? []) this.set({ service }, 1) },
    })
    const signalLabels = ['service', 'kind', 'upstream'] as const
    const signals = (): ReturnType<DaemonMetrics['signalStatuses']> => this.signalStatuses()
    const labelsOf = (s: { service: string, kind: string, upstream: boolean }): Record<'service' | 'kind' | 'upstream', string> => ({ service: s.service, kind: s.kind, upstream: String(s.upstream) })
    this.signalValue = new Gauge({
      name: 'agentmesh_signal_value', help: 'Last good value of each signal of this host (absent until the first one).', labelNames: signalLabels, registers,
      collect () { this.reset(); for (const s of signals()) if (s.value !== undefined) this.set(labelsOf(s), s.value) },
    })
    this.signalAge = new Gauge({
      name: 'agentmesh_signal_age_seconds', help: 'Age of each signal\'s last good value; past timings.sampleMaxAgeMs the service fails static.', labelNames: signalLabels, registers,
      collect () { this.reset(); for (const s of signals()) if (s.ageMs !== undefined) this.set(labelsOf(s), s.ageMs / 1000) },
    })
    this.signalErrors = new Counter({
      name: 'agentmesh_signal_errors_total', help: 'Failed readings of each signal (bad payloads, failed queries, lost connections).', labelNames: signalLabels, registers,
      collect () { this.reset(); for (const s of signals()) this.inc(labelsOf(s), s.errorsCount) },
    })
  }
}
