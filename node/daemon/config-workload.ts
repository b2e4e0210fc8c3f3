/**
 * The workload parts of the daemon's config: how to run a service's agents (`services[].agent`)
 * and where its load is measured (`signals`). Like the rest of config.ts, every problem is
 * reported with the field's path (and line), all at once; the specs built here are what the
 * runtime and the signal sources receive, so the checks they make themselves (agent spec,
 * signal init) run here too, at start, rather than at the first container or sample.
 */
import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import type { ServiceSpec } from '../core/service-spec.js'
import { RUNTIME_DEFAULTS, validateAgentSpec, ownerLabels, type AgentSpec, type NetworkMode, type RestartPolicy } from '../runtime/container-runtime.js'
import { createSignal, redactUrl, SIGNAL_DEFAULTS, type SignalConfig } from '../signals/index.js'
import { secretFileProblem } from './secret-file.js'

export type Where = (path: ReadonlyArray<string | number>, msg: string) => undefined

/** `host`: this host's share, summed over the site. `site`: one site-wide value every host reads alike. */
export type SignalScope = 'host' | 'site'

/** `backlog`: work waiting; `rate`: work arriving per second (for the rate policy, rate-scaler.ts). */
export type SignalMeasure = 'backlog' | 'rate'

export interface SignalEntry {
  config: SignalConfig
  scope: SignalScope
  measures: SignalMeasure
}

export interface FieldDoc { path: string, default: string, doc: string }

/** The fields of `services[].agent`, for docs/configuration.md and the JSON Schema. */
export const AGENT_FIELDS: readonly FieldDoc[] = [
  { path: 'image', default: 'required with runtime.kind docker', doc: 'Docker image of the agent (must be on the host, or pullable).' },
  { path: 'command', default: 'the image\'s CMD; required with runtime.kind process', doc: 'argv list. Docker: replaces the CMD. Process runtime: the program and its arguments (argv[0] looked up on PATH).' },
  { path: 'env', default: '{}', doc: 'Environment of each replica. AGENTMESH_SERVICE, AGENTMESH_SITE and AGENTMESH_HOST are added.' },
  { path: 'cpuMillis', default: 'no limit', doc: 'CPU limit per replica, in thousandths of a CPU (Docker only).' },
  { path: 'memoryMib', default: 'no limit', doc: 'Memory limit per replica, MiB, at least 6 (Docker only).' },
  { path: 'restartPolicy', default: 'no', doc: '`no`, `on-failure`, `unless-stopped` or `always`. With `no` the supervisor itself replaces a replica that exits.' },
  { path: 'networkMode', default: 'host', doc: '`host` or `none` (never Docker\'s bridge).' },
  { path: 'stopTimeoutMs', default: '10000', doc: 'Grace between SIGTERM and the kill when a replica is stopped (ms).' },
  { path: 'secretsPath', default: '/run/secrets', doc: 'Where the service\'s file secrets appear inside its containers (a read-only bind of the agent\'s folder on the host\'s tmpfs; Docker only: a process finds them in `$AGENTMESH_SECRETS_DIR`).' },
]

const AGENT_KEYS = AGENT_FIELDS.map(f => f.path)
const AGENT_STOP_TIMEOUT_MS_DEFAULT = 10_000

/** The whole-number fields of `services[].agent` and their ranges: the reader and the JSON Schema use these. */
export const AGENT_NUMBERS = {
  cpuMillis: { min: 1, max: 1_000_000 },
  memoryMib: { min: 6, max: 16_777_216 },
  stopTimeoutMs: { min: 0, max: RUNTIME_DEFAULTS.stopTimeoutMsMax },
} as const
export const RESTART_POLICIES = ['no', 'on-failure', 'unless-stopped', 'always'] as const
export const NETWORK_MODES = ['host', 'none'] as const
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
export const SIGNAL_KINDS = ['mqtt-backlog', 'mqtt-rate', 'prometheus', 'push'] as const
export const SIGNAL_SCOPES = ['host', 'site'] as const
export const SIGNAL_MEASURES = ['backlog', 'rate'] as const

/** The fields of a `signals` entry, per kind, for docs/configuration.md, the JSON Schema and the unknown-field check. */
export const SIGNAL_FIELDS: Readonly<Record<SignalConfig['kind'], readonly FieldDoc[]>> = {
  'mqtt-backlog': [
    { path: 'url', default: 'required', doc: 'Broker, `mqtt://HOST:PORT` (or mqtts, ws, wss).' },
    { path: 'topic', default: 'required', doc: 'Topic or filter carrying numbers; with `+`/`#` the latest value of each topic is summed.' },
    { path: 'field', default: 'the whole payload', doc: 'JSON field path of the number (`queue.depth`).' },
    { path: 'holdWhileConnected', default: 'false', doc: 'While subscribed the last value stays current (publishers that publish on change only).' },
    { path: 'topicTtlMs', default: String(SIGNAL_DEFAULTS.mqttTopicTtlMs), doc: 'A topic silent this long leaves a wildcard sum (ms).' },
    { path: 'maxTopics', default: String(SIGNAL_DEFAULTS.mqttTopicsMax), doc: 'Most topics a wildcard may sum.' },
    { path: 'maxPayloadBytes', default: String(SIGNAL_DEFAULTS.mqttPayloadBytesMax), doc: 'Largest payload read.' },
  ],
  'mqtt-rate': [
    { path: 'url', default: 'required', doc: 'Broker, `mqtt://HOST:PORT` (or mqtts, ws, wss).' },
    { path: 'topic', default: 'required', doc: 'Topic or filter whose messages are counted.' },
    { path: 'windowMs', default: String(SIGNAL_DEFAULTS.mqttRateWindowMs), doc: 'Messages per second over this sliding window (ms).' },
    { path: 'buckets', default: String(SIGNAL_DEFAULTS.mqttRateBuckets), doc: 'Resolution of the window.' },
  ],
  prometheus: [
    { path: 'url', default: 'required', doc: 'Prometheus server base URL (`http://HOST:9090`).' },
    { path: 'query', default: 'required', doc: 'PromQL instant query returning one number (aggregate with `sum(...)`).' },
    { path: 'intervalMs', default: String(SIGNAL_DEFAULTS.prometheusIntervalMs), doc: 'Query period (ms).' },
    { path: 'timeoutMs', default: String(SIGNAL_DEFAULTS.prometheusTimeoutMs), doc: 'Bound on one query (ms).' },
    { path: 'emptyAs', default: 'error', doc: '`error` or `zero`: what an empty result means.' },
    { path: 'bearerTokenFile', default: 'none', doc: 'File holding a bearer token sent to the server.' },
  ],
  push: [],
}

export const MQTT_COMMON_FIELDS: readonly FieldDoc[] = [
  { path: 'clientId', default: 'random', doc: 'MQTT client id.' },
  { path: 'username', default: 'none', doc: 'MQTT user name.' },
  { path: 'passwordFile', default: 'none', doc: 'File holding the MQTT password.' },
  { path: 'reconnectMs', default: String(SIGNAL_DEFAULTS.mqttReconnectMs), doc: 'Reconnect period (ms).' },
  { path: 'connectTimeoutMs', default: String(SIGNAL_DEFAULTS.mqttConnectTimeoutMs), doc: 'Bound on one connection attempt (ms).' },
]

/** Keys every entry may have, whatever its kind. */
export const SIGNAL_COMMON_FIELDS: readonly FieldDoc[] = [
  { path: 'service', default: 'service or upstream required', doc: 'The service whose load this is.' },
  { path: 'upstream', default: 'none', doc: 'Instead of `service`: the name of an upstream (`services[].upstream.name`) whose saturation (0–1) this is.' },
  { path: 'kind', default: 'required', doc: '`mqtt-backlog`, `mqtt-rate`, `prometheus` or `push` (`POST /v1/signals`).' },
  { path: 'measures', default: 'backlog', doc: '`backlog`: work waiting (the load the scaling rule reads). `rate`: work arriving per second (a broker\'s publish rate, an `mqtt-rate` signal on the request topic): the rate policy plans for it and learns the drain rate from it. Give a service one of each for the rate policy.' },
  { path: 'scope', default: 'host', doc: '`host`: this host\'s share, summed over the site\'s hosts. `site`: a site-wide value every host reads alike (one queue\'s depth); the leader takes the freshest report.' },
]

/** The keys a `signals` entry of this kind may have. */
export function signalKeysOf (kind: SignalConfig['kind']): string[] {
  const mqtt = kind === 'mqtt-backlog' || kind === 'mqtt-rate' ? MQTT_COMMON_FIELDS : []
  return [...SIGNAL_COMMON_FIELDS, ...mqtt, ...SIGNAL_FIELDS[kind]].map(f => f.path)
}

function isMapping (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function show (v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s
}

/** Reads `services[i].agent`. Undefined when absent (the service cannot then run on this host). */
export function readAgent (v: unknown, service: string, path: ReadonlyArray<string | number>, where: Where): AgentSpec | undefined {
  if (v === undefined || v === null) return undefined
  if (!isMapping(v)) return where(path, 'must be a mapping {image, command, env, ...}')
  let ok = true
  const bad = (k: string, msg: string): void => { ok = false; where([...path, k], msg) }
  for (const k of Object.keys(v)) if (!AGENT_KEYS.includes(k)) bad(k, `unknown field; known: ${AGENT_KEYS.join(', ')}`)
  const image = v.image ?? ''
  if (typeof image !== 'string') bad('image', `must be a string, got ${show(image)}`)
  let command: string[] | undefined
  if (v.command !== undefined && v.command !== null) {
    if (!Array.isArray(v.command) || v.command.length === 0 || !v.command.every(a => typeof a === 'string')) bad('command', `must be a non-empty list of strings, got ${show(v.command)}`)
    else command = v.command as string[]
  }
  const env: Record<string, string> = {}
  if (v.env !== undefined && v.env !== null) {
    if (!isMapping(v.env)) bad('env', 'must be a mapping of NAME: value')
    else {
      for (const [k, x] of Object.entries(v.env)) {
        if (!ENV_NAME_RE.test(k)) bad('env', `"${k}" is not an environment variable name`)
        else if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') env[k] = String(x)
        else bad('env', `value of ${k} must be a string`)
      }
    }
  }
  const int = (k: keyof typeof AGENT_NUMBERS): number | undefined => {
    const { min, max } = AGENT_NUMBERS[k]
    const x = v[k]
    if (x === undefined || x === null) return undefined
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) { bad(k, `must be a whole number from ${min} to ${max}, got ${show(x)}`); return undefined }
    return x
  }
  const cpuMillis = int('cpuMillis')
  const memoryMib = int('memoryMib')
  const stopTimeoutMs = int('stopTimeoutMs') ?? AGENT_STOP_TIMEOUT_MS_DEFAULT
  const restartPolicy = (v.restartPolicy ?? 'no') as RestartPolicy
  if (!(RESTART_POLICIES as readonly string[]).includes(restartPolicy)) bad('restartPolicy', `must be no, on-failure, unless-stopped or always, got ${show(v.restartPolicy)}`)
  const networkMode = (v.networkMode ?? 'host') as NetworkMode
  if (!(NETWORK_MODES as readonly string[]).includes(networkMode)) bad('networkMode', `must be host or none (Docker's bridge is never used), got ${show(v.networkMode)}`)
  const secretsPath = v.secretsPath
  if (secretsPath !== undefined && (typeof secretsPath !== 'string' || !/^\/[^\0]+$/.test(secretsPath) || secretsPath.split('/').includes('..') || secretsPath === '/')) {
    bad('secretsPath', `must be an absolute path inside the container other than /, got ${show(secretsPath)}`)
  }
  if (!ok) return undefined
  const spec: AgentSpec = {
    service,
    image: image as string,
    ...(command === undefined ? {} : { command }),
    env,
    ...(cpuMillis === undefined ? {} : { cpuMillis }),
    ...(memoryMib === undefined ? {} : { memoryMib }),
    restartPolicy,
    networkMode,
    stopTimeoutMs,
    ...(typeof secretsPath === 'string' ? { secretsPath } : {}),
  }
  try {
    validateAgentSpec(spec, ownerLabels({ service, site: 'x', hostId: 'x', term: 0 }))
  } catch (err) {
    return where(path, (err as Error).message)
  }
  return spec
}

/** Checks every service can run on the runtime chosen (`given`: services whose agent field was there, valid or not). */
export function checkAgentsForRuntime (kind: string, services: readonly ServiceSpec[], agents: ReadonlyMap<string, AgentSpec>, given: ReadonlySet<string>, where: Where): void {
  if (kind === 'none') return
  services.forEach((s, i) => {
    const a = agents.get(s.name)
    if (a === undefined) {
      if (!given.has(s.name)) where(['services', i, 'agent'], `is required with runtime.kind ${kind}: how to run the service's replicas`)
      return
    }
    if (kind === 'docker' && a.image === '') where(['services', i, 'agent', 'image'], 'is required with runtime.kind docker')
    if (kind === 'process' && a.command === undefined) where(['services', i, 'agent', 'command'], 'is required with runtime.kind process (the argv of one replica)')
  })
}

/** Reads the `signals` list. `baseDir` resolves the secret files' relative paths. */
export function readSignals (v: unknown, services: readonly ServiceSpec[], baseDir: string, where: Where): SignalEntry[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) { where(['signals'], 'must be a list of {service | upstream, kind, ...}'); return [] }
  if (v.length > SIGNAL_DEFAULTS.signalsMax) where(['signals'], `at most ${SIGNAL_DEFAULTS.signalsMax} signals`)
  const serviceNames = new Set(services.map(s => s.name))
  const upstreamNames = new Set(services.flatMap(s => s.upstream === undefined ? [] : [s.upstream.name]))
  const out: SignalEntry[] = []
  v.forEach((e: unknown, i) => {
    const path = ['signals', i]
    if (!isMapping(e)) { where(path, 'must be a mapping {service | upstream, kind, ...}'); return }
    const kind = e.kind
    if (typeof kind !== 'string' || !(SIGNAL_KINDS as readonly string[]).includes(kind)) {
      where([...path, 'kind'], `must be mqtt-backlog, mqtt-rate, prometheus or push, got ${show(kind)}`)
      return
    }
    let ok = true
    const bad = (k: string | undefined, msg: string): void => { ok = false; where(k === undefined ? path : [...path, k], msg) }
    const known = signalKeysOf(kind as SignalConfig['kind'])
    for (const k of Object.keys(e)) if (!known.includes(k)) bad(k, `unknown field for kind ${kind}; known: ${known.join(', ')}`)
    const hasService = e.service !== undefined
    const hasUpstream = e.upstream !== undefined
    if (hasService === hasUpstream) { bad(undefined, 'needs exactly one of service or upstream'); return }
    const name = hasService ? e.service : e.upstream
    if (typeof name !== 'string') { bad(hasService ? 'service' : 'upstream', `must be a string, got ${show(name)}`); return }
    if (hasService && !serviceNames.has(name)) bad('service', `names no configured service; services: ${[...serviceNames].join(', ') || 'none'}`)
    if (hasUpstream && !upstreamNames.has(name)) bad('upstream', `no service names upstream "${name}" (services[].upstream.name)`)
    const scope = e.scope ?? 'host'
    if (!(SIGNAL_SCOPES as readonly string[]).includes(scope as string)) bad('scope', `must be host or site, got ${show(e.scope)}`)
    const measures = e.measures ?? 'backlog'
    if (!(SIGNAL_MEASURES as readonly string[]).includes(measures as string)) bad('measures', `must be backlog or rate, got ${show(e.measures)}`)
    if (measures === 'rate' && hasUpstream) bad('measures', 'an upstream signal is a saturation: leave measures out')
    const init: Record<string, unknown> = { service: name, upstream: hasUpstream }
    for (const [k, x] of Object.entries(e)) {
      if (k === 'kind' || k === 'service' || k === 'upstream' || k === 'scope' || k === 'measures') continue
      if (k === 'passwordFile' || k === 'bearerTokenFile') {
        const secret = readSecret(x, baseDir)
        if (typeof secret !== 'string') bad(k, secret.error)
        else init[k === 'passwordFile' ? 'password' : 'bearerToken'] = secret
        continue
      }
      init[k] = x
    }
    if (!ok) return
    const config = { kind, ...init } as SignalConfig
    try {
      createSignal(config) // checks the entry (connects nothing until started)
    } catch (err) {
      bad(undefined, (err as Error).message)
      return
    }
    out.push({ config, scope: scope as SignalScope, measures: measures as SignalMeasure })
  })
  return out
}

function readSecret (file: unknown, baseDir: string): string | { error: string } {
  if (typeof file !== 'string' || file === '') return { error: 'must be a file path' }
  const path = isAbsolute(file) ? file : resolve(baseDir, file)
  const problem = secretFileProblem(path, 'secret file')
  if (problem !== undefined) return { error: problem }
  try {
    const text = readFileSync(path, 'utf8').trim()
    if (text === '') return { error: `${path} is empty` }
    return text
  } catch (err) {
    return { error: `cannot read ${path}: ${(err as Error).message}` }
  }
}

/** The config as `--check` prints it: secrets replaced. */
export function redactSignals (entries: readonly SignalEntry[]): unknown[] {
  return entries.map(e => {
    const c = { ...e.config } as Record<string, unknown>
    if (typeof c.url === 'string') c.url = redactUrl(c.url)
    if (c.password !== undefined) c.password = '<redacted>'
    if (c.bearerToken !== undefined) c.bearerToken = '<redacted>'
    return { ...c, scope: e.scope, measures: e.measures }
  })
}
