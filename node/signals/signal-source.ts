/**
 * The signal port: one measured load of one service (a backlog, a rate, a query's value).
 *
 * The daemon's own port (`SignalSource` in node/core/ports.ts) is one level up: one object
 * that samples every signal of the host at once. `SignalSet` (signal-set.ts) implements it over
 * the per-service `ServiceSignal`s defined here; the names differ so both can be imported
 * together.
 *
 * Staleness is the core's to judge: a signal always reports its last good value with
 * `ageMs`, the age of that reading, and never invents a fresh one. A dead broker or server
 * therefore shows up as a growing age, and the core fails static.
 */
import type { SignalSample } from '../../protocol/index.js'
import { CodedError } from '../../protocol/errors.js'
import { redactCredentials } from './redact.js'

export type SignalKind = 'mqtt-backlog' | 'mqtt-rate' | 'prometheus' | 'push'

export interface SignalStatus {
  service: string
  kind: SignalKind
  upstream: boolean
  /** The last good value, if any yet. */
  value?: number
  /** Age of the last good value, ms. */
  ageMs?: number
  /** Failed readings since start (bad payloads, failed queries, lost connections). */
  errorsCount: number
  lastError?: { code: SignalErrorCode, message: string, atMs: number }
  /** For connection-based sources (MQTT): whether the connection is up now. */
  connected?: boolean
}

export interface ServiceSignal {
  readonly kind: SignalKind
  readonly service: string
  /** true: the value is an upstream's saturation (0–1), not a backlog. */
  readonly upstream: boolean
  start: (signal?: AbortSignal) => Promise<void>
  stop: () => Promise<void>
  /** The last good reading with its age at `nowMs`; undefined until the first one. Never throws. */
  sample: (nowMs: number) => SignalSample | undefined
  status: (nowMs: number) => SignalStatus
  /** Called when a reading arrives, fails, or the connection changes. Returns the unsubscribe. */
  onChange: (listener: () => void) => () => void
}

export const SignalErrorCode = {
  /** The signal's configuration breaks a rule (every problem listed at once). */
  ConfigInvalid: 'E_SIGNAL_CONFIG_INVALID',
  /** A payload or response is larger than its limit. */
  TooLarge: 'E_SIGNAL_TOO_LARGE',
  /** A payload or response could not be read as a number (or the field is missing). */
  Parse: 'E_SIGNAL_PARSE',
  /** A number that is not finite, or negative. */
  ValueInvalid: 'E_SIGNAL_VALUE_INVALID',
  /** The broker or server cannot be reached, or the connection dropped. */
  Unavailable: 'E_SIGNAL_UNAVAILABLE',
  /** The server did not answer in time. */
  Timeout: 'E_SIGNAL_TIMEOUT',
  /** The server answered with an error (HTTP status, Prometheus `status: error`). */
  QueryFailed: 'E_SIGNAL_QUERY_FAILED',
  /** The query returned no series. */
  Empty: 'E_SIGNAL_EMPTY',
  /** The query returned more than one series: aggregate it in PromQL (`sum(...)`). */
  Ambiguous: 'E_SIGNAL_AMBIGUOUS',
  /** More distinct topics than `maxTopics` matched; the extra ones are ignored. */
  Limit: 'E_SIGNAL_LIMIT',
  /** A push names a service that has no push signal. */
  NotFound: 'E_SIGNAL_NOT_FOUND',
} as const

export type SignalErrorCode = typeof SignalErrorCode[keyof typeof SignalErrorCode]

export class SignalError extends CodedError<SignalErrorCode> {
  override readonly name = 'SignalError'
}

/** Every signal limit and interval, with its default, in one place. */
export const SIGNAL_DEFAULTS = {
  /** MQTT: largest payload read as a number; larger ones are refused and counted. */
  mqttPayloadBytesMax: 4_096,
  /** MQTT backlog: most distinct topics a wildcard filter may sum; more are ignored and counted. */
  mqttTopicsMax: 64,
  /** MQTT backlog: a topic silent for longer leaves the sum (a partition that went away). */
  mqttTopicTtlMs: 60_000,
  /** MQTT: reconnect period after a lost connection (mqtt.js retries at this fixed period). */
  mqttReconnectMs: 1_000,
  /** MQTT: bound on one connection attempt. */
  mqttConnectTimeoutMs: 5_000,
  /** MQTT rate: the window the rate is measured over, and its resolution in buckets. */
  mqttRateWindowMs: 10_000,
  mqttRateBuckets: 10,
  /** Prometheus: query period and bound on one query. */
  prometheusIntervalMs: 5_000,
  prometheusTimeoutMs: 3_000,
  /** Prometheus: largest response body read. */
  prometheusResponseBytesMax: 1024 * 1024,
  /** Prometheus: longest PromQL query accepted. */
  prometheusQueryBytesMax: 4_096,
  /** Signals on one host (the wire protocol carries at most PROTOCOL_LIMITS.maxSignals). */
  signalsMax: 128,
  /** JSON field paths: most segments. */
  fieldPathSegmentsMax: 16,
} as const

if (SIGNAL_DEFAULTS.prometheusTimeoutMs > SIGNAL_DEFAULTS.prometheusIntervalMs) {
  throw new Error('SIGNAL_DEFAULTS: a Prometheus query must time out before the next one is due')
}

/**
 * The bookkeeping every source shares: the last good value and when it was read, the errors.
 * `hold(nowMs)` lets a source say "the value is still current" (a rate measured over a live
 * connection is current even when nothing arrives).
 */
export class Reading {
  value: number | undefined
  readAtMs = 0
  errorsCount = 0
  lastError: SignalStatus['lastError']
  private readonly listeners = new Set<() => void>()

  good (value: number, atMs: number): void {
    this.value = value
    this.readAtMs = atMs
    this.emit()
  }

  /** Marks the current value as still current at `atMs` (no event: nothing changed). */
  hold (atMs: number): void {
    if (this.value !== undefined) this.readAtMs = Math.max(this.readAtMs, atMs)
  }

  failed (err: SignalError, atMs: number): void {
    this.errorsCount++
    // lastError reaches /v1/status: no library's error text may carry a URL's password there.
    this.lastError = { code: err.code, message: redactCredentials(err.message), atMs }
    this.emit()
  }

  sample (service: string, upstream: boolean, nowMs: number): SignalSample | undefined {
    if (this.value === undefined) return undefined
    return { service, value: this.value, ageMs: Math.max(0, Math.round(nowMs - this.readAtMs)), upstream }
  }

  status (base: { service: string, kind: SignalKind, upstream: boolean }, nowMs: number): SignalStatus {
    return {
      ...base,
      ...(this.value === undefined ? {} : { value: this.value, ageMs: Math.max(0, Math.round(nowMs - this.readAtMs)) }),
      errorsCount: this.errorsCount,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    }
  }

  onChange (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  emit (): void {
    for (const l of [...this.listeners]) {
      try { l() } catch { /* a listener's bug is not the signal's */ }
    }
  }
}

/** A finite, non-negative number, or a typed error. */
export function checkValue (value: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) throw new SignalError(SignalErrorCode.ValueInvalid, `${what}: ${value} is not a finite non-negative number`)
  return value
}

/**
 * Reads a number from a payload: the whole payload as a plain number, or, with `fieldPath`
 * (`a.b.0.c`, an optional leading `$.`), that field of a JSON object. The field may hold a
 * number or a numeric string.
 */
export function parseNumber (payload: string, fieldPath: readonly string[] | undefined, what: string): number {
  if (fieldPath === undefined) {
    const text = payload.trim()
    const n = text === '' ? NaN : Number(text)
    if (Number.isNaN(n)) throw new SignalError(SignalErrorCode.Parse, `${what}: payload is not a number`)
    return checkValue(n, what)
  }
  let node: unknown
  try { node = JSON.parse(payload) } catch { throw new SignalError(SignalErrorCode.Parse, `${what}: payload is not JSON`) }
  for (const key of fieldPath) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) {
      throw new SignalError(SignalErrorCode.Parse, `${what}: field ${fieldPath.join('.')} is missing`)
    }
    node = (node as Record<string, unknown>)[key]
  }
  const n = typeof node === 'number' ? node : typeof node === 'string' && node.trim() !== '' ? Number(node) : NaN
  if (Number.isNaN(n)) throw new SignalError(SignalErrorCode.Parse, `${what}: field ${fieldPath.join('.')} is not a number`)
  return checkValue(n, what)
}

/** `$.a.b.0` or `a.b.0` → ['a', 'b', '0']; throws for an empty or overlong path. */
export function parseFieldPath (path: string): string[] {
  const body = path.startsWith('$.') ? path.slice(2) : path
  const segments = body.split('.')
  if (body === '' || segments.some(s => s === '')) throw new SignalError(SignalErrorCode.ConfigInvalid, `field path "${path}" is malformed`)
  if (segments.length > SIGNAL_DEFAULTS.fieldPathSegmentsMax) throw new SignalError(SignalErrorCode.ConfigInvalid, `field path "${path}" has more than ${SIGNAL_DEFAULTS.fieldPathSegmentsMax} segments`)
  return segments
}

/** Throws one `E_SIGNAL_CONFIG_INVALID` naming every problem, or returns. */
export function reportProblems (what: string, problems: string[]): void {
  if (problems.length > 0) throw new SignalError(SignalErrorCode.ConfigInvalid, `${what}: ${problems.join('; ')}`)
}

export function checkCommon (init: { service: string }, problems: string[]): void {
  if (typeof init.service !== 'string' || init.service === '') problems.push('service must be a non-empty string')
}

export function positive (value: number | undefined, name: string, problems: string[]): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) problems.push(`${name} must be a positive number`)
}
