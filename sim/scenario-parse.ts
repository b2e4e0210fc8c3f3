/**
 * Scenario YAML → Scenario. Every problem is collected (not just the first), each naming the
 * field's path and its file:line:column, and reported at once as SimError(E_SIM_SCENARIO_INVALID).
 * Unknown fields are refused too: a typo must not silently fall back to a default.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { YamlSource } from '../node/core/yaml-source.js'
import { TIMING_PROFILES } from '../node/core/config.js'
import { readServiceSpec } from '../node/core/service-spec-reader.js'
import { defaultGossip, INTRA_SITE_LINK, interSiteLink, PRIORITY_BY_KIND, PROFILE_BY_KIND, SIM_DEFAULTS, START_LATENCY } from './defaults.js'
import { SimError, SimErrorCode } from './errors.js'
import {
  POLICY_NAMES, SITE_KINDS, type FaultSpec, type HostTarget, type InterSiteLink, type LinkSpec, type LoadShape, type LoadSpec,
  type PolicyName, type Scenario, type SimService, type SiteKind, type SiteSpec, type UpstreamSpec,
} from './scenario.js'
import { parseTraceCsv } from './trace-csv.js'

type Path = (string | number)[]
type Json = unknown

export const SCENARIO_DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/
/** Names of scenarios, sites, hosts and services in a scenario. */
export const SCENARIO_NAME_RE = /^[A-Za-z0-9._\-/]+$/
export const SCENARIO_NAME_LENGTH_MAX = 64

/**
 * The numeric ranges the reader checks, by what they bound; the JSON Schema
 * (sim/scenario-schema.ts) is built from the same table.
 */
export const SCENARIO_NUMBERS = {
  seed: { min: 0, max: 2 ** 32 - 1, int: true },
  hosts: { min: 1, int: true },
  slots: { min: 0, max: 10_000, int: true },
  priority: { int: true },
  linkMs: { min: 0, max: 60_000 },
  linkLoss: { min: 0, max: 0.9 },
  degradeLoss: { min: 0, max: 1 },
  startFailure: { min: 0, max: 0.5 },
  drainPerReplica: { min: 0.001 },
  sla: { min: 0 },
  capacityPerS: { min: 0.001 },
  rate: { min: 0 },
  amplitude: { min: 0, max: 1 },
  scale: { min: 0 },
  count: { min: 1, int: true },
  reporters: { min: 1, max: 1000, int: true },
  D: { min: 1, max: 100, int: true },
  Dlo: { min: 1, max: 100, int: true },
  Dhi: { min: 1, max: 200, int: true },
  Dlazy: { min: 0, max: 100, int: true },
  historyHeartbeats: { min: 1, max: 20, int: true },
  targetPeers: { min: 1, max: 10_000, int: true },
  maxConnections: { min: 2, max: 100_000, int: true },
  messageCpuUs: { min: 0, max: 1_000_000 },
  duplicateCpuUs: { min: 0, max: 1_000_000 },
  codecSampleEvery: { min: 0, max: 1_000_000, int: true },
  connectCpuUs: { min: 0, max: 10_000_000 },
  disconnectCpuUs: { min: 0, max: 10_000_000 },
  siteCores: { min: 0, max: 1024, int: true },
  idleCpuPct: { min: 0, max: 50 },
  controllerReplicas: { min: 1, max: 9, int: true },
} as const satisfies Record<string, { min?: number, max?: number, int?: boolean }>
const N = SCENARIO_NUMBERS
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** "90s", "5m", "1.5h", "250ms", or a bare number of seconds → integer ms; undefined if malformed. */
export function parseDurationMs (v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : undefined
  if (typeof v !== 'string') return undefined
  const m = SCENARIO_DURATION_RE.exec(v.trim())
  if (m === null) return undefined
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's'])
}

class Reader {
  readonly problems: string[] = []
  constructor (private readonly source: YamlSource) {}

  fail (path: Path, message: string): undefined {
    this.problems.push(`${this.source.where(path)} ${pathText(path)}: ${message}`)
    return undefined
  }

  obj (v: Json, path: Path, allowed: readonly string[]): Record<string, Json> | undefined {
    if (v === undefined || v === null) return {}
    if (typeof v !== 'object' || Array.isArray(v)) return this.fail(path, 'must be a mapping')
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail([...path, k], `unknown field; known: ${allowed.join(', ')}`)
    }
    return v as Record<string, Json>
  }

  list (v: Json, path: Path): Json[] {
    if (v === undefined || v === null) return []
    if (!Array.isArray(v)) { this.fail(path, 'must be a list'); return [] }
    return v
  }

  str (v: Json, path: Path, def?: string): string {
    if (v === undefined || v === null) {
      if (def !== undefined) return def
      this.fail(path, 'is required')
      return ''
    }
    if (typeof v !== 'string' || v === '') { this.fail(path, 'must be a non-empty string'); return def ?? '' }
    if (!SCENARIO_NAME_RE.test(v) || v.length > SCENARIO_NAME_LENGTH_MAX) { this.fail(path, `"${v}" must be 1–${SCENARIO_NAME_LENGTH_MAX} characters of letters, digits, . _ - /`); return def ?? '' }
    return v
  }

  text (v: Json, path: Path, def: string): string {
    if (v === undefined || v === null) return def
    if (typeof v !== 'string') { this.fail(path, 'must be a string'); return def }
    return v
  }

  num (v: Json, path: Path, opts: { def?: number, min?: number, max?: number, int?: boolean }): number {
    if (v === undefined || v === null) {
      if (opts.def !== undefined) return opts.def
      this.fail(path, 'is required')
      return opts.min ?? 0
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) { this.fail(path, `must be a number, got ${JSON.stringify(v)}`); return opts.def ?? 0 }
    if (opts.int === true && !Number.isInteger(v)) this.fail(path, `must be a whole number, got ${v}`)
    if (opts.min !== undefined && v < opts.min) this.fail(path, `must be at least ${opts.min}, got ${v}`)
    if (opts.max !== undefined && v > opts.max) this.fail(path, `must be at most ${opts.max}, got ${v}`)
    return v
  }

  prob (v: Json, path: Path, def: number): number {
    return this.num(v, path, { def, min: 0, max: 1 })
  }

  dur (v: Json, path: Path, def?: number, opts: { min?: number } = {}): number {
    if (v === undefined || v === null) {
      if (def !== undefined) return def
      this.fail(path, 'is required (a duration such as 90s, 5m, 2h)')
      return 0
    }
    const ms = parseDurationMs(v)
    if (ms === undefined) { this.fail(path, `must be a duration such as 500ms, 90s, 5m or 2h, got ${JSON.stringify(v)}`); return def ?? 0 }
    if (ms > SIM_DEFAULTS.maxDurationMs) this.fail(path, `must be at most ${SIM_DEFAULTS.maxDurationMs / 3_600_000} h`)
    if (opts.min !== undefined && ms < opts.min) this.fail(path, `must be at least ${opts.min} ms`)
    return ms
  }

  optDur (v: Json, path: Path): number | undefined {
    return v === undefined || v === null ? undefined : this.dur(v, path)
  }

  oneOf<T extends string> (v: Json, path: Path, allowed: readonly T[], def?: T): T {
    if (v === undefined || v === null) {
      if (def !== undefined) return def
      this.fail(path, `is required; one of ${allowed.join(', ')}`)
      return allowed[0]
    }
    if (typeof v !== 'string' || !allowed.includes(v as T)) { this.fail(path, `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`); return def ?? allowed[0] }
    return v as T
  }

  labels (v: Json, path: Path): Record<string, string> {
    if (v === undefined || v === null) return {}
    if (typeof v !== 'object' || Array.isArray(v)) { this.fail(path, 'must be a mapping of label names to values'); return {} }
    const out: Record<string, string> = {}
    for (const [k, val] of Object.entries(v as Record<string, Json>)) {
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') { this.fail([...path, k], 'must be a string'); continue }
      out[k] = String(val)
    }
    return out
  }
}

function pathText (path: Path): string {
  if (path.length === 0) return '(top level)'
  return path.map((p, i) => typeof p === 'number' ? `[${p}]` : (i === 0 ? p : `.${p}`)).join('')
}

export interface ParseOptions {
  /** Name used in messages and replay lines. */
  file: string
  /** Directory that relative trace paths are resolved against. */
  baseDir: string
}

/** Reads and validates a scenario file. Throws SimError on any problem. */
export function loadScenario (file: string): Scenario {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new SimError(SimErrorCode.Io, `cannot read scenario ${file}: ${(err as Error).message}`, [], { cause: err })
  }
  return parseScenario(text, { file, baseDir: dirname(resolve(file)) })
}

export function parseScenario (text: string, opts: ParseOptions): Scenario {
  const source = new YamlSource(text, opts.file)
  if (source.errors.length > 0) throw new SimError(SimErrorCode.ScenarioInvalid, `${opts.file} is not valid YAML`, source.errors)
  const raw = source.toJS()
  if (raw === undefined || !source.isMapping) throw new SimError(SimErrorCode.ScenarioInvalid, `${opts.file} must hold a mapping at the top level`)
  const r = new Reader(source)
  const scenario = build(r, raw as Record<string, Json>, opts)
  if (r.problems.length > 0) throw new SimError(SimErrorCode.ScenarioInvalid, `${opts.file} has ${r.problems.length} problem(s)`, r.problems)
  return scenario
}

export const SCENARIO_FIELDS = ['name', 'description', 'seed', 'duration', 'policies', 'sites', 'links', 'containers', 'services', 'upstreams', 'load', 'signals', 'faults', 'gossip', 'baseline', 'loadStep', 'replaceWithin', 'measureFrom'] as const

function build (r: Reader, raw: Record<string, Json>, opts: ParseOptions): Scenario {
  const top = r.obj(raw, [], SCENARIO_FIELDS) ?? {}
  const sites = parseSites(r, top.sites)
  const siteNames = sites.map(s => s.name)
  const kindOf = new Map(sites.map(s => [s.name, s.kind]))
  const services = parseServices(r, top.services, siteNames)
  const upstreams = parseUpstreams(r, top.upstreams, siteNames)
  for (const [i, s] of services.entries()) {
    const up = s.spec.upstream
    if (up !== undefined && !upstreams.some(u => u.name === up.name)) r.fail(['services', i, 'upstream', 'name'], `names no upstream in upstreams: "${up.name}"`)
  }
  const durationMs = r.dur(top.duration, ['duration'], SIM_DEFAULTS.durationMs, { min: 1000 })
  const scenario: Scenario = {
    name: r.str(top.name, ['name']),
    description: r.text(top.description, ['description'], ''),
    file: opts.file,
    seed: r.num(top.seed, ['seed'], { def: SIM_DEFAULTS.seed, ...N.seed }),
    durationMs,
    policies: r.list(top.policies, ['policies']).map((p, i) => r.oneOf(p, ['policies', i], POLICY_NAMES)),
    sites,
    links: parseLinks(r, top.links, siteNames, kindOf),
    containers: parseContainers(r, top.containers),
    services,
    upstreams,
    load: parseLoad(r, top.load, siteNames, services, opts),
    signals: parseSignals(r, top.signals),
    faults: parseFaults(r, top.faults, sites, services),
    gossip: parseGossip(r, top.gossip),
    baseline: parseBaseline(r, top.baseline, siteNames),
    loadStepMs: r.dur(top.loadStep, ['loadStep'], SIM_DEFAULTS.loadStepMs, { min: 100 }),
    replaceWithinMs: r.dur(top.replaceWithin, ['replaceWithin'], SIM_DEFAULTS.replaceWithinMs, { min: 1000 }),
    measureFromMs: r.dur(top.measureFrom, ['measureFrom'], 0),
  }
  if (scenario.policies.length === 0) scenario.policies = ['agentmesh']
  if (scenario.signals.delayMs + scenario.baseline.hpaMetricDelayMs > SIM_DEFAULTS.maxMetricDelayMs) {
    r.fail(['baseline', 'hpaMetricDelay'], `with signals.delay must stay within ${SIM_DEFAULTS.maxMetricDelayMs / 1000} s (the load model's history)`)
  }
  return scenario
}

export const SITE_FIELDS = ['name', 'kind', 'hosts', 'slots', 'labels', 'priority', 'profile', 'latency', 'flap'] as const
export const LINK_FIELDS = ['medianMs', 'jitterMs', 'loss'] as const
export const FLAP_FIELDS = ['up', 'down'] as const
export const CONTAINERS_FIELDS = ['startLatency', 'startFailure', 'crashMtbf'] as const
export const START_LATENCY_FIELDS = ['median', 'p99'] as const
export const UPSTREAM_FIELDS = ['name', 'sites', 'capacityPerS'] as const
export const SIGNALS_FIELDS = ['interval', 'delay', 'reporters', 'rate'] as const
export const GOSSIP_FIELDS = ['D', 'Dlo', 'Dhi', 'Dlazy', 'heartbeat', 'historyHeartbeats', 'floodPublish', 'targetPeers', 'maxConnections', 'messageCpuUs', 'duplicateCpuUs', 'connectCpuUs', 'disconnectCpuUs', 'siteCores', 'idleCpuPct', 'codecSampleEvery', 'globalSubscribers'] as const
export const GLOBAL_SUBSCRIBERS = ['leaders', 'all'] as const
export const LOAD_SHAPES = ['constant', 'step', 'diurnal', 'bursts', 'trace'] as const
/** The fields each load shape takes, besides `service`, `sites` and `shape`. */
export const SHAPE_FIELDS: Record<LoadShape['type'], readonly string[]> = {
  constant: ['rate'],
  step: ['rate', 'steps'],
  diurnal: ['mean', 'amplitude', 'period', 'phase'],
  bursts: ['rate', 'bursts'],
  trace: ['file', 'scale', 'loop', 'offset'],
}
const ALL_SHAPE_FIELDS = [...new Set(Object.values(SHAPE_FIELDS).flat())]
export const LOAD_FIELDS = ['service', 'sites', 'shape', ...ALL_SHAPE_FIELDS] as const
export const CRASH_MODES = ['host', 'supervisor'] as const
export const HPA_BEHAVIORS = ['spec', 'legacy'] as const

function parseSites (r: Reader, v: Json): SiteSpec[] {
  const list = r.list(v, ['sites'])
  if (list.length === 0) r.fail(['sites'], 'at least one site is required')
  if (list.length > SIM_DEFAULTS.maxSites) r.fail(['sites'], `at most ${SIM_DEFAULTS.maxSites} sites`)
  const sites: SiteSpec[] = []
  const seen = new Set<string>()
  let hosts = 0
  list.forEach((item, i) => {
    const p = ['sites', i]
    const o = r.obj(item, p, SITE_FIELDS)
    if (o === undefined) return
    const name = r.str(o.name, [...p, 'name'])
    if (seen.has(name)) r.fail([...p, 'name'], `duplicate site "${name}"`)
    seen.add(name)
    const kind = r.oneOf(o.kind, [...p, 'kind'], SITE_KINDS)
    const profile = r.oneOf(o.profile, [...p, 'profile'], Object.keys(TIMING_PROFILES), PROFILE_BY_KIND[kind])
    const n = r.num(o.hosts, [...p, 'hosts'], N.hosts)
    hosts += n
    sites.push({
      name, kind, hosts: n, profile,
      slots: r.num(o.slots, [...p, 'slots'], { def: SIM_DEFAULTS.slots, ...N.slots }),
      labels: r.labels(o.labels, [...p, 'labels']),
      priority: r.num(o.priority, [...p, 'priority'], { def: PRIORITY_BY_KIND[kind], ...N.priority }),
      latency: parseLink(r, o.latency, [...p, 'latency'], INTRA_SITE_LINK[kind]),
      flap: parseFlap(r, o.flap, [...p, 'flap']),
    })
  })
  if (hosts > SIM_DEFAULTS.maxHosts) r.fail(['sites'], `at most ${SIM_DEFAULTS.maxHosts} hosts in all, got ${hosts}`)
  return sites
}

function parseLink (r: Reader, v: Json, path: Path, def: LinkSpec): LinkSpec {
  const o = r.obj(v, path, LINK_FIELDS) ?? {}
  return {
    medianMs: r.num(o.medianMs, [...path, 'medianMs'], { def: def.medianMs, ...N.linkMs }),
    jitterMs: r.num(o.jitterMs, [...path, 'jitterMs'], { def: def.jitterMs, ...N.linkMs }),
    loss: r.num(o.loss, [...path, 'loss'], { def: def.loss, ...N.linkLoss }),
  }
}

function parseFlap (r: Reader, v: Json, path: Path): SiteSpec['flap'] {
  if (v === undefined || v === null) return undefined
  const o = r.obj(v, path, FLAP_FIELDS) ?? {}
  return { upMs: r.dur(o.up, [...path, 'up'], undefined, { min: 1000 }), downMs: r.dur(o.down, [...path, 'down'], undefined, { min: 100 }) }
}

function parseLinks (r: Reader, v: Json, sites: string[], kindOf: Map<string, SiteKind>): InterSiteLink[] {
  const given = new Map<string, InterSiteLink>()
  r.list(v, ['links']).forEach((item, i) => {
    const p = ['links', i]
    const o = r.obj(item, p, ['between', ...LINK_FIELDS])
    if (o === undefined) return
    const between = r.list(o.between, [...p, 'between'])
    if (between.length !== 2) { r.fail([...p, 'between'], 'must list exactly two sites'); return }
    const [a, b] = between.map((s, j) => siteRef(r, s, [...p, 'between', j], sites))
    if (a === b) r.fail([...p, 'between'], 'must name two different sites')
    const def = interSiteLink(kindOf.get(a) ?? 'cloud', kindOf.get(b) ?? 'cloud')
    const link = parseLink(r, { medianMs: o.medianMs, jitterMs: o.jitterMs, loss: o.loss }, p, def)
    const [x, y] = [a, b].sort()
    given.set(`${x}|${y}`, { a: x, b: y, ...link })
  })
  const links: InterSiteLink[] = []
  const sorted = [...sites].sort()
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const [a, b] = [sorted[i], sorted[j]]
      links.push(given.get(`${a}|${b}`) ?? { a, b, ...interSiteLink(kindOf.get(a)!, kindOf.get(b)!) })
    }
  }
  return links
}

function siteRef (r: Reader, v: Json, path: Path, sites: string[]): string {
  const name = r.str(v, path)
  if (name !== '' && !sites.includes(name)) r.fail(path, `names no site: "${name}"; sites: ${sites.join(', ')}`)
  return name
}

function siteList (r: Reader, v: Json, path: Path, sites: string[]): string[] {
  if (v === undefined || v === null || v === '*') return [...sites]
  if (typeof v === 'string') return [siteRef(r, v, path, sites)]
  return r.list(v, path).map((s, i) => siteRef(r, s, [...path, i], sites))
}

function parseContainers (r: Reader, v: Json): Scenario['containers'] {
  const o = r.obj(v, ['containers'], CONTAINERS_FIELDS) ?? {}
  const sl = r.obj(o.startLatency, ['containers', 'startLatency'], SITE_KINDS) ?? {}
  const startLatency = {} as Scenario['containers']['startLatency']
  for (const kind of SITE_KINDS) {
    const p = ['containers', 'startLatency', kind]
    const k = r.obj(sl[kind], p, START_LATENCY_FIELDS) ?? {}
    const medianMs = r.dur(k.median, [...p, 'median'], START_LATENCY[kind].medianMs, { min: 1 })
    const p99Ms = r.dur(k.p99, [...p, 'p99'], Math.max(medianMs, START_LATENCY[kind].p99Ms), { min: 1 })
    if (p99Ms < medianMs) r.fail([...p, 'p99'], 'must be at least the median')
    startLatency[kind] = { medianMs, p99Ms }
  }
  return {
    startLatency,
    startFailure: r.num(o.startFailure, ['containers', 'startFailure'], { def: SIM_DEFAULTS.containerStartFailure, ...N.startFailure }),
    crashMtbfMs: r.dur(o.crashMtbf, ['containers', 'crashMtbf'], SIM_DEFAULTS.containerCrashMtbfMs),
  }
}

/**
 * Fields of a scenario's service besides the core's ServiceSpec (read by the shared reader,
 * node/core/service-spec-reader.ts, in the daemon config's vocabulary): what the simulator
 * needs to model the load, and the daemon's own fields, accepted and ignored so that a service
 * block pastes from a host's agentmesh.yaml unchanged.
 */
export const SIM_SERVICE_FIELDS = ['drainPerReplica', 'sla', 'sites'] as const
export const DAEMON_ONLY_SERVICE_FIELDS = ['agent', 'secrets'] as const

function parseServices (r: Reader, v: Json, sites: string[]): SimService[] {
  const list = r.list(v, ['services'])
  if (list.length === 0) r.fail(['services'], 'at least one service is required')
  if (list.length > SIM_DEFAULTS.maxServices) r.fail(['services'], `at most ${SIM_DEFAULTS.maxServices} services`)
  const seen = new Set<string>()
  const out: SimService[] = []
  list.forEach((item, i) => {
    const p = ['services', i]
    const spec = readServiceSpec(item, p, (path, message) => r.fail([...path], message), [...SIM_SERVICE_FIELDS, ...DAEMON_ONLY_SERVICE_FIELDS])
    if (spec === undefined) return
    if (seen.has(spec.name)) r.fail([...p, 'name'], `duplicate service "${spec.name}"`)
    seen.add(spec.name)
    const o = item as Record<string, Json>
    out.push({
      spec,
      drainPerReplicaPerS: r.num(o.drainPerReplica, [...p, 'drainPerReplica'], N.drainPerReplica),
      slaBacklog: r.num(o.sla, [...p, 'sla'], N.sla),
      sites: siteList(r, o.sites, [...p, 'sites'], sites),
    })
  })
  return out
}

function parseUpstreams (r: Reader, v: Json, sites: string[]): UpstreamSpec[] {
  return r.list(v, ['upstreams']).map((item, i) => {
    const p = ['upstreams', i]
    const o = r.obj(item, p, UPSTREAM_FIELDS) ?? {}
    return { name: r.str(o.name, [...p, 'name']), sites: siteList(r, o.sites, [...p, 'sites'], sites), capacityPerS: r.num(o.capacityPerS, [...p, 'capacityPerS'], N.capacityPerS) }
  })
}

function parseLoad (r: Reader, v: Json, sites: string[], services: SimService[], opts: ParseOptions): LoadSpec[] {
  return r.list(v, ['load']).map((item, i) => {
    const p = ['load', i]
    const o = r.obj(item, p, LOAD_FIELDS) ?? {}
    const service = r.str(o.service, [...p, 'service'])
    if (service !== '' && !services.some(s => s.spec.name === service)) r.fail([...p, 'service'], `names no service: "${service}"`)
    const type = r.oneOf(o.shape, [...p, 'shape'], LOAD_SHAPES)
    return { service, sites: siteList(r, o.sites, [...p, 'sites'], sites), shape: parseShape(r, type, o, p, opts) }
  })
}

function parseShape (r: Reader, type: LoadShape['type'], o: Record<string, Json>, p: Path, opts: ParseOptions): LoadShape {
  const extra = (): void => {
    const allowed = SHAPE_FIELDS[type]
    for (const k of ALL_SHAPE_FIELDS) {
      if (o[k] !== undefined && !allowed.includes(k)) r.fail([...p, k], `is not a field of shape ${type}; it takes ${allowed.join(', ')}`)
    }
  }
  extra()
  const rate = (v: Json, path: Path, def?: number): number => r.num(v, path, { def, ...N.rate })
  switch (type) {
    case 'constant':
      return { type, rate: rate(o.rate, [...p, 'rate']) }
    case 'step': {
      const steps = r.list(o.steps, [...p, 'steps']).map((s, j) => {
        const so = r.obj(s, [...p, 'steps', j], ['at', 'rate']) ?? {}
        return { atMs: r.dur(so.at, [...p, 'steps', j, 'at']), rate: rate(so.rate, [...p, 'steps', j, 'rate']) }
      })
      for (let j = 1; j < steps.length; j++) if (steps[j].atMs <= steps[j - 1].atMs) r.fail([...p, 'steps', j, 'at'], 'steps must be in increasing time order')
      return { type, rate: rate(o.rate, [...p, 'rate'], 0), steps }
    }
    case 'diurnal':
      return {
        type, mean: rate(o.mean, [...p, 'mean']), amplitude: r.num(o.amplitude, [...p, 'amplitude'], { def: 0.5, ...N.amplitude }),
        periodMs: r.dur(o.period, [...p, 'period'], 86_400_000, { min: 1000 }), phaseMs: r.dur(o.phase, [...p, 'phase'], 0),
      }
    case 'bursts': {
      const bursts = r.list(o.bursts, [...p, 'bursts']).map((b, j) => {
        const bp = [...p, 'bursts', j]
        const bo = r.obj(b, bp, ['at', 'duration', 'rate']) ?? {}
        return { atMs: r.dur(bo.at, [...bp, 'at']), durationMs: r.dur(bo.duration, [...bp, 'duration'], undefined, { min: 1 }), rate: rate(bo.rate, [...bp, 'rate']) }
      })
      return { type, rate: rate(o.rate, [...p, 'rate'], 0), bursts }
    }
    case 'trace': {
      const file = r.text(o.file, [...p, 'file'], '')
      if (file === '') r.fail([...p, 'file'], 'is required: a CSV with header t_seconds,rate')
      let points: { tMs: number, rate: number }[] = []
      if (file !== '') {
        try {
          points = parseTraceCsv(readFileSync(resolve(opts.baseDir, file), 'utf8'), file)
        } catch (err) {
          r.fail([...p, 'file'], err instanceof SimError ? err.message : `cannot read ${file}: ${(err as Error).message}`)
        }
      }
      if (o.loop !== undefined && typeof o.loop !== 'boolean') r.fail([...p, 'loop'], 'must be true or false')
      return { type, file, points, scale: r.num(o.scale, [...p, 'scale'], { def: 1, ...N.scale }), loop: o.loop !== false, offsetMs: r.dur(o.offset, [...p, 'offset'], 0) }
    }
  }
}

function parseSignals (r: Reader, v: Json): Scenario['signals'] {
  const o = r.obj(v, ['signals'], SIGNALS_FIELDS) ?? {}
  if (o.rate !== undefined && typeof o.rate !== 'boolean') r.fail(['signals', 'rate'], 'must be true or false')
  return {
    rate: o.rate === undefined ? SIM_DEFAULTS.signalRate : o.rate === true,
    intervalMs: r.dur(o.interval, ['signals', 'interval'], SIM_DEFAULTS.signalIntervalMs, { min: 100 }),
    delayMs: r.dur(o.delay, ['signals', 'delay'], SIM_DEFAULTS.signalDelayMs),
    reporters: r.num(o.reporters, ['signals', 'reporters'], { def: SIM_DEFAULTS.signalReporters, ...N.reporters }),
  }
}

function parseGossip (r: Reader, v: Json): Scenario['gossip'] {
  const o = r.obj(v, ['gossip'], GOSSIP_FIELDS) ?? {}
  // The daemon's own defaults (protocol/gossip-defaults.ts), unless the scenario overrides them.
  const d = defaultGossip()
  if (o.floodPublish !== undefined && typeof o.floodPublish !== 'boolean') r.fail(['gossip', 'floodPublish'], 'must be true or false')
  const g: Scenario['gossip'] = {
    D: r.num(o.D, ['gossip', 'D'], { def: d.D, ...N.D }),
    Dlo: r.num(o.Dlo, ['gossip', 'Dlo'], { def: d.Dlo, ...N.Dlo }),
    Dhi: r.num(o.Dhi, ['gossip', 'Dhi'], { def: d.Dhi, ...N.Dhi }),
    Dlazy: r.num(o.Dlazy, ['gossip', 'Dlazy'], { def: d.Dlazy, ...N.Dlazy }),
    heartbeatMs: r.dur(o.heartbeat, ['gossip', 'heartbeat'], d.heartbeatMs, { min: 100 }),
    historyHeartbeats: r.num(o.historyHeartbeats, ['gossip', 'historyHeartbeats'], { def: d.historyHeartbeats, ...N.historyHeartbeats }),
    floodPublish: o.floodPublish === undefined ? d.floodPublish : o.floodPublish === true,
    targetPeers: r.num(o.targetPeers, ['gossip', 'targetPeers'], { def: d.targetPeers, ...N.targetPeers }),
    maxConnections: r.num(o.maxConnections, ['gossip', 'maxConnections'], { def: d.maxConnections, ...N.maxConnections }),
    messageCpuUs: r.num(o.messageCpuUs, ['gossip', 'messageCpuUs'], { def: d.messageCpuUs, ...N.messageCpuUs }),
    duplicateCpuUs: r.num(o.duplicateCpuUs, ['gossip', 'duplicateCpuUs'], { def: d.duplicateCpuUs, ...N.duplicateCpuUs }),
    connectCpuUs: r.num(o.connectCpuUs, ['gossip', 'connectCpuUs'], { def: d.connectCpuUs, ...N.connectCpuUs }),
    disconnectCpuUs: r.num(o.disconnectCpuUs, ['gossip', 'disconnectCpuUs'], { def: d.disconnectCpuUs, ...N.disconnectCpuUs }),
    siteCores: r.num(o.siteCores, ['gossip', 'siteCores'], { def: d.siteCores, ...N.siteCores }),
    idleCpuPct: r.num(o.idleCpuPct, ['gossip', 'idleCpuPct'], { def: d.idleCpuPct, ...N.idleCpuPct }),
    codecSampleEvery: r.num(o.codecSampleEvery, ['gossip', 'codecSampleEvery'], { def: d.codecSampleEvery, ...N.codecSampleEvery }),
    globalSubscribers: r.oneOf(o.globalSubscribers, ['gossip', 'globalSubscribers'], GLOBAL_SUBSCRIBERS, 'leaders'),
  }
  if (!(g.Dlo <= g.D && g.D <= g.Dhi)) r.fail(['gossip'], `must satisfy Dlo ≤ D ≤ Dhi, got ${g.Dlo}, ${g.D}, ${g.Dhi}`)
  if (!(g.targetPeers < g.maxConnections)) r.fail(['gossip', 'targetPeers'], `must be below gossip.maxConnections (${g.maxConnections}), as the daemon's config requires`)
  return g
}

export const BASELINE_FIELDS = [
  'controllerSite', 'controllerPerSite', 'controllerReplicas', 'lease', 'hpaSync', 'hpaScrape', 'hpaMetricDelay', 'hpaBehavior',
  'hpaDownscaleStabilization', 'kedaPoll', 'kedaCooldown',
] as const

function parseBaseline (r: Reader, v: Json, sites: string[]): Scenario['baseline'] {
  const o = r.obj(v, ['baseline'], BASELINE_FIELDS) ?? {}
  if (o.controllerPerSite !== undefined && typeof o.controllerPerSite !== 'boolean') r.fail(['baseline', 'controllerPerSite'], 'must be true or false')
  return {
    controllerSite: o.controllerSite === undefined ? (sites[0] ?? '') : siteRef(r, o.controllerSite, ['baseline', 'controllerSite'], sites),
    controllerPerSite: o.controllerPerSite === true,
    controllerReplicas: r.num(o.controllerReplicas, ['baseline', 'controllerReplicas'], { def: SIM_DEFAULTS.controllerReplicas, ...N.controllerReplicas }),
    leaseMs: r.dur(o.lease, ['baseline', 'lease'], SIM_DEFAULTS.controllerLeaseMs),
    hpaSyncMs: r.dur(o.hpaSync, ['baseline', 'hpaSync'], SIM_DEFAULTS.hpaSyncMs, { min: 100 }),
    hpaScrapeMs: r.dur(o.hpaScrape, ['baseline', 'hpaScrape'], SIM_DEFAULTS.hpaScrapeMs, { min: 100 }),
    hpaMetricDelayMs: r.dur(o.hpaMetricDelay, ['baseline', 'hpaMetricDelay'], SIM_DEFAULTS.hpaMetricDelayMs),
    hpaBehavior: r.oneOf(o.hpaBehavior, ['baseline', 'hpaBehavior'], HPA_BEHAVIORS, 'spec'),
    hpaDownscaleStabilizationMs: r.dur(o.hpaDownscaleStabilization, ['baseline', 'hpaDownscaleStabilization'], SIM_DEFAULTS.hpaDownscaleStabilizationMs),
    kedaPollMs: r.dur(o.kedaPoll, ['baseline', 'kedaPoll'], SIM_DEFAULTS.kedaPollMs, { min: 100 }),
    kedaCooldownMs: r.dur(o.kedaCooldown, ['baseline', 'kedaCooldown'], SIM_DEFAULTS.kedaCooldownMs),
  }
}

export const FAULT_FIELDS: Record<FaultSpec['kind'], readonly string[]> = {
  crash: ['host', 'site', 'count', 'mode', 'restartAfter'],
  restart: ['host', 'site', 'count'],
  partition: ['groups', 'healAfter'],
  heal: [],
  degrade: ['between', 'medianMs', 'jitterMs', 'loss', 'restoreAfter'],
  'docker-stop': ['host', 'site', 'count', 'restartAfter'],
  'docker-start': ['host', 'site', 'count'],
  'signal-kill': ['site', 'service', 'restoreAfter'],
  'signal-restore': ['site', 'service'],
  'inject-over-capacity': ['host'],
}
export const FAULT_KINDS = Object.keys(FAULT_FIELDS) as FaultSpec['kind'][]

function parseFaults (r: Reader, v: Json, sites: SiteSpec[], services: SimService[]): FaultSpec[] {
  const siteNames = sites.map(s => s.name)
  const hostIds = new Set(sites.flatMap(s => Array.from({ length: s.hosts }, (_, i) => hostIdOf(s.name, i, s.hosts))))
  const out: FaultSpec[] = []
  r.list(v, ['faults']).forEach((item, i) => {
    const p = ['faults', i]
    const raw = (item !== null && typeof item === 'object' ? item : {}) as Record<string, Json>
    const kind = r.oneOf(raw.kind, [...p, 'kind'], FAULT_KINDS)
    const o = r.obj(item, p, ['at', 'kind', ...FAULT_FIELDS[kind]])
    if (o === undefined) return
    const atMs = r.dur(o.at, [...p, 'at'])
    const target = (allowSite: boolean): HostTarget | { type: 'site', site: string } => {
      const host = o.host
      if (host === 'leader') return { type: 'leader', site: siteRef(r, o.site, [...p, 'site'], siteNames) }
      if (host === 'random') {
        const site = o.site === undefined ? undefined : siteRef(r, o.site, [...p, 'site'], siteNames)
        return { type: 'random', count: r.num(o.count, [...p, 'count'], { def: 1, ...N.count }), site }
      }
      if (host === undefined && allowSite) return { type: 'site', site: siteRef(r, o.site, [...p, 'site'], siteNames) }
      const id = r.str(host, [...p, 'host'])
      if (id !== '' && !hostIds.has(id)) r.fail([...p, 'host'], `names no host: "${id}" (hosts are named SITE-hN, e.g. ${hostIdOf(siteNames[0] ?? 'site', 0, sites[0]?.hosts ?? 1)}); or use leader / random`)
      return { type: 'host', hostId: id }
    }
    switch (kind) {
      case 'crash':
        out.push({ kind, atMs, target: target(false) as HostTarget, mode: r.oneOf(o.mode, [...p, 'mode'], CRASH_MODES, 'host'), restartAfterMs: r.optDur(o.restartAfter, [...p, 'restartAfter']) })
        break
      case 'restart':
        out.push({ kind, atMs, target: target(false) as HostTarget })
        break
      case 'partition': {
        const groups = r.list(o.groups, [...p, 'groups']).map((g, j) => r.list(g, [...p, 'groups', j]).map((m, k) => {
          const name = r.str(m, [...p, 'groups', j, k])
          if (name !== '' && !siteNames.includes(name) && !hostIds.has(name)) r.fail([...p, 'groups', j, k], `names no site or host: "${name}"`)
          return name
        }))
        if (groups.length === 0) r.fail([...p, 'groups'], 'at least one group of sites or hosts is required')
        out.push({ kind, atMs, groups, healAfterMs: r.optDur(o.healAfter, [...p, 'healAfter']) })
        break
      }
      case 'heal': out.push({ kind, atMs }); break
      case 'degrade': {
        const between = r.list(o.between, [...p, 'between']).map((s, j) => siteRef(r, s, [...p, 'between', j], siteNames))
        if (between.length !== 2) r.fail([...p, 'between'], 'must list two sites (the same site twice degrades links inside it)')
        const link: Partial<LinkSpec> = {}
        if (o.medianMs !== undefined) link.medianMs = r.num(o.medianMs, [...p, 'medianMs'], N.linkMs)
        if (o.jitterMs !== undefined) link.jitterMs = r.num(o.jitterMs, [...p, 'jitterMs'], N.linkMs)
        if (o.loss !== undefined) link.loss = r.num(o.loss, [...p, 'loss'], N.degradeLoss)
        out.push({ kind, atMs, sites: [between[0] ?? '', between[1] ?? ''], link, restoreAfterMs: r.optDur(o.restoreAfter, [...p, 'restoreAfter']) })
        break
      }
      case 'docker-stop':
        out.push({ kind, atMs, target: target(true), restartAfterMs: r.optDur(o.restartAfter, [...p, 'restartAfter']) })
        break
      case 'docker-start':
        out.push({ kind, atMs, target: target(true) })
        break
      case 'signal-kill':
      case 'signal-restore': {
        const site = siteRef(r, o.site, [...p, 'site'], siteNames)
        let service: string | undefined
        if (o.service !== undefined) {
          service = r.str(o.service, [...p, 'service'])
          if (!services.some(s => s.spec.name === service)) r.fail([...p, 'service'], `names no service: "${service}"`)
        }
        if (kind === 'signal-kill') out.push({ kind, atMs, site, service, restoreAfterMs: r.optDur(o.restoreAfter, [...p, 'restoreAfter']) })
        else out.push({ kind, atMs, site, service })
        break
      }
      case 'inject-over-capacity': {
        const t = target(false)
        out.push({ kind, atMs, hostId: t.type === 'host' ? t.hostId : '' })
        if (t.type !== 'host') r.fail([...p, 'host'], 'must name one host')
        break
      }
    }
  })
  return out
}

/** Host ids sort in index order: the index is zero-padded to the width of the site's size. */
export function hostIdOf (site: string, index: number, hostsInSite: number): string {
  return `${site}-h${String(index).padStart(String(Math.max(1, hostsInSite - 1)).length, '0')}`
}
