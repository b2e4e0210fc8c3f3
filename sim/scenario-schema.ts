/**
 * The JSON Schema of the scenario format, generated from the tables the scenario reader
 * (scenario-parse.ts) checks against: its field lists, SCENARIO_NUMBERS, the name and duration
 * patterns, the shapes' and faults' fields, SIM_DEFAULTS' limits, and the shared service
 * schema (node/core/service-spec-schema.ts) with the simulator's own service fields.
 * `npm run schemas` writes it to schemas/scenario.schema.json; a test checks the committed file
 * equals this, and that every scenario in sim/scenarios/ validates.
 *
 * What only the reader checks: names that must exist (a site, host, service or upstream named
 * elsewhere), trace files, the order of steps, a p99 below its median, Dlo ≤ D ≤ Dhi, the
 * largest duration of a duration written with a unit, and the total number of hosts. Every
 * document the schema refuses, the reader refuses too.
 */
import { JSON_SCHEMA_DRAFT, enumSchema, numberSchema, objectSchema, scalarMapSchema, type JsonSchema } from '../node/core/json-schema.js'
import { serviceSpecSchema } from '../node/core/service-spec-schema.js'
import { TIMING_PROFILES } from '../node/core/config.js'
import { SIM_DEFAULTS } from './defaults.js'
import {
  BASELINE_FIELDS, CONTAINERS_FIELDS, CRASH_MODES, DAEMON_ONLY_SERVICE_FIELDS, FAULT_FIELDS, FAULT_KINDS, FLAP_FIELDS, GLOBAL_SUBSCRIBERS,
  GOSSIP_FIELDS, HPA_BEHAVIORS, LINK_FIELDS, LOAD_SHAPES, SCENARIO_DURATION_RE, SCENARIO_FIELDS, SCENARIO_NAME_LENGTH_MAX,
  SCENARIO_NAME_RE, SCENARIO_NUMBERS as N, SHAPE_FIELDS, SIGNALS_FIELDS, SIM_SERVICE_FIELDS, SITE_FIELDS, START_LATENCY_FIELDS, UPSTREAM_FIELDS,
} from './scenario-parse.js'
import { POLICY_NAMES, SITE_KINDS } from './scenario.js'

const name = (): JsonSchema => ({ type: 'string', pattern: SCENARIO_NAME_RE.source, minLength: 1, maxLength: SCENARIO_NAME_LENGTH_MAX })

/** Seconds as a number, or a string with an optional unit (the reader trims it). */
const duration = (): JsonSchema => ({
  anyOf: [
    { type: 'number', minimum: 0, maximum: SIM_DEFAULTS.maxDurationMs / 1000 },
    { type: 'string', pattern: `^\\s*${SCENARIO_DURATION_RE.source.slice(1, -1)}\\s*$` },
  ],
})

/** One site, several, or `*` (all). */
const siteList = (): JsonSchema => ({ anyOf: [{ const: '*' }, name(), { type: 'array', items: name() }] })

/** Builds a closed object from a field list, failing at build time when the list names a field with no schema. */
function fields (list: readonly string[], schemas: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema {
  const props: Record<string, JsonSchema> = {}
  for (const k of list) {
    if (schemas[k] === undefined) throw new Error(`scenario schema: no schema for field ${k}`)
    props[k] = schemas[k]
  }
  return objectSchema(props, required)
}

const link = (): JsonSchema => fields(LINK_FIELDS, { medianMs: numberSchema(N.linkMs), jitterMs: numberSchema(N.linkMs), loss: numberSchema(N.linkLoss) })

function site (): JsonSchema {
  return fields(SITE_FIELDS, {
    name: name(),
    kind: enumSchema(SITE_KINDS),
    hosts: numberSchema(N.hosts),
    slots: numberSchema(N.slots),
    labels: scalarMapSchema(),
    priority: numberSchema(N.priority),
    profile: enumSchema(Object.keys(TIMING_PROFILES)),
    latency: link(),
    flap: fields(FLAP_FIELDS, { up: duration(), down: duration() }, FLAP_FIELDS),
  }, ['name', 'kind', 'hosts'])
}

function containers (): JsonSchema {
  const latency = fields(START_LATENCY_FIELDS, { median: duration(), p99: duration() })
  return fields(CONTAINERS_FIELDS, {
    startLatency: fields(SITE_KINDS, Object.fromEntries(SITE_KINDS.map(k => [k, latency]))),
    startFailure: numberSchema(N.startFailure),
    crashMtbf: duration(),
  })
}

function service (): JsonSchema {
  const own: Record<(typeof SIM_SERVICE_FIELDS)[number], JsonSchema> = {
    drainPerReplica: numberSchema(N.drainPerReplica, 'Backlog one running replica drains per second.'),
    sla: numberSchema(N.sla, 'The backlog above which the SLA is violated.'),
    sites: { ...siteList(), description: 'Sites that run the service (default: all).' },
  }
  const ignored = Object.fromEntries(DAEMON_ONLY_SERVICE_FIELDS.map(k => [k, { description: 'A host config\'s field, accepted and ignored so a block pastes unchanged.' }]))
  const s = serviceSpecSchema({ ...own, ...ignored })
  return { ...s, required: ['name', 'drainPerReplica', 'sla'] }
}

function load (): JsonSchema {
  const rate = numberSchema(N.rate)
  const schemas: Record<string, JsonSchema> = {
    service: name(),
    sites: siteList(),
    shape: enumSchema(LOAD_SHAPES),
    rate,
    steps: { type: 'array', items: fields(['at', 'rate'], { at: duration(), rate }, ['at', 'rate']) },
    mean: rate,
    amplitude: numberSchema(N.amplitude),
    period: duration(),
    phase: duration(),
    bursts: { type: 'array', items: fields(['at', 'duration', 'rate'], { at: duration(), duration: duration(), rate }, ['at', 'duration', 'rate']) },
    file: { type: 'string', minLength: 1, description: 'A CSV with the header t_seconds,rate, relative to the scenario file.' },
    scale: numberSchema(N.scale),
    loop: { type: 'boolean' },
    offset: duration(),
  }
  const required: Record<string, string[]> = { constant: ['rate'], diurnal: ['mean'], trace: ['file'] }
  return {
    type: 'object',
    required: ['service', 'shape'],
    properties: { shape: enumSchema(LOAD_SHAPES) },
    allOf: LOAD_SHAPES.map(shape => ({
      if: { properties: { shape: { const: shape } }, required: ['shape'] },
      then: fields(['service', 'sites', 'shape', ...SHAPE_FIELDS[shape]], schemas, ['service', 'shape', ...(required[shape] ?? [])]),
    })),
  }
}

function fault (): JsonSchema {
  const schemas: Record<string, JsonSchema> = {
    at: duration(),
    kind: enumSchema(FAULT_KINDS),
    host: { type: 'string', minLength: 1, description: 'A host id (SITE-hN), leader (with site) or random (count, optional site).' },
    site: name(),
    count: numberSchema(N.count),
    mode: enumSchema(CRASH_MODES),
    restartAfter: duration(),
    groups: { type: 'array', minItems: 1, items: { type: 'array', items: name() } },
    healAfter: duration(),
    between: { type: 'array', minItems: 2, maxItems: 2, items: name() },
    medianMs: numberSchema(N.linkMs),
    jitterMs: numberSchema(N.linkMs),
    loss: numberSchema(N.degradeLoss),
    restoreAfter: duration(),
    service: name(),
  }
  return {
    type: 'object',
    required: ['at', 'kind'],
    properties: { kind: enumSchema(FAULT_KINDS) },
    allOf: FAULT_KINDS.map(kind => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: fields(['at', 'kind', ...FAULT_FIELDS[kind]], schemas),
    })),
  }
}

/** The whole schema of a scenario file. */
export function scenarioJsonSchema (): JsonSchema {
  const top: Record<(typeof SCENARIO_FIELDS)[number], JsonSchema> = {
    name: name(),
    description: { type: 'string' },
    seed: numberSchema(N.seed),
    duration: duration(),
    policies: { type: 'array', items: enumSchema(POLICY_NAMES) },
    sites: { type: 'array', minItems: 1, maxItems: SIM_DEFAULTS.maxSites, items: site() },
    links: { type: 'array', items: { ...link(), properties: { between: { type: 'array', minItems: 2, maxItems: 2, items: name() }, ...(link().properties as object) }, required: ['between'] } },
    containers: containers(),
    services: { type: 'array', minItems: 1, maxItems: SIM_DEFAULTS.maxServices, items: service() },
    upstreams: { type: 'array', items: fields(UPSTREAM_FIELDS, { name: name(), sites: siteList(), capacityPerS: numberSchema(N.capacityPerS) }, ['name', 'capacityPerS']) },
    load: { type: 'array', items: load() },
    signals: fields(SIGNALS_FIELDS, { interval: duration(), delay: duration(), reporters: numberSchema(N.reporters), rate: { type: 'boolean', description: 'Reporters also read each service\'s arrival rate (a broker\'s publish counter) and report it as a rate signal. Default true.' } }),
    faults: { type: 'array', items: fault() },
    gossip: fields(GOSSIP_FIELDS, {
      D: numberSchema(N.D), Dlo: numberSchema(N.Dlo), Dhi: numberSchema(N.Dhi), Dlazy: numberSchema(N.Dlazy),
      heartbeat: duration(), historyHeartbeats: numberSchema(N.historyHeartbeats), globalSubscribers: enumSchema(GLOBAL_SUBSCRIBERS),
      floodPublish: { type: 'boolean', description: 'The publisher sends to every connected subscriber, not only its mesh peers (the daemon\'s setting). Default true.' },
      targetPeers: numberSchema(N.targetPeers), maxConnections: numberSchema(N.maxConnections), messageCpuUs: numberSchema(N.messageCpuUs), duplicateCpuUs: numberSchema(N.duplicateCpuUs), connectCpuUs: numberSchema(N.connectCpuUs), disconnectCpuUs: numberSchema(N.disconnectCpuUs), siteCores: numberSchema(N.siteCores), idleCpuPct: numberSchema(N.idleCpuPct), codecSampleEvery: numberSchema(N.codecSampleEvery),
    }),
    baseline: fields(BASELINE_FIELDS, {
      controllerSite: name(), controllerPerSite: { type: 'boolean' }, controllerReplicas: numberSchema(N.controllerReplicas),
      lease: duration(), hpaSync: duration(), hpaScrape: duration(), hpaMetricDelay: duration(), hpaBehavior: enumSchema(HPA_BEHAVIORS),
      hpaDownscaleStabilization: duration(), kedaPoll: duration(), kedaCooldown: duration(),
    }),
    loadStep: duration(),
    replaceWithin: duration(),
    measureFrom: duration(),
  }
  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: 'agentmesh simulator scenario',
    description: 'Generated from sim/scenario-parse.ts and the tables it reads with (npm run schemas); docs/simulator.md documents every field. agentmesh sim also checks names, files and relations between fields.',
    ...objectSchema(top, ['name', 'sites', 'services']),
  }
}
