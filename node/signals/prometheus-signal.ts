/**
 * A Prometheus instant query (`GET /api/v1/query?query=…`) run every `intervalMs`, each bounded
 * by `timeoutMs`; queries never overlap. The answer must be one number: a scalar, or a vector
 * of exactly one series (aggregate in PromQL, `sum(...)`, when there may be several). An empty
 * vector is an error by default (`emptyAs: 'error'`), so a vanished series makes the signal
 * stale rather than zero and never scales anything down; `emptyAs: 'zero'` reads it as 0
 * (KEDA's `ignoreNullValues`), for series that exist only while there is load.
 *
 * The age is measured from when the query was answered, on our clock: the sample's own
 * Prometheus timestamp would mix in the server's clock skew.
 */
import { pino, type Logger } from 'pino'
import type { SignalSample } from '../../protocol/index.js'
import {
  Reading, SIGNAL_DEFAULTS, SignalError, SignalErrorCode, checkCommon, checkValue, positive, reportProblems,
  type ServiceSignal, type SignalStatus,
} from './signal-source.js'
import { redactCredentials, redactUrl } from './redact.js'

export interface PrometheusSignalInit {
  service: string
  upstream?: boolean
  /** The server's base URL, e.g. `http://127.0.0.1:9090` (a path prefix is kept). */
  url: string
  query: string
  intervalMs?: number
  timeoutMs?: number
  maxResponseBytes?: number
  emptyAs?: 'error' | 'zero'
  /** Sent as `Authorization: Bearer …` when set. */
  bearerToken?: string
}

export interface PrometheusSignalComponents {
  clock?: () => number
  log?: Logger
  /** For tests: another fetch. */
  fetch?: typeof fetch
}

export function createPrometheusSignal (init: PrometheusSignalInit, components: PrometheusSignalComponents = {}): ServiceSignal & { queryNow: (signal?: AbortSignal) => Promise<void> } {
  return new PrometheusSignal(init, components)
}

class PrometheusSignal implements ServiceSignal {
  readonly kind = 'prometheus'
  readonly service: string
  readonly upstream: boolean
  private readonly reading = new Reading()
  private readonly clock: () => number
  private readonly log: Logger
  private readonly fetch: typeof fetch
  private readonly queryUrl: URL
  private timer: NodeJS.Timeout | undefined
  private abort: AbortController | undefined
  private inFlight: Promise<void> = Promise.resolve()

  constructor (private readonly init: PrometheusSignalInit, components: PrometheusSignalComponents) {
    const problems: string[] = []
    checkCommon(init, problems)
    let base: URL | undefined
    try {
      base = new URL(init.url)
      if (base.protocol !== 'http:' && base.protocol !== 'https:') problems.push(`url ${redactUrl(init.url)}: scheme must be http or https`)
      // fetch refuses a URL with user info: every query would fail.
      if (base.username !== '' || base.password !== '') problems.push(`url ${redactUrl(init.url)}: user info in the URL is not supported; use bearerTokenFile`)
    } catch { problems.push(`url ${redactUrl(String(init.url))} is not a URL`) }
    if (typeof init.query !== 'string' || init.query.trim() === '') problems.push('query must be a non-empty string')
    else if (Buffer.byteLength(init.query) > SIGNAL_DEFAULTS.prometheusQueryBytesMax) problems.push(`query is longer than ${SIGNAL_DEFAULTS.prometheusQueryBytesMax} bytes`)
    positive(init.intervalMs, 'intervalMs', problems)
    positive(init.timeoutMs, 'timeoutMs', problems)
    positive(init.maxResponseBytes, 'maxResponseBytes', problems)
    if ((init.timeoutMs ?? SIGNAL_DEFAULTS.prometheusTimeoutMs) > (init.intervalMs ?? SIGNAL_DEFAULTS.prometheusIntervalMs)) problems.push('timeoutMs must not exceed intervalMs')
    if (init.emptyAs !== undefined && init.emptyAs !== 'error' && init.emptyAs !== 'zero') problems.push('emptyAs must be error or zero')
    reportProblems(`prometheus signal for ${String(init.service)}`, problems)
    this.service = init.service
    this.upstream = init.upstream ?? false
    this.clock = components.clock ?? Date.now
    this.log = components.log ?? pino({ level: 'silent' })
    this.fetch = components.fetch ?? fetch
    const b = base as URL
    this.queryUrl = new URL(`${b.pathname.replace(/\/$/, '')}/api/v1/query`, b)
    this.queryUrl.searchParams.set('query', init.query)
  }

  async start (): Promise<void> {
    if (this.abort !== undefined) return
    this.abort = new AbortController()
    this.loop()
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    this.abort?.abort()
    this.abort = undefined
    await this.inFlight
  }

  onChange (listener: () => void): () => void { return this.reading.onChange(listener) }

  sample (nowMs: number): SignalSample | undefined { return this.reading.sample(this.service, this.upstream, nowMs) }

  status (nowMs: number): SignalStatus {
    return this.reading.status({ service: this.service, kind: this.kind, upstream: this.upstream }, nowMs)
  }

  private loop (): void {
    const abort = this.abort
    if (abort === undefined) return
    this.inFlight = this.queryNow(abort.signal).finally(() => {
      if (this.abort !== abort) return
      this.timer = setTimeout(() => this.loop(), this.init.intervalMs ?? SIGNAL_DEFAULTS.prometheusIntervalMs)
    })
  }

  /** One query, its outcome recorded; never throws. */
  async queryNow (signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.init.timeoutMs ?? SIGNAL_DEFAULTS.prometheusTimeoutMs
    const timeout = AbortSignal.timeout(timeoutMs)
    const bounded = signal === undefined ? timeout : AbortSignal.any([signal, timeout])
    try {
      const value = await this.query(bounded)
      this.reading.good(value, this.clock())
    } catch (err) {
      if (signal?.aborted === true) return // stopping
      const e = err instanceof SignalError
        ? err
        : timeout.aborted
          ? new SignalError(SignalErrorCode.Timeout, `${redactUrl(this.init.url)}: no answer within ${timeoutMs} ms`, { cause: err })
          : new SignalError(SignalErrorCode.Unavailable, redactCredentials(`${redactUrl(this.init.url)}: ${(err as Error).message}`), { cause: err })
      this.log.debug({ service: this.service, code: e.code, err: e.message }, 'prometheus query failed')
      this.reading.failed(e, this.clock())
    }
  }

  private async query (signal: AbortSignal): Promise<number> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.init.bearerToken !== undefined) headers.authorization = `Bearer ${this.init.bearerToken}`
    const res = await this.fetch(this.queryUrl, { signal, headers })
    const text = await readCapped(res, this.init.maxResponseBytes ?? SIGNAL_DEFAULTS.prometheusResponseBytesMax)
    let body: PromResponse
    try { body = JSON.parse(text) as PromResponse } catch {
      throw new SignalError(res.ok ? SignalErrorCode.Parse : SignalErrorCode.QueryFailed, `HTTP ${res.status}: the answer is not JSON`)
    }
    if (!res.ok || body.status !== 'success') {
      throw new SignalError(SignalErrorCode.QueryFailed, `HTTP ${res.status}: ${String(body.errorType ?? 'error')}: ${String(body.error ?? 'query failed')}`)
    }
    return this.valueOf(body.data)
  }

  private valueOf (data: PromResponse['data']): number {
    const what = `query ${this.init.query}`
    const fromPair = (pair: unknown): number => {
      if (!Array.isArray(pair) || typeof pair[1] !== 'string') throw new SignalError(SignalErrorCode.Parse, `${what}: a sample is not [time, "value"]`)
      return checkValue(Number(pair[1]), what)
    }
    switch (data?.resultType) {
      case 'scalar':
        return fromPair(data.result)
      case 'vector': {
        const series = data.result as unknown[]
        if (!Array.isArray(series)) throw new SignalError(SignalErrorCode.Parse, `${what}: result is not a list`)
        if (series.length === 0) {
          if (this.init.emptyAs === 'zero') return 0
          throw new SignalError(SignalErrorCode.Empty, `${what}: no series`)
        }
        if (series.length > 1) throw new SignalError(SignalErrorCode.Ambiguous, `${what}: ${series.length} series; aggregate them (sum(...))`)
        return fromPair((series[0] as { value?: unknown }).value)
      }
      default:
        throw new SignalError(SignalErrorCode.Parse, `${what}: result type ${String(data?.resultType)} is not a scalar or a vector`)
    }
  }
}

interface PromResponse {
  status?: string
  errorType?: string
  error?: string
  data?: { resultType?: string, result?: unknown }
}

/** The body as text, refusing more than `maxBytes` (checked as it streams, not after). */
async function readCapped (res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN)
  if (declared > maxBytes) {
    await res.body?.cancel()
    throw new SignalError(SignalErrorCode.TooLarge, `response of ${declared} bytes is over ${maxBytes}`)
  }
  if (res.body === null) return ''
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = res.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      throw new SignalError(SignalErrorCode.TooLarge, `response is over ${maxBytes} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString('utf8')
}
