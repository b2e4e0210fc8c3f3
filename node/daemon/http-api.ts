/**
 * The local HTTP API (node:http, 127.0.0.1 by default): JSON under /v1/, server-sent events at
 * /v1/events, /healthz, /readyz, /metrics and the dashboard at /. Every request is rate limited
 * per client address; bodies are capped; errors are JSON `{"error": {"code", "message"}}` with
 * a stable code. Mutating routes take a bearer token read from http.tokenFile at start.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { DaemonConfig } from './config.js'
import { DASHBOARD_HTML } from './dashboard.js'
import { DaemonError, DaemonErrorCode, HttpErrorCode } from './errors.js'
import type { DaemonEvent, EventLog } from './event-log.js'
import type { DaemonMetrics } from './metrics.js'

/** What the API shows and controls; the daemon implements it. */
export interface ApiSource {
  status: () => unknown
  sites: () => unknown
  plan: () => unknown
  ready: () => { ready: boolean, reason: string }
  healthy: () => { healthy: boolean, reason: string }
  /** `POST /v1/signals`; throws a coded error (E_SIGNAL_*) for a body it refuses. */
  pushSignals: (body: unknown) => unknown
  /** Fault injection; undefined when debug.faultInjection is off. */
  setPartitioned?: (on: boolean) => void
}

export interface HttpApiInit {
  http: DaemonConfig['http']
  /** The bearer token for mutating routes, or undefined (they are then off). */
  token: string | undefined
}

export interface HttpApiComponents {
  source: ApiSource
  events: EventLog
  metrics: DaemonMetrics
  log: Logger
  clock: () => number
}

/** Rate-limit buckets remembered at once; the oldest is forgotten first. */
const MAX_RATE_BUCKETS = 4096
/** A comment line on every open event stream this often, so proxies keep it open. */
const SSE_KEEPALIVE_MS = 15_000
const SSE_RETRY_MS = 2000

class HttpError extends Error {
  constructor (readonly status: number, readonly code: HttpErrorCode, message: string) { super(message) }
}

interface Bucket { tokens: number, atMs: number }

export class HttpApi {
  private server: Server | undefined
  private readonly buckets = new Map<string, Bucket>()
  private readonly streams = new Set<ServerResponse>()
  private keepalive: NodeJS.Timeout | undefined

  constructor (private readonly init: HttpApiInit, private readonly c: HttpApiComponents) {}

  async start (): Promise<{ host: string, port: number }> {
    const server = createServer((req, res) => { this.serve(req, res) })
    server.headersTimeout = 10_000
    server.requestTimeout = 30_000
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new DaemonError(DaemonErrorCode.HttpListen, `HTTP API cannot listen on ${this.init.http.host}:${this.init.http.port}: ${err.message}`, [], { cause: err })))
      server.listen(this.init.http.port, this.init.http.host, () => resolve())
    })
    this.keepalive = setInterval(() => { for (const s of this.streams) this.write(s, ': keepalive\n\n') }, SSE_KEEPALIVE_MS)
    this.keepalive.unref()
    const a = server.address() as AddressInfo
    return { host: a.address, port: a.port }
  }

  async stop (): Promise<void> {
    if (this.keepalive !== undefined) clearInterval(this.keepalive)
    for (const s of this.streams) s.end()
    this.streams.clear()
    const server = this.server
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  private serve (req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const route = ROUTES.has(url.pathname) ? url.pathname : 'other'
    res.on('finish', () => this.c.metrics.httpRequests.inc({ route, code: String(res.statusCode) }))
    this.route(req, res, url).catch((err: unknown) => {
      if (err instanceof HttpError) return this.error(res, err.status, err.code, err.message)
      this.c.log.error({ err: (err as Error).message, path: url.pathname }, 'HTTP handler failed')
      if (!res.headersSent) this.error(res, 500, HttpErrorCode.BadRequest, 'internal error')
    })
  }

  private async route (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    this.rateLimit(req)
    const method = req.method ?? 'GET'
    const get = (): void => { if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, HttpErrorCode.MethodNotAllowed, `${method} not allowed on ${url.pathname}; use GET`) }
    switch (url.pathname) {
      case '/': get(); return this.send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML)
      case '/healthz': { get(); const h = this.c.source.healthy(); return this.json(res, h.healthy ? 200 : 503, h) }
      case '/readyz': { get(); const r = this.c.source.ready(); return this.json(res, r.ready ? 200 : 503, r) }
      case '/metrics': get(); return this.send(res, 200, this.c.metrics.registry.contentType, await this.c.metrics.registry.metrics())
      case '/v1/status': get(); return this.json(res, 200, this.c.source.status())
      case '/v1/sites': get(); return this.json(res, 200, this.c.source.sites())
      case '/v1/plan': get(); return this.json(res, 200, this.c.source.plan())
      case '/v1/events': get(); return this.openStream(req, res)
      case '/v1/signals': return await this.pushSignals(req, res)
      case '/v1/debug/partition': return await this.partition(req, res)
      default: throw new HttpError(404, HttpErrorCode.NotFound, `no route ${url.pathname}`)
    }
  }

  private async pushSignals (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, HttpErrorCode.MethodNotAllowed, 'use POST')
    this.authorize(req)
    const body = await this.readJson(req)
    let result: unknown
    try {
      result = this.c.source.pushSignals(body)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (code === 'E_SIGNAL_NOT_FOUND') throw new HttpError(404, HttpErrorCode.NotFound, (err as Error).message)
      if (typeof code === 'string' && code.startsWith('E_SIGNAL_')) throw new HttpError(400, HttpErrorCode.BadRequest, (err as Error).message)
      throw err
    }
    this.json(res, 200, result)
  }

  private async partition (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new HttpError(405, HttpErrorCode.MethodNotAllowed, 'use POST')
    this.authorize(req)
    const set = this.c.source.setPartitioned
    if (set === undefined) throw new HttpError(403, HttpErrorCode.Disabled, 'fault injection is off (debug.faultInjection)')
    const body = await this.readJson(req) as { partitioned?: unknown }
    if (typeof body?.partitioned !== 'boolean') throw new HttpError(400, HttpErrorCode.BadRequest, 'body must be {"partitioned": true|false}')
    set(body.partitioned)
    this.c.log.warn({ partitioned: body.partitioned }, 'fault injection: partition')
    this.c.events.push('fault', this.c.clock(), { fault: 'partition', on: body.partitioned })
    this.json(res, 200, { partitioned: body.partitioned })
  }

  /** Token bucket per client address. */
  private rateLimit (req: IncomingMessage): void {
    const key = req.socket.remoteAddress ?? 'unknown'
    const now = this.c.clock()
    const { requestsPerSecond, requestBurst } = this.init.http
    let b = this.buckets.get(key)
    if (b === undefined) {
      b = { tokens: requestBurst, atMs: now }
      if (this.buckets.size >= MAX_RATE_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!)
      this.buckets.set(key, b)
    }
    b.tokens = Math.min(requestBurst, b.tokens + (now - b.atMs) * requestsPerSecond / 1000)
    b.atMs = now
    if (b.tokens < 1) throw new HttpError(429, HttpErrorCode.RateLimited, `more than ${requestsPerSecond} requests per second`)
    b.tokens -= 1
  }

  private authorize (req: IncomingMessage): void {
    const token = this.init.token
    if (token === undefined) throw new HttpError(401, HttpErrorCode.Unauthorized, 'mutating routes are off: no http.tokenFile configured')
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')
    const given = Buffer.from(m?.[1] ?? '')
    const want = Buffer.from(token)
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new HttpError(401, HttpErrorCode.Unauthorized, 'missing or wrong bearer token')
  }

  private async readJson (req: IncomingMessage): Promise<unknown> {
    const max = this.init.http.maxBodyBytes
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > max) throw new HttpError(413, HttpErrorCode.TooLarge, `body over ${max} bytes`)
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req) {
      size += (chunk as Buffer).length
      if (size > max) throw new HttpError(413, HttpErrorCode.TooLarge, `body over ${max} bytes`)
      chunks.push(chunk as Buffer)
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'))
    } catch {
      throw new HttpError(400, HttpErrorCode.BadRequest, 'body is not JSON')
    }
  }

  private openStream (req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= this.init.http.maxSseClients) throw new HttpError(503, HttpErrorCode.TooManyStreams, `at most ${this.init.http.maxSseClients} event streams`)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' })
    this.streams.add(res)
    this.c.metrics.sseClients.set(this.streams.size)
    this.write(res, `retry: ${SSE_RETRY_MS}\n\n`)
    const last = Number(req.headers['last-event-id'] ?? NaN)
    if (Number.isSafeInteger(last)) for (const e of this.c.events.since(last)) this.sendEvent(res, e)
    const unsubscribe = this.c.events.subscribe(e => this.sendEvent(res, e))
    res.on('close', () => {
      unsubscribe()
      this.streams.delete(res)
      this.c.metrics.sseClients.set(this.streams.size)
    })
  }

  private sendEvent (res: ServerResponse, e: DaemonEvent): void {
    this.write(res, `id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ atMs: e.atMs, ...e.data })}\n\n`)
  }

  /** Writes to an event stream; a client that cannot keep up is dropped (shed), not buffered. */
  private write (res: ServerResponse, text: string): void {
    if (res.writableLength > this.init.http.sseMaxBufferedBytes) {
      this.c.log.warn('event stream client too slow; closed')
      res.destroy()
      return
    }
    res.write(text)
  }

  private json (res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify(body))
  }

  private error (res: ServerResponse, status: number, code: HttpErrorCode, message: string): void {
    if (res.headersSent) { res.destroy(); return }
    this.json(res, status, { error: { code, message } })
  }

  private send (res: ServerResponse, status: number, type: string, body: string): void {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' })
    res.end(res.req.method === 'HEAD' ? undefined : body)
  }
}

/** Routes, also the `route` label's closed set of values (plus `other`). */
const ROUTES = new Set(['/', '/healthz', '/readyz', '/metrics', '/v1/status', '/v1/sites', '/v1/plan', '/v1/events', '/v1/signals', '/v1/debug/partition'])
