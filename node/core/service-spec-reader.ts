/**
 * One reader of a service block, for every shell: a host's `agentmesh.yaml` (node/daemon/
 * config.ts) and a simulator scenario (sim/scenario-parse.ts) read `services[]` with this, in
 * one vocabulary, so a service block pastes from a host's config into a scenario unchanged and
 * validation cannot drift. Pure: the caller parses the YAML and says where a path is in its
 * file (`where`); every problem is reported, none thrown.
 *
 * Fields each shell adds (the daemon's `agent` and `secrets`, the simulator's
 * `drainPerReplica`, `sla`, `sites`) are named by the caller in `extraKeys` and read by it;
 * any other unknown field is refused. Durations (`stabilizationMs`, `periodMs`, the `rate`
 * block's `…Ms`) are whole milliseconds, or a string with a unit (`500ms`, `15s`, `5m`, `1h`).
 */
import { PROTOCOL_LIMITS, utf8Length } from '../../protocol/index.js'
import { FORECAST_DEFAULTS, FORECAST_LIMITS } from './forecast-limits.js'
import { DEFAULT_POLICY, DEFAULT_RATE_RULES, DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, serviceSpec, type ForecastSpec, type PolicyKind, type RateRules, type ScalingRules, type ServiceSpec } from './service-spec.js'

/** Reports a problem at a path of the document; returns undefined for convenience. */
export type Where = (path: ReadonlyArray<string | number>, message: string) => undefined

/** The fields of a service this reader knows (the core's ServiceSpec). */
export const SERVICE_SPEC_KEYS = ['name', 'policy', 'targetPerReplica', 'minReplicas', 'maxReplicas', 'tolerance', 'activationThreshold', 'selector', 'slotsPerReplica', 'upstream', 'scaleUp', 'scaleDown', 'rate', 'forecast', 'spill'] as const
/** The rate policy's settings (`rate:`), durations as elsewhere. */
export const RATE_KEYS = ['drainPerReplica', 'drainWithinMs', 'utilization', 'startLatencyMs', 'scaleDownHoldMs', 'trendWindowMs', 'idleHalfLifeMs'] as const
export const POLICY_KINDS: readonly PolicyKind[] = ['rate', 'hpa']

export const RULE_KEYS = ['stabilizationMs', 'policies', 'selectPolicy'] as const
export const POLICY_KEYS = ['type', 'value', 'periodMs'] as const
export const SELECT_POLICIES = ['max', 'min', 'disabled'] as const
export const POLICY_TYPES = ['pods', 'percent'] as const
export const UPSTREAM_KEYS = ['name', 'saturatedAt'] as const
export const SERVICE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
/** A duration with its unit; the reader trims the string first. */
export const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/** The numeric fields of a service: range, and whether a whole number. The reader and the JSON Schema use this table. */
export const SERVICE_NUMBERS = {
  targetPerReplica: { min: Number.MIN_VALUE, max: 1e12, int: false },
  minReplicas: { min: 0, max: PROTOCOL_LIMITS.maxReplicas, int: true },
  maxReplicas: { min: 0, max: PROTOCOL_LIMITS.maxReplicas, int: true },
  tolerance: { min: 0, max: 1, int: false },
  activationThreshold: { min: 0, max: 1e12, int: false },
  slotsPerReplica: { min: 1, max: PROTOCOL_LIMITS.maxReplicas, int: true },
} as const satisfies Record<string, { min: number, max: number, int: boolean }>
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
/** The longest window or period a service may name: a week. */
export const SERVICE_DURATION_MS_MAX = 7 * 86_400_000

export interface ServiceFieldDef { path: string, doc: string, default: string }

/** The core's fields of a service, documented: docs/configuration.md and the JSON Schemas show these. */
export const SERVICE_SPEC_FIELDS: readonly ServiceFieldDef[] = [
  { path: 'name', default: 'required', doc: 'Service name, unique (letters, digits, `._-`).' },
  { path: 'policy', default: DEFAULT_POLICY, doc: '`rate`: the rate policy (arrivals and drain rate per replica, a backlog drained within a time, a scale-down hold). `hpa`: the Kubernetes HPA rule on the backlog (targetPerReplica, scaleUp, scaleDown).' },
  { path: 'targetPerReplica', default: '10', doc: 'Signal units one replica handles (backlog messages per replica, say). The HPA rule\'s target; the rate policy uses the HPA rule until it knows the drain rate.' },
  { path: 'minReplicas', default: '0', doc: 'Per site.' },
  { path: 'maxReplicas', default: '10', doc: 'Per site.' },
  { path: 'tolerance', default: '0.1', doc: 'No change while load / (replicas × target) is within 1 ± tolerance.' },
  { path: 'activationThreshold', default: '0', doc: 'Load at or below which the service needs no replica (scale to and from zero, like KEDA).' },
  { path: 'selector', default: '{}', doc: 'Labels a host must have (equality) to run this service.' },
  { path: 'slotsPerReplica', default: '1', doc: 'Agent slots one replica takes.' },
  { path: 'upstream.name', default: 'none', doc: 'Upstream signal (a broker, say) whose saturation stops scale-up.' },
  { path: 'upstream.saturatedAt', default: '0.9', doc: 'Saturation (0–1) at or above which scale-up stops.' },
  { path: 'scaleUp.stabilizationMs', default: String(DEFAULT_SCALE_UP.stabilizationMs), doc: 'Like the HPA\'s `behavior.scaleUp.stabilizationWindowSeconds`: whole ms, or a duration such as `30s`.' },
  { path: 'scaleUp.policies', default: '100 % or 4 pods per 15 000 ms', doc: 'List of `{type: pods|percent, value, periodMs}` rate limits (`periodMs` in ms, or `15s`).' },
  { path: 'scaleUp.selectPolicy', default: 'max', doc: '`max`, `min` or `disabled`.' },
  { path: 'scaleDown.stabilizationMs', default: String(DEFAULT_SCALE_DOWN.stabilizationMs), doc: 'Scale-down stabilisation window: whole ms, or a duration such as `5m`.' },
  { path: 'scaleDown.policies', default: '100 % per 15 000 ms', doc: 'As for scaleUp.' },
  { path: 'scaleDown.selectPolicy', default: 'max', doc: 'As for scaleUp.' },
  { path: 'spill', default: 'true', doc: 'When the site cannot run all the replicas the service needs (at maxReplicas under the rate policy, or out of slots), its leader asks another site that runs the service to run the rest. `false`: the service stays in its site.' },
  { path: 'rate.drainPerReplica', default: 'learnt', doc: 'Rate policy: work one replica drains per second. Absent: learnt from a rate signal and the backlog while replicas are busy (the HPA rule decides until then). Set: the starting estimate, refined the same way.' },
  { path: 'rate.drainWithinMs', default: String(DEFAULT_RATE_RULES.drainWithinMs), doc: 'Rate policy: a backlog is planned to drain within this long (replicas on top of those the rate needs): whole ms, or a duration such as `30s`.' },
  { path: 'rate.utilization', default: String(DEFAULT_RATE_RULES.utilization), doc: 'Rate policy: the share (0–1] of a replica\'s drain rate planned for arrivals; the rest is headroom.' },
  { path: 'rate.startLatencyMs', default: String(DEFAULT_RATE_RULES.startLatencyMs), doc: 'Rate policy: a rising arrival rate is projected this far ahead (about a replica\'s start time).' },
  { path: 'rate.scaleDownHoldMs', default: String(DEFAULT_RATE_RULES.scaleDownHoldMs), doc: 'Rate policy: scale-down goes to the most needed over this window (hysteresis).' },
  { path: 'rate.trendWindowMs', default: String(DEFAULT_RATE_RULES.trendWindowMs), doc: 'Rate policy: the arrival rate\'s trend is fitted over this window.' },
  { path: 'rate.idleHalfLifeMs', default: String(DEFAULT_RATE_RULES.idleHalfLifeMs), doc: 'Rate policy without a rate signal: while the backlog is empty, the inferred arrival rate halves every this long, so the count probes down.' },
]

/** A whole number of ms, or a string with a unit; undefined when it is neither. */
export function readDurationMs (v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined
  if (typeof v !== 'string') return undefined
  const m = DURATION_RE.exec(v.trim())
  return m === null ? undefined : Math.round(Number(m[1]) * UNIT_MS[m[2]])
}

export function readServiceSpec (raw: unknown, path: ReadonlyArray<string | number>, where: Where, extraKeys: readonly string[] = []): ServiceSpec | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return where(path, 'must be a mapping')
  const o = raw as Record<string, unknown>
  const known = [...SERVICE_SPEC_KEYS, ...extraKeys]
  for (const k of Object.keys(o)) if (!known.includes(k)) where([...path, k], `unknown field; known: ${known.join(', ')}`)
  if (typeof o.name !== 'string' || !SERVICE_NAME_RE.test(o.name) || utf8Length(o.name) > PROTOCOL_LIMITS.maxIdBytes) {
    return where([...path, 'name'], `is required: letters, digits and ._-, at most ${PROTOCOL_LIMITS.maxIdBytes} bytes`)
  }
  const num = (k: keyof typeof SERVICE_NUMBERS, def: number): number => {
    const { min, max, int } = SERVICE_NUMBERS[k]
    const x = o[k]
    if (x === undefined || x === null) return def
    if (typeof x !== 'number' || !Number.isFinite(x) || x < min || x > max || (int && !Number.isInteger(x))) {
      where([...path, k], `must be a ${int ? 'whole ' : ''}number from ${min} to ${max}, got ${show(x)}`)
      return def
    }
    return x
  }
  const d = serviceSpec(o.name)
  if (o.spill !== undefined && typeof o.spill !== 'boolean') where([...path, 'spill'], `must be true or false, got ${show(o.spill)}`)
  if (o.policy !== undefined && !POLICY_KINDS.includes(o.policy as PolicyKind)) where([...path, 'policy'], `must be ${POLICY_KINDS.join(' or ')}, got ${show(o.policy)}`)
  const spec: ServiceSpec = {
    ...d,
    policy: POLICY_KINDS.includes(o.policy as PolicyKind) ? o.policy as PolicyKind : d.policy,
    rate: readRate(o.rate, [...path, 'rate'], where),
    spill: o.spill === undefined ? d.spill : o.spill === true,
    targetPerReplica: num('targetPerReplica', d.targetPerReplica),
    minReplicas: num('minReplicas', d.minReplicas),
    maxReplicas: num('maxReplicas', d.maxReplicas),
    tolerance: num('tolerance', d.tolerance),
    activationThreshold: num('activationThreshold', d.activationThreshold),
    slotsPerReplica: num('slotsPerReplica', d.slotsPerReplica),
    selector: readSelector(o.selector, [...path, 'selector'], where),
    scaleUp: readRules(o.scaleUp, [...path, 'scaleUp'], DEFAULT_SCALE_UP, where),
    scaleDown: readRules(o.scaleDown, [...path, 'scaleDown'], DEFAULT_SCALE_DOWN, where),
  }
  if (spec.minReplicas > spec.maxReplicas) where([...path, 'minReplicas'], `must not exceed maxReplicas (${spec.maxReplicas})`)
  const upstream = readUpstream(o.upstream, [...path, 'upstream'], where)
  if (upstream !== undefined) spec.upstream = upstream
  const forecast = readForecast(o.forecast, [...path, 'forecast'], where)
  if (forecast !== undefined) spec.forecast = forecast
  return spec
}

/**
 * A nested block of known keys: undefined when absent (or null), or when not a mapping (reported:
 * `must be a mapping {keys}`); every unknown key is reported.
 */
function readBlock (v: unknown, path: ReadonlyArray<string | number>, keys: readonly string[], where: Where): Record<string, unknown> | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) return where(path, `must be a mapping {${keys.join(', ')}}`)
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o)) if (!keys.includes(k)) where([...path, k], `unknown field; known: ${keys.join(', ')}`)
  return o
}

function readRate (v: unknown, path: ReadonlyArray<string | number>, where: Where): RateRules {
  const o = readBlock(v, path, RATE_KEYS, where)
  if (o === undefined) return DEFAULT_RATE_RULES
  const rules: RateRules = { ...DEFAULT_RATE_RULES }
  if (o.drainPerReplica !== undefined) {
    const x = o.drainPerReplica
    if (typeof x !== 'number' || !Number.isFinite(x) || !(x > 0) || x > 1e12) where([...path, 'drainPerReplica'], `must be a number above 0 (work per second), got ${show(x)}`)
    else rules.drainPerReplica = x
  }
  if (o.utilization !== undefined) {
    const x = o.utilization
    if (typeof x !== 'number' || !(x > 0) || x > 1) where([...path, 'utilization'], `must be a number above 0 and at most 1, got ${show(x)}`)
    else rules.utilization = x
  }
  for (const k of ['drainWithinMs', 'startLatencyMs', 'scaleDownHoldMs', 'trendWindowMs', 'idleHalfLifeMs'] as const) {
    if (o[k] === undefined) continue
    const ms = readDurationMs(o[k])
    // A zero drain time or half-life would divide by zero; the others may be zero.
    const min = k === 'drainWithinMs' || k === 'idleHalfLifeMs' ? 1 : 0
    if (ms === undefined || ms < min || ms > SERVICE_DURATION_MS_MAX) where([...path, k], `must be whole ms${min > 0 ? ' > 0' : ' ≥ 0'} or a duration such as 30s, at most a week, got ${show(o[k])}`)
    else rules[k] = ms
  }
  return rules
}

/** The `forecast` block's fields (docs/forecast.md). */
export const FORECAST_KEYS = ['model', 'step', 'peakMultipleMax'] as const

function readForecast (v: unknown, path: ReadonlyArray<string | number>, where: Where): ForecastSpec | undefined {
  const o = readBlock(v, path, FORECAST_KEYS, where)
  if (o === undefined) return undefined
  const spec: ForecastSpec = { model: 'builtin', stepMs: FORECAST_DEFAULTS.stepMs, peakMultipleMax: FORECAST_DEFAULTS.peakMultipleMax }
  if (o.model !== undefined) {
    if (typeof o.model !== 'string' || o.model.trim() === '') where([...path, 'model'], `must be builtin or a path to an .onnx file, got ${show(o.model)}`)
    else spec.model = o.model
  }
  if (o.step !== undefined) {
    const ms = readDurationMs(o.step)
    if (ms === undefined || ms < FORECAST_LIMITS.stepMsMin || ms > FORECAST_LIMITS.stepMsMax) where([...path, 'step'], `must be a duration from ${FORECAST_LIMITS.stepMsMin / 1000}s to ${FORECAST_LIMITS.stepMsMax / 60_000}m (the step the model was trained on; builtin: 60s), got ${show(o.step)}`)
    else spec.stepMs = ms
  }
  if (o.peakMultipleMax !== undefined) {
    const x = o.peakMultipleMax
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 1 || x > FORECAST_LIMITS.peakMultipleMaxMax) where([...path, 'peakMultipleMax'], `must be a number from 1 to ${FORECAST_LIMITS.peakMultipleMaxMax}, got ${show(x)}`)
    else spec.peakMultipleMax = x
  }
  return spec
}

function readUpstream (v: unknown, path: ReadonlyArray<string | number>, where: Where): ServiceSpec['upstream'] {
  const u = readBlock(v, path, UPSTREAM_KEYS, where)
  if (u === undefined) return undefined
  const sat = u.saturatedAt ?? 0.9
  if (typeof u.name !== 'string' || !SERVICE_NAME_RE.test(u.name)) return where([...path, 'name'], 'is required: letters, digits and ._-')
  if (typeof sat !== 'number' || !(sat > 0) || sat > 1) return where([...path, 'saturatedAt'], `must be a number above 0 and at most 1, got ${show(sat)}`)
  return { name: u.name, saturatedAt: sat }
}

function readSelector (v: unknown, path: ReadonlyArray<string | number>, where: Where): Record<string, string> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) { where(path, 'must be a mapping of label: value'); return {} }
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = String(x)
    else where([...path, k], 'must be a string')
  }
  return out
}

function readRules (v: unknown, path: ReadonlyArray<string | number>, def: ScalingRules, where: Where): ScalingRules {
  const o = readBlock(v, path, RULE_KEYS, where)
  if (o === undefined) return def
  const rules: ScalingRules = { ...def }
  if (o.stabilizationMs !== undefined) {
    const ms = readDurationMs(o.stabilizationMs)
    if (ms === undefined || ms > SERVICE_DURATION_MS_MAX) where([...path, 'stabilizationMs'], `must be whole ms ≥ 0 or a duration such as 5m, at most a week, got ${show(o.stabilizationMs)}`)
    else rules.stabilizationMs = ms
  }
  if (o.selectPolicy !== undefined) {
    if (o.selectPolicy !== 'max' && o.selectPolicy !== 'min' && o.selectPolicy !== 'disabled') where([...path, 'selectPolicy'], `must be max, min or disabled, got ${show(o.selectPolicy)}`)
    else rules.selectPolicy = o.selectPolicy
  }
  if (o.policies !== undefined) rules.policies = readPolicies(o.policies, [...path, 'policies'], where) ?? rules.policies
  return rules
}

function readPolicies (v: unknown, path: ReadonlyArray<string | number>, where: Where): ScalingRules['policies'] | undefined {
  if (!Array.isArray(v)) return where(path, `must be a list of {${POLICY_KEYS.join(', ')}}`)
  const out: ScalingRules['policies'] = []
  v.forEach((p: unknown, i) => {
    const at = [...path, i]
    if (typeof p !== 'object' || p === null || Array.isArray(p)) { where(at, `must be a mapping {${POLICY_KEYS.join(', ')}}`); return }
    const pp = p as Record<string, unknown>
    for (const k of Object.keys(pp)) if (!(POLICY_KEYS as readonly string[]).includes(k)) where([...at, k], `unknown field; known: ${POLICY_KEYS.join(', ')}`)
    if (pp.type !== 'pods' && pp.type !== 'percent') { where([...at, 'type'], `must be pods or percent, got ${show(pp.type)}`); return }
    if (typeof pp.value !== 'number' || !(pp.value > 0) || !Number.isFinite(pp.value)) { where([...at, 'value'], `must be a number > 0, got ${show(pp.value)}`); return }
    const periodMs = readDurationMs(pp.periodMs)
    if (periodMs === undefined || periodMs <= 0 || periodMs > SERVICE_DURATION_MS_MAX) { where([...at, 'periodMs'], `must be whole ms > 0 or a duration such as 15s, at most a week, got ${show(pp.periodMs)}`); return }
    out.push({ type: pp.type, value: pp.value, periodMs })
  })
  return out
}

function show (v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  try { return JSON.stringify(v) ?? String(v) } catch { return String(v) }
}
