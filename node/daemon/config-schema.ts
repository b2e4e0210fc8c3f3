/**
 * The JSON Schema of a host's agentmesh.yaml, generated from the tables the config reader
 * checks against: CONFIG_FIELDS (every scalar field: kind, range, enumeration, default, doc),
 * the shared service reader's tables (node/core/service-spec-schema.ts), AGENT_FIELDS with
 * AGENT_NUMBERS, SECRET_FIELDS with the Vault path and file patterns, and the signal tables per
 * kind. `npm run schemas` writes it to schemas/agentmesh.schema.json; a test checks the
 * committed file equals this, and that the examples and scenarios validate.
 *
 * What only the reader checks (a schema cannot see it): relations between fields (min ≤ max,
 * the HTTP limits' order, gossipDlo ≤ gossipD ≤ gossipDhi), names that must exist (a signal's
 * service or upstream, a secret's env not taken twice), files (the swarm key, token files and
 * their modes), multiaddrs, and the ranges of a signal's own options (checked by the signal
 * source when the config loads). Every document the schema refuses, the reader refuses too.
 */
import { JSON_SCHEMA_DRAFT, enumSchema, numberSchema, objectSchema, scalarMapSchema, withDescription, type JsonSchema } from '../core/json-schema.js'
import { serviceSpecSchema } from '../core/service-spec-schema.js'
import { PROTOCOL_LIMITS } from '../../protocol/index.js'
import type { SignalConfig } from '../signals/index.js'
import { VAULT_DEFAULTS } from '../secrets/vault-defaults.js'
import { CONFIG_FIELDS, ENV_PREFIX, envName, SERVICE_FIELDS, type FieldDef } from './config.js'
import {
  AGENT_FIELDS, AGENT_NUMBERS, ENV_NAME_RE, MQTT_COMMON_FIELDS, NETWORK_MODES, RESTART_POLICIES, SIGNAL_COMMON_FIELDS, SIGNAL_FIELDS,
  SIGNAL_KINDS, SIGNAL_MEASURES, SIGNAL_SCOPES, signalKeysOf, type FieldDoc,
} from './config-workload.js'
import { SECRET_FIELDS, SECRET_FILE_RE, VAULT_PATH_RE } from './config-vault.js'

function scalarSchema (f: FieldDef): JsonSchema {
  const defaultText = f.required === true
    ? 'none, required'
    : f.defaultText ?? (typeof f.default === 'string' ? (f.default === '' ? '""' : f.default) : JSON.stringify(f.default))
  const description = `${f.doc} Default: ${defaultText}. Environment variable: ${envName(f.path)}.`
  const base = ((): JsonSchema => {
    switch (f.kind) {
      case 'string': return f.pattern === undefined ? { type: 'string' } : { type: 'string', pattern: f.pattern.source, maxLength: PROTOCOL_LIMITS.maxIdBytes }
      case 'bool': return { type: 'boolean' }
      case 'int': return numberSchema({ min: f.min, max: f.max, int: true })
      case 'number': return numberSchema({ min: f.min, max: f.max })
      case 'list': return { type: 'array', items: { type: 'string' } }
      case 'map': return scalarMapSchema()
      case 'enum': return enumSchema(f.values ?? [])
    }
  })()
  const s = withDescription(base, description)
  return f.defaultText === undefined && f.required !== true ? { ...s, default: f.default } : s
}

/** CONFIG_FIELDS as nested closed objects (`vault.auth.method` → vault → auth → method). */
function scalarTree (): Record<string, JsonSchema> {
  type Node = { fields: Map<string, JsonSchema>, children: Map<string, Node> }
  const root: Node = { fields: new Map(), children: new Map() }
  for (const f of CONFIG_FIELDS) {
    const parts = f.path.split('.')
    let n = root
    for (const p of parts.slice(0, -1)) {
      if (!n.children.has(p)) n.children.set(p, { fields: new Map(), children: new Map() })
      n = n.children.get(p)!
    }
    n.fields.set(parts[parts.length - 1], scalarSchema(f))
  }
  const build = (n: Node): Record<string, JsonSchema> => {
    const props: Record<string, JsonSchema> = Object.fromEntries(n.fields)
    for (const [k, child] of n.children) props[k] = objectSchema(build(child))
    return props
  }
  return build(root)
}

function docOf (table: readonly FieldDoc[], path: string): string {
  const f = table.find(x => x.path === path)
  if (f === undefined) throw new Error(`config schema: no documented field ${path}`)
  return `${f.doc} Default: ${f.default}.`
}

function agentSchema (): JsonSchema {
  const d = (k: string): string => docOf(AGENT_FIELDS, k)
  const props: Record<string, JsonSchema> = {
    image: { type: 'string', description: d('image') },
    command: { type: 'array', items: { type: 'string' }, minItems: 1, description: d('command') },
    env: { ...scalarMapSchema(d('env')), propertyNames: { pattern: ENV_NAME_RE.source } },
    cpuMillis: numberSchema({ ...AGENT_NUMBERS.cpuMillis, int: true }, d('cpuMillis')),
    memoryMib: numberSchema({ ...AGENT_NUMBERS.memoryMib, int: true }, d('memoryMib')),
    restartPolicy: enumSchema(RESTART_POLICIES, d('restartPolicy')),
    networkMode: enumSchema(NETWORK_MODES, d('networkMode')),
    stopTimeoutMs: numberSchema({ ...AGENT_NUMBERS.stopTimeoutMs, int: true }, d('stopTimeoutMs')),
    secretsPath: { type: 'string', pattern: '^/[^\\u0000]+$', description: d('secretsPath') },
  }
  return objectSchema(pick(props, AGENT_FIELDS.map(f => f.path)), [], 'How to run the service\'s replicas on this host.')
}

function secretsSchema (): JsonSchema {
  const d = (k: string): string => docOf(SECRET_FIELDS, k)
  const props: Record<string, JsonSchema> = {
    path: { type: 'string', pattern: VAULT_PATH_RE.source, description: d('path') },
    mount: { type: 'string', pattern: VAULT_PATH_RE.source, description: d('mount') },
    key: { type: 'string', minLength: 1, description: d('key') },
    version: { type: 'integer', minimum: 0, description: d('version') },
    env: { type: 'string', pattern: ENV_NAME_RE.source, not: { pattern: `^${ENV_PREFIX}` }, description: d('env') },
    file: { type: 'string', pattern: SECRET_FILE_RE.source, maxLength: 255, description: d('file') },
    restartOnChange: { type: 'boolean', description: d('restartOnChange') },
  }
  const entry = { ...objectSchema(pick(props, SECRET_FIELDS.map(f => f.path)), ['path', 'key']), oneOf: [{ required: ['env'] }, { required: ['file'] }] }
  return { type: 'array', items: entry, maxItems: VAULT_DEFAULTS.secretsPerServiceMax, description: docOf(SERVICE_FIELDS, 'secrets') }
}

/** The value type of each signal option (ranges are the signal source's, checked when the config loads). */
const SIGNAL_OPTION_TYPES: Record<string, JsonSchema> = {
  service: { type: 'string' },
  upstream: { type: 'string' },
  kind: enumSchema(SIGNAL_KINDS),
  scope: enumSchema(SIGNAL_SCOPES),
  measures: enumSchema(SIGNAL_MEASURES),
  clientId: { type: 'string' },
  username: { type: 'string' },
  passwordFile: { type: 'string', minLength: 1 },
  reconnectMs: { type: 'integer', minimum: 0 },
  connectTimeoutMs: { type: 'integer', minimum: 0 },
  url: { type: 'string', minLength: 1 },
  topic: { type: 'string', minLength: 1 },
  query: { type: 'string', minLength: 1 },
  field: { type: 'string' },
  holdWhileConnected: { type: 'boolean' },
  topicTtlMs: { type: 'integer', minimum: 0 },
  maxTopics: { type: 'integer', minimum: 0 },
  maxPayloadBytes: { type: 'integer', minimum: 0 },
  windowMs: { type: 'integer', minimum: 0 },
  buckets: { type: 'integer', minimum: 0 },
  intervalMs: { type: 'integer', minimum: 0 },
  timeoutMs: { type: 'integer', minimum: 0 },
  emptyAs: enumSchema(['error', 'zero']),
  bearerTokenFile: { type: 'string', minLength: 1 },
}

function signalSchema (kind: SignalConfig['kind']): JsonSchema {
  const mqtt = kind === 'mqtt-backlog' || kind === 'mqtt-rate' ? MQTT_COMMON_FIELDS : []
  const table = [...SIGNAL_COMMON_FIELDS, ...mqtt, ...SIGNAL_FIELDS[kind]]
  const props: Record<string, JsonSchema> = {}
  for (const k of signalKeysOf(kind)) {
    const type = SIGNAL_OPTION_TYPES[k]
    if (type === undefined) throw new Error(`config schema: no type for signal option ${k}`)
    props[k] = withDescription(k === 'kind' ? { const: kind } : type, docOf(table, k))
  }
  const required = ['kind', ...SIGNAL_FIELDS[kind].filter(f => f.default === 'required').map(f => f.path)]
  return {
    ...objectSchema(props, required, `A ${kind} signal.`),
    oneOf: [{ required: ['service'] }, { required: ['upstream'] }],
  }
}

function signalsSchema (): JsonSchema {
  return {
    type: 'array',
    description: 'Where load is measured: one entry per signal (docs/configuration.md, signals[]).',
    items: {
      type: 'object',
      required: ['kind'],
      properties: { kind: enumSchema(SIGNAL_KINDS) },
      allOf: SIGNAL_KINDS.map(kind => ({ if: { properties: { kind: { const: kind } } }, then: signalSchema(kind) })),
    },
  }
}

function pick (props: Record<string, JsonSchema>, keys: readonly string[]): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {}
  for (const k of keys) {
    if (props[k] === undefined) throw new Error(`config schema: no schema for field ${k}`)
    out[k] = props[k]
  }
  return out
}

/** The whole schema of agentmesh.yaml. */
export function configJsonSchema (): JsonSchema {
  const services: JsonSchema = {
    type: 'array',
    maxItems: PROTOCOL_LIMITS.maxServices,
    description: 'The services this host may run: the same block a scenario takes (docs/configuration.md, services[]).',
    items: serviceSpecSchema({ agent: agentSchema(), secrets: secretsSchema() }),
  }
  return {
    $schema: JSON_SCHEMA_DRAFT,
    title: 'agentmesh.yaml: the config of one agentmesh supervisor',
    description: 'Generated from node/daemon/config.ts and the tables it reads with (npm run schemas); docs/configuration.md documents every field. The supervisor\'s own check (agentmesh supervise --check) also checks relations between fields, names and files.',
    ...objectSchema({ ...scalarTree(), services, signals: signalsSchema() }),
  }
}
