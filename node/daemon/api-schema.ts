/**
 * The local HTTP API's responses (`/v1/*`, `/healthz`, `/readyz`, errors) as JSON Schemas
 * (TypeBox): one definition gives the TypeScript types the daemon returns and `agentmesh
 * status` reads, and the schemas of the OpenAPI document served at `/v1/openapi.json`
 * (openapi.ts). test/daemon/openapi.test.ts checks a live daemon's answers against them, and
 * objects are closed (no unlisted field), so a field added to a response without its schema
 * fails that test.
 */
import { FORECAST_FALLBACK_REASONS } from '../core/forecast-check.js'
import { Type, type Static, type TNull, type TObject, type TProperties, type TSchema, type TString, type TUnion } from '@sinclair/typebox'

const Closed = { additionalProperties: false }
const Counts = Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'replicas per service' })
const Nullable = <T extends TSchema>(t: T): ReturnType<typeof Type.Union<[T, ReturnType<typeof Type.Null>]>> => Type.Union([t, Type.Null()])

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String({ pattern: '^E_[A-Z_]+$' }), message: Type.String() }, Closed),
}, { ...Closed, $id: 'Error', description: 'Every refusal: a stable code and a message for a person.' })

export const Health = Type.Object({ healthy: Type.Boolean(), reason: Type.String() }, { ...Closed, $id: 'Health' })
export const Ready = Type.Object({ ready: Type.Boolean(), reason: Type.String() }, { ...Closed, $id: 'Ready' })

const SignalStatusSchema = Type.Object({
  service: Type.String(),
  kind: Type.Union([Type.Literal('mqtt-backlog'), Type.Literal('mqtt-rate'), Type.Literal('prometheus'), Type.Literal('push')]),
  upstream: Type.Boolean(),
  scope: Type.Union([Type.Literal('host'), Type.Literal('site')]),
  measures: Type.Union([Type.Literal('backlog'), Type.Literal('rate')], { description: 'backlog: work waiting; rate: work arriving per second.' }),
  value: Type.Optional(Type.Number()),
  ageMs: Type.Optional(Type.Number({ minimum: 0 })),
  errorsCount: Type.Integer({ minimum: 0 }),
  lastError: Type.Optional(Type.Object({ code: Type.String(), message: Type.String(), atMs: Type.Number() }, Closed)),
  connected: Type.Optional(Type.Boolean()),
}, Closed)

const PeerSchema = Type.Object({
  hostId: Type.String(),
  state: Type.Union([Type.Literal('alive'), Type.Literal('suspect'), Type.Literal('dead')]),
  incarnation: Type.Integer({ minimum: 0 }),
  term: Type.Integer({ minimum: 0 }),
  leaderId: Type.String(),
  priority: Type.Integer(),
  planVersion: Type.Integer({ minimum: 0 }),
  runtimeOk: Type.Boolean(),
  running: Counts,
  unavailable: Type.Array(Type.String(), { description: 'services the peer cannot start now (their secrets cannot be read)' }),
  lastHeardAgoMs: Type.Number(),
  labels: Type.Record(Type.String(), Type.String()),
  peerId: Nullable(Type.String()),
  connected: Type.Boolean(),
}, Closed)

function CodedProblem<T extends TProperties> (extra: T): TUnion<[TObject<{ code: TString, message: TString } & T>, TNull]> {
  return Type.Union([Type.Object({ code: Type.String(), message: Type.String(), ...extra }, Closed), Type.Null()])
}

/** The Vault session and secrets of a host with a vault section: never a value or a token. */
const VaultStatusSchema = Type.Object({
  address: Type.String(),
  namespace: Type.String(),
  auth: Type.Object({
    method: Type.Union([Type.Literal('token'), Type.Literal('approle')]),
    up: Type.Boolean(),
    authenticated: Type.Boolean(),
    tokenTtlLeftMs: Nullable(Type.Number()),
    renewable: Type.Boolean(),
    logins: Type.Integer({ minimum: 0 }),
    renewals: Type.Integer({ minimum: 0 }),
    lastLoginAgoMs: Nullable(Type.Number()),
    lastRenewAgoMs: Nullable(Type.Number()),
    lastError: CodedProblem({ agoMs: Type.Number() }),
  }, Closed),
  services: Type.Array(Type.Object({
    service: Type.String(),
    secrets: Type.Array(Type.Object({ secret: Type.String(), key: Type.String(), as: Type.String(), restartOnChange: Type.Boolean() }, Closed)),
    lastResolved: Nullable(Type.Union([Type.Literal('fresh'), Type.Literal('cached')])),
    unavailable: CodedProblem({ sinceAgoMs: Type.Number() }),
  }, Closed)),
  secrets: Type.Array(Type.Object({
    secret: Type.String(), version: Nullable(Type.Integer()), ageMs: Nullable(Type.Number()), inUse: Type.Boolean(), lastError: CodedProblem({}),
  }, Closed)),
}, Closed)

/** A service's load forecast on this host (docs/forecast.md); forecasts run only while it leads. */
const ForecastStatusSchema = Type.Object({
  service: Type.String(),
  model: Type.String(),
  state: Type.Union([Type.Literal('loading'), Type.Literal('warming-up'), Type.Literal('ok'), Type.Literal('fallback')]),
  reason: Type.Optional(Type.Union(FORECAST_FALLBACK_REASONS.map(r => Type.Literal(r)))),
  detail: Type.Optional(Type.String()),
  forecastPerS: Type.Optional(Type.Number()),
  forecastAtMs: Type.Optional(Type.Number()),
  ratePerS: Type.Optional(Type.Number()),
  rateAtMs: Type.Optional(Type.Number()),
  historySteps: Type.Integer({ minimum: 0 }),
  window: Type.Integer({ minimum: 0 }),
  fallbacks: Type.Object(Object.fromEntries(FORECAST_FALLBACK_REASONS.map(r => [r, Type.Integer({ minimum: 0 })])), Closed),
}, Closed)

export const Status = Type.Object({
  hostId: Type.String(),
  site: Type.String(),
  peerId: Type.String(),
  version: Type.String(),
  incarnation: Type.Integer({ minimum: 1 }),
  role: Type.Union([Type.Literal('follower'), Type.Literal('candidate'), Type.Literal('leader')]),
  term: Type.Integer({ minimum: 0 }),
  leaderId: Type.String({ description: "'' while no leader is known" }),
  uptimeMs: Type.Number({ minimum: 0 }),
  addrs: Type.Array(Type.String()),
  connections: Type.Integer({ minimum: 0 }),
  gossipMeshPeers: Type.Object({ site: Type.Integer({ minimum: 0 }), global: Type.Integer({ minimum: 0 }) }, Closed),
  partitioned: Type.Boolean(),
  runtime: Type.Object({
    name: Type.String(),
    kind: Type.Optional(Type.String()),
    ok: Type.Boolean(),
    consecutiveFailures: Type.Optional(Type.Integer({ minimum: 0 })),
    lastError: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, Closed)),
    containers: Type.Optional(Type.Integer({ minimum: 0 })),
    running: Counts,
    starting: Counts,
    unavailable: Type.Array(Type.String(), { description: 'services this host cannot start now (their secrets cannot be read), as told to the leader' }),
  }, Closed),
  signals: Type.Object({ name: Type.String(), signals: Type.Array(SignalStatusSchema) }, Closed),
  capacity: Type.Object({ slots: Type.Integer({ minimum: 0 }), cpuMillis: Type.Integer({ minimum: 0 }), memoryMib: Type.Integer({ minimum: 0 }) }, Closed),
  plan: Nullable(Type.Object({ term: Type.Integer({ minimum: 0 }), version: Type.Integer({ minimum: 0 }), leaderId: Type.String() }, Closed)),
  vault: Nullable(VaultStatusSchema),
  forecast: Type.Optional(Type.Array(ForecastStatusSchema, { description: 'services with a forecast block: model, state, latest forecast, fallbacks per reason' })),
  peers: Type.Array(PeerSchema),
}, { ...Closed, $id: 'Status', description: 'This host, its view of its site, its runtime and signals.' })

const ServiceSummary = Type.Object({
  service: Type.String(), desired: Type.Integer({ minimum: 0 }), running: Type.Integer({ minimum: 0 }), load: Type.Number(), unplaced: Type.Integer({ minimum: 0 }),
}, Closed)

export const Sites = Type.Object({
  sites: Type.Array(Type.Object({
    site: Type.String(),
    local: Type.Boolean(),
    leaderId: Type.String(),
    term: Type.Integer({ minimum: 0 }),
    hostsAlive: Type.Integer({ minimum: 0 }),
    hostsKnown: Type.Optional(Type.Integer({ minimum: 0 })),
    slotsTotal: Type.Integer({ minimum: 0 }),
    slotsFree: Type.Integer({ minimum: 0 }),
    seenAgoMs: Type.Number({ minimum: 0 }),
    services: Type.Array(ServiceSummary),
  }, Closed)),
}, { ...Closed, $id: 'Sites', description: 'This site as this host sees it (first, local: true), then every site heard of by its summaries.' })

const ScalingRulesSchema = Type.Object({
  stabilizationMs: Type.Integer({ minimum: 0 }),
  policies: Type.Array(Type.Object({
    type: Type.Union([Type.Literal('pods'), Type.Literal('percent')]),
    value: Type.Number({ minimum: 0 }),
    periodMs: Type.Integer({ minimum: 0 }),
  }, Closed)),
  selectPolicy: Type.Union([Type.Literal('max'), Type.Literal('min'), Type.Literal('disabled')]),
}, Closed)

const RateRulesSchema = Type.Object({
  drainPerReplica: Type.Optional(Type.Number({ description: 'work one replica drains per second, as configured (absent: learnt)' })),
  drainWithinMs: Type.Integer({ minimum: 1 }),
  utilization: Type.Number(),
  startLatencyMs: Type.Integer({ minimum: 0 }),
  scaleDownHoldMs: Type.Integer({ minimum: 0 }),
  trendWindowMs: Type.Integer({ minimum: 0 }),
  idleHalfLifeMs: Type.Integer({ minimum: 1 }),
}, Closed)

const ServiceScalingSchema = Type.Object({
  service: Type.String(),
  policy: Type.Union([Type.Literal('rate'), Type.Literal('hpa')], { description: 'rate: the rate policy (the default); hpa: the Kubernetes HPA rule on the backlog' }),
  rate: RateRulesSchema,
  targetPerReplica: Type.Number({ description: 'signal units one replica handles: desired × targetPerReplica is the load the plan is sized for' }),
  minReplicas: Type.Integer({ minimum: 0 }),
  maxReplicas: Type.Integer({ minimum: 0 }),
  tolerance: Type.Number({ minimum: 0 }),
  activationThreshold: Type.Number({ minimum: 0 }),
  scaleUp: ScalingRulesSchema,
  scaleDown: ScalingRulesSchema,
  upstream: Type.Optional(Type.Object({ name: Type.String(), saturatedAt: Type.Number() }, Closed)),
}, Closed)

export const PlanView = Type.Object({
  site: Type.String(),
  plan: Nullable(Type.Object({
    term: Type.Integer({ minimum: 0 }),
    version: Type.Integer({ minimum: 0 }),
    leaderId: Type.String(),
    services: Type.Array(Type.String()),
    hosts: Type.Array(Type.Object({ hostId: Type.String(), replicas: Type.Array(Type.Integer({ minimum: 0 })) }, Closed)),
    decisions: Type.Array(Type.Object({ service: Type.String(), desired: Type.Integer({ minimum: 0 }), failingStatic: Type.Boolean(), drainPerReplica: Type.Optional(Type.Number()) }, Closed)),
    wantedHere: Counts,
  }, Closed)),
  leader: Nullable(Type.Object({
    services: Type.Array(Type.Object({
      service: Type.String(), desired: Type.Integer({ minimum: 0 }), load: Type.Number(), unplaced: Type.Integer({ minimum: 0 }),
      drainPerReplica: Type.Optional(Type.Number({ description: 'rate policy: work one replica drains per second, as configured or learnt; absent while unknown (the HPA rule decides)' })),
    }, Closed)),
  }, Closed)),
  /** Optional in the type only so that stand-in sources in tests need not invent it; the daemon always sends it. */
  scaling: Type.Optional(Type.Object({
    sampleMaxAgeMs: Type.Integer({ minimum: 0, description: 'a signal sample older than this is stale (timings.sampleMaxAgeMs): the service fails static' }),
    services: Type.Array(ServiceScalingSchema),
  }, { ...Closed, description: "This host's configuration of each service's scaling (the leader's is the one applied): what the dashboard draws load against and explains decisions by." })),
}, { ...Closed, $id: 'Plan', description: 'The plan in force on this host; on the leader also its latest decisions; the scaling rules of each service.' })

const PushMeasures = Type.Optional(Type.Union([Type.Literal('backlog'), Type.Literal('rate')], { description: 'which push signal of the service: its backlog or its rate one (absent: the first in config order)' }))
export const PushSignalsBody = Type.Union([
  Type.Object({ service: Type.String(), value: Type.Number(), upstream: Type.Optional(Type.Boolean()), measures: PushMeasures }, Closed),
  Type.Object({ signals: Type.Array(Type.Object({ service: Type.String(), value: Type.Number(), upstream: Type.Optional(Type.Boolean()), measures: PushMeasures }, Closed)) }, Closed),
], { $id: 'PushSignals' })
export const PushSignalsResult = Type.Object({ accepted: Type.Integer({ minimum: 0 }) }, { ...Closed, $id: 'PushSignalsResult' })

export type StatusResponse = Static<typeof Status>
export type ServiceScaling = Static<typeof ServiceScalingSchema>
export type ScalingRulesView = Static<typeof ScalingRulesSchema>
export type SitesResponse = Static<typeof Sites>
export type PlanResponse = Static<typeof PlanView>
export type HealthResponse = Static<typeof Health>
export type ReadyResponse = Static<typeof Ready>
