/**
 * `agentmesh sim --from-config agentmesh.yaml`: a what-if scenario built from a host's real
 * config, so an operator can try a policy change on the shape of their own site before rolling
 * it out. What the config gives: the site (name, labels, priority, timing profile, slots per
 * host) and its services, read by the same reader the daemon and the scenarios use
 * (node/core/service-spec-reader.ts). What it cannot give comes from flags, and a missing
 * piece is refused by name: how many hosts (`--hosts`, or `--from-node` reading a live node's
 * `/v1/sites`), the load (`--trace`, a CSV of the site's arrival rate per service), and the two
 * things only a simulation needs, what one replica drains per second (`--drain`) and the
 * backlog the SLA allows (`--sla`), plus each named upstream's capacity (`--upstream`).
 *
 * The daemon keeps no history of its signals (`/v1/status` has each signal's last value and
 * age, `/v1/events` the load a scaling decision was fed), so the load is a trace file.
 *
 * The scenario is built as YAML text and read back by the scenario reader, so a what-if is
 * checked exactly like a scenario file; `--print-scenario` prints that text to edit and run.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Value } from '@sinclair/typebox/value'
import { stringify } from 'yaml'
import { TIMING_PROFILES } from '../../node/core/config.js'
import { readServiceSpec, SERVICE_NAME_RE } from '../../node/core/service-spec-reader.js'
import type { ServiceSpec } from '../../node/core/service-spec.js'
import { YamlSource } from '../../node/core/yaml-source.js'
import { Sites, type SitesResponse } from '../../node/daemon/api-schema.js'
import { CONFIG_FIELDS, ID_RE } from '../../node/daemon/config.js'
import { SIM_DEFAULTS } from '../../sim/defaults.js'
import { SimError, SimErrorCode } from '../../sim/errors.js'
import { parseScenario, SCENARIO_NAME_LENGTH_MAX, SCENARIO_NAME_RE } from '../../sim/scenario-parse.js'
import type { Scenario, SiteKind } from '../../sim/scenario.js'
import { parseTraceCsv } from '../../sim/trace-csv.js'

/** The limits of a what-if's one network request, in one place. */
export const WHAT_IF_LIMITS = {
  /** Bound on `GET /v1/sites` from `--from-node`. */
  nodeRequestTimeoutMs: 3000,
  /** Largest `/v1/sites` body read (the answer lists every site heard of). */
  nodeResponseBytesMax: 4 * 1024 * 1024,
} as const

/** A value for every service (`--drain 5`), per service (`--drain ingest=5,detect=2`), or both (the bare one is the default). */
export interface PerService<T> { all: T | undefined, byService: Map<string, T> }

export interface WhatIfFlags {
  configFile: string
  /** `--hosts` / `--slots`; `--slots` defaults to the config's capacity.slots. */
  hosts: number | undefined
  slots: number | undefined
  /** `--from-node`: the node's HTTP API base URL. */
  nodeUrl: string | undefined
  traces: PerService<string>
  drain: PerService<number>
  sla: PerService<number>
  /** `--upstream NAME=CAPACITY`: messages per second each named upstream feeds. */
  upstreams: Map<string, number>
  siteKind: SiteKind | undefined
}

/** What a host config gives a scenario. */
export interface HostShape {
  site: string
  labels: Record<string, string>
  priority: number
  profile: string
  slots: number
  /** Each service as the shared reader read it, and its block as written (for the scenario). */
  services: Array<{ spec: ServiceSpec, block: Record<string, unknown> }>
}

export interface WhatIf {
  /** The scenario as YAML, as `--print-scenario` prints it. */
  text: string
  scenario: Scenario
  /** Things the operator should know (a selector no simulated host matches, slots rounded). */
  notes: string[]
}

const invalid = (message: string): SimError => new SimError(SimErrorCode.ArgsInvalid, message)

const SLOTS_FIELD = CONFIG_FIELDS.find(f => f.path === 'capacity.slots')!
const PRIORITY_FIELD = CONFIG_FIELDS.find(f => f.path === 'priority')!
const PROFILE_FIELD = CONFIG_FIELDS.find(f => f.path === 'profile')!

/**
 * `5` or `ingest=5,detect=2` (a bare value is the default for the services not named). What is
 * left of the first `=` is a service name only if it could be one, so a bare path may hold `=`.
 */
export function perServiceFlag<T> (flag: string, text: string, value: (s: string) => T | undefined, what: string): PerService<T> {
  const out: PerService<T> = { all: undefined, byService: new Map() }
  for (const item of text.split(',').map(s => s.trim()).filter(s => s !== '')) {
    const at = item.indexOf('=')
    const eq = at > 0 && SERVICE_NAME_RE.test(item.slice(0, at)) ? at : -1
    const name = eq < 0 ? undefined : item.slice(0, eq)
    const v = value(eq < 0 ? item : item.slice(eq + 1))
    if (v === undefined) throw invalid(`${flag} takes ${what} (or SERVICE=${what}, comma-separated), got "${item}"`)
    if (name === undefined) {
      if (out.all !== undefined) throw invalid(`${flag}: at most one value without a service name, got "${text}"`)
      out.all = v
    } else {
      if (out.byService.has(name)) throw invalid(`${flag}: ${name} is given twice`)
      out.byService.set(name, v)
    }
  }
  return out
}

export function positiveNumber (s: string): number | undefined {
  const n = Number(s)
  return s.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined
}

export function nonNegativeNumber (s: string): number | undefined {
  const n = Number(s)
  return s.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined
}

/** Reads what a scenario needs from a host's config; every problem at once, as `file:line:column field: message`. */
export function readHostShape (file: string): HostShape {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new SimError(SimErrorCode.Io, `cannot read config ${file}: ${(err as Error).message}`, [], { cause: err })
  }
  const source = new YamlSource(text, file)
  if (source.errors.length > 0) throw new SimError(SimErrorCode.ConfigInvalid, `${file} is not valid YAML`, source.errors)
  const raw = source.toJS()
  if (raw === undefined || !source.isMapping) throw new SimError(SimErrorCode.ConfigInvalid, `${file} must hold a mapping at the top level`)
  const o = raw as Record<string, unknown>
  const problems: string[] = []
  const fail = (path: ReadonlyArray<string | number>, message: string): undefined => {
    const field = path.map((p, i) => typeof p === 'number' ? `[${p}]` : (i === 0 ? p : `.${p}`)).join('')
    problems.push(`${source.where(path)} ${field}: ${message}`)
    return undefined
  }
  const site = o.site
  if (typeof site !== 'string' || !ID_RE.test(site)) fail(['site'], 'is required: the site whose shape the what-if takes (AGENTMESH_SITE is not read here)')
  const labels: Record<string, string> = {}
  if (o.labels !== undefined && o.labels !== null) {
    if (typeof o.labels !== 'object' || Array.isArray(o.labels)) fail(['labels'], 'must be a mapping of label: value')
    else {
      for (const [k, v] of Object.entries(o.labels)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') labels[k] = String(v)
        else fail(['labels', k], 'must be a string')
      }
    }
  }
  const capacity = (o.capacity ?? {}) as Record<string, unknown>
  const int = (v: unknown, path: string[], def: number, min: number, max: number): number => {
    if (v === undefined || v === null) return def
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) { fail(path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`); return def }
    return v
  }
  const slots = int(capacity.slots, ['capacity', 'slots'], SLOTS_FIELD.default as number, 0, SLOTS_FIELD.max!)
  const priority = int(o.priority, ['priority'], PRIORITY_FIELD.default as number, PRIORITY_FIELD.min!, PRIORITY_FIELD.max!)
  const profile = o.profile ?? PROFILE_FIELD.default
  if (typeof profile !== 'string' || !(profile in TIMING_PROFILES)) fail(['profile'], `must be one of ${Object.keys(TIMING_PROFILES).join(', ')}, got ${JSON.stringify(profile)}`)
  const services: HostShape['services'] = []
  if (!Array.isArray(o.services) || o.services.length === 0) fail(['services'], 'needs at least one service: the what-if scales the config\'s services')
  else {
    o.services.forEach((block: unknown, i) => {
      const spec = readServiceSpec(block, ['services', i], fail, ['agent', 'secrets'])
      if (spec === undefined) return
      if (services.some(s => s.spec.name === spec.name)) fail(['services', i, 'name'], `duplicate service name "${spec.name}"`)
      services.push({ spec, block: block as Record<string, unknown> })
    })
  }
  if (problems.length > 0) throw new SimError(SimErrorCode.ConfigInvalid, `${file} cannot give a what-if scenario`, problems)
  return { site: site as string, labels, priority, profile: profile as string, slots, services }
}

/** The node's own site from its `/v1/sites`: hosts alive and slots per host. */
export async function readNodeShape (url: string, site: string, signal?: AbortSignal): Promise<{ hosts: number, slots: number, note: string | undefined }> {
  const target = `${url.replace(/\/+$/, '')}/v1/sites`
  const unreachable = (message: string, cause?: unknown): SimError => new SimError(SimErrorCode.NodeUnreachable, message, [], { cause })
  let body: unknown
  try {
    const timeout = AbortSignal.timeout(WHAT_IF_LIMITS.nodeRequestTimeoutMs)
    const res = await fetch(target, { signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]) })
    const text = await res.text()
    if (!res.ok) throw unreachable(`${target} answered ${res.status}: ${text.slice(0, 200)}`)
    if (text.length > WHAT_IF_LIMITS.nodeResponseBytesMax) throw unreachable(`${target} answered more than ${WHAT_IF_LIMITS.nodeResponseBytesMax} bytes`)
    body = JSON.parse(text)
  } catch (err) {
    if (err instanceof SimError) throw err
    throw unreachable(`cannot read ${target}: ${(err as Error).message}`, err)
  }
  if (!Value.Check(Sites, body)) throw unreachable(`${target} did not answer as /v1/sites is documented (docs/http-api.md)`)
  const local = (body as SitesResponse).sites.find(s => s.local)
  if (local === undefined) throw unreachable(`${target} lists no local site`)
  if (local.site !== site) throw invalid(`--from-node: the node at ${url} is in site "${local.site}", the config's site is "${site}"`)
  if (local.hostsAlive < 1) throw unreachable(`${target}: the node knows no live host in its site yet (no leader?); try again, or give --hosts`)
  const slots = Math.round(local.slotsTotal / local.hostsAlive)
  const note = slots * local.hostsAlive === local.slotsTotal
    ? undefined
    : `the site has ${local.slotsTotal} slots over ${local.hostsAlive} hosts; every simulated host gets ${slots} (${slots * local.hostsAlive} in all)`
  return { hosts: local.hostsAlive, slots, note }
}

function pick<T> (p: PerService<T>, service: string): T | undefined {
  return p.byService.get(service) ?? p.all
}

function listFlag<T> (p: PerService<T>, show: (v: T) => string = String): string {
  return [...(p.all === undefined ? [] : [show(p.all)]), ...[...p.byService].map(([k, v]) => `${k}=${show(v)}`)].join(',')
}

/** The simulated hosts' site kind when `--site-kind` is not given: the profile says how the site's links behave. */
function defaultKind (profile: string): SiteKind {
  return profile === 'wan' ? 'edge' : 'on-prem'
}

/**
 * Builds the scenario: one site shaped like the config's, its services with the flags' drain
 * and SLA, a trace load per service. Throws SimError naming every missing piece at once.
 */
export function buildWhatIf (flags: WhatIfFlags, shape: HostShape, hosts: { hosts: number, slots: number, from: string }, cwd: string): WhatIf {
  const problems: string[] = []
  const names = shape.services.map(s => s.spec.name)
  for (const [flag, p] of [['--trace', flags.traces], ['--drain', flags.drain], ['--sla', flags.sla]] as const) {
    for (const name of p.byService.keys()) if (!names.includes(name)) problems.push(`${flag}: ${name} is not a service of the config (services: ${names.join(', ')})`)
  }
  const traces = new Map<string, string>()
  let spanMs = 0
  const services = shape.services.map(({ spec, block }) => {
    const trace = pick(flags.traces, spec.name)
    const drain = pick(flags.drain, spec.name)
    const sla = pick(flags.sla, spec.name)
    if (trace === undefined) problems.push(`service ${spec.name} has no load: give --trace ${spec.name}=FILE (a CSV t_seconds,rate of the site's arrivals per second, as in sim/traces/), or one --trace FILE for every service`)
    if (drain === undefined) problems.push(`service ${spec.name}: give --drain ${spec.name}=N, the backlog one replica drains per second (a config does not say)`)
    if (sla === undefined) problems.push(`service ${spec.name}: give --sla ${spec.name}=N, the backlog above which the SLA is violated (a config does not say)`)
    if (trace !== undefined) {
      const file = resolve(cwd, trace)
      try {
        const points = parseTraceCsv(readFileSync(file, 'utf8'), trace)
        const last = points[points.length - 1].tMs
        spanMs = Math.max(spanMs, last + (points.length > 1 ? last - points[points.length - 2].tMs : SIM_DEFAULTS.loadStepMs))
        traces.set(spec.name, file)
      } catch (err) {
        problems.push(err instanceof SimError ? err.message : `--trace: cannot read ${file}: ${(err as Error).message}`)
      }
    }
    const { agent: _agent, secrets: _secrets, ...rest } = block
    return { ...rest, drainPerReplica: drain, sla }
  })
  const upstreamNames = [...new Set(shape.services.flatMap(s => s.spec.upstream === undefined ? [] : [s.spec.upstream.name]))]
  for (const u of upstreamNames) {
    if (!flags.upstreams.has(u)) problems.push(`a service names upstream ${u}: give --upstream ${u}=N, the messages per second it can feed the site's services that name it`)
  }
  for (const u of flags.upstreams.keys()) if (!upstreamNames.includes(u)) problems.push(`--upstream: no service of the config names upstream ${u}`)
  if (problems.length > 0) throw new SimError(SimErrorCode.ArgsInvalid, `${flags.configFile}: a what-if needs more than the config gives`, problems)

  const kind = flags.siteKind ?? defaultKind(shape.profile)
  const replay = [
    `--from-config ${flags.configFile}`, `--hosts ${hosts.hosts}`, `--slots ${hosts.slots}`, `--site-kind ${kind}`,
    `--trace ${listFlag(flags.traces)}`, `--drain ${listFlag(flags.drain)}`, `--sla ${listFlag(flags.sla)}`,
    ...(flags.upstreams.size === 0 ? [] : [`--upstream ${[...flags.upstreams].map(([k, v]) => `${k}=${v}`).join(',')}`]),
  ].join(' ')
  const name = `what-if-${shape.site}`
  const doc = {
    name: SCENARIO_NAME_RE.test(name) && name.length <= SCENARIO_NAME_LENGTH_MAX ? name : 'what-if',
    description: `What-if on site ${shape.site} of ${flags.configFile}: ${hosts.hosts} hosts × ${hosts.slots} slots (${hosts.from})`,
    duration: `${Math.min(Math.max(spanMs, 1000), SIM_DEFAULTS.maxDurationMs) / 1000}s`,
    policies: ['agentmesh'],
    sites: [{ name: shape.site, kind, hosts: hosts.hosts, slots: hosts.slots, labels: shape.labels, priority: shape.priority, profile: shape.profile }],
    services,
    ...(upstreamNames.length === 0 ? {} : { upstreams: upstreamNames.map(u => ({ name: u, capacityPerS: flags.upstreams.get(u) })) }),
    load: shape.services.map(s => ({ service: s.spec.name, shape: 'trace', file: traces.get(s.spec.name) })),
  }
  const schema = fileURLToPath(new URL('../../../schemas/scenario.schema.json', import.meta.url))
  const text = [
    `# yaml-language-server: $schema=${schema}`,
    '# A what-if scenario built by',
    `#   agentmesh sim ${replay}`,
    `# Every simulated host of site ${shape.site} carries the config's labels; each trace is the site's`,
    '# arrival rate of its service (messages per second). Edit freely, then: agentmesh sim FILE.',
    stringify(doc, { lineWidth: 0 }),
  ].join('\n')
  const scenario = parseScenario(text, { file: `what-if scenario of ${flags.configFile}`, baseDir: cwd })
  scenario.file = replay
  const notes: string[] = []
  for (const { spec } of shape.services) {
    const unmatched = Object.entries(spec.selector).filter(([k, v]) => shape.labels[k] !== v)
    if (unmatched.length > 0) notes.push(`service ${spec.name}'s selector (${unmatched.map(([k, v]) => `${k}=${v}`).join(', ')}) matches none of the simulated hosts, which carry this config's labels: it will run nowhere; edit the hosts' labels in the printed scenario (--print-scenario)`)
  }
  return { text, scenario, notes }
}

