/**
 * The local HTTP API (node:http, 127.0.0.1 by default): JSON under /v1/, server-sent events at
 * /v1/events, /healthz, /readyz, /metrics and the dashboard at /. Errors are JSON
 * `{"error": {"code", "message"}}` with a stable code. Mutating routes take a bearer token read
 * from http.tokenFile at start.
 *
 * No request may stop the daemon. Everything a request carries is read by code that cannot
 * throw (http-target.ts), and whatever a handler throws becomes a coded answer, never an
 * exception out of the request listener (which would end the process). Malformed HTTP that
 * Node's parser refuses, CONNECT, and unmet `Expect` headers are answered the same way.
 *
 * What a request goes through, in order:
 * 1. the request target and Host: a Host that is not this API's (DNS rebinding) gets 421, a
 *    browser request from another site 403 — before any rate limit is charged, so a hostile
 *    page cannot use up the buckets that the host's own clients share;
 * 2. the rate limits (see `admit`);
 * 3. the route.
 * Connections are capped (http.maxConnections) and must send their headers and their request
 * in time (http.headersTimeoutMs, http.requestTimeoutMs), so slow clients cannot hold them.
 */
import type { HealthResponse, PlanResponse, ReadyResponse, SitesResponse, StatusResponse } from './api-schema.js'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import type { AddressInfo, Socket } from 'node:net'
import { hostname } from 'node:os'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import type { DaemonConfig } from './config.js'
import { DASHBOARD_HEADERS, DASHBOARD_HTML } from './dashboard.js'
import { DaemonError, DaemonErrorCode, HttpErrorCode } from './errors.js'
import type { DaemonEvent, EventLog } from './event-log.js'
import { HostAllowlist, parseRequestTarget, type RequestTarget } from './http-target.js'
import type { DaemonMetrics } from './metrics.js'
import { SignalError, SignalErrorCode } from '../signals/signal-source.js'

/** What the API shows and controls; the daemon implements it. */
export interface ApiSource {
  status: () => StatusResponse
  sites: () => SitesResponse
  plan: () => PlanResponse
  ready: () => ReadyResponse
  healthy: () => HealthResponse
  /** The OpenAPI document of this API (openapi.ts). */
  /** Built on demand: its schemas (TypeBox, ~200 modules) are loaded only when it is asked for. */
  openApi: () => Promise<Record<string, unknown>>
  /** `POST /v1/signals`; throws a SignalError for a body it refuses. */
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

/** Per-address rate-limit buckets remembered at once; the least recently used is forgotten first. */
const MAX_RATE_BUCKETS = 4096
/** A comment line on every open event stream this often, so proxies keep it open. */
const SSE_KEEPALIVE_MS = 15_000
const SSE_RETRY_MS = 2000
/**
 * How often Node checks connections against http.headersTimeoutMs and http.requestTimeoutMs.
 * Node's default, 30 s, would let a client that dribbles its headers hold a connection for
 * up to 30 s past the timeout; the check costs one pass over the open connections.
 */
const TIMEOUT_CHECK_MS = 1000
/** After a refusal Node's parser cannot read, the connection is drained this long before it is closed. */
const LINGER_MS = 2000
/** Paths quoted in error messages and logs are cut to this many characters. */
const QUOTED_PATH_CHARS_MAX = 120
/** Handler failures (bugs) are logged at most once in this interval, with the count suppressed. */
const FAILURE_LOG_INTERVAL_MS = 10_000
/** Routes a health checker polls: cheap, no I/O, and limited per connection only (see admit). */
const PROBE_ROUTES = new Set(['/healthz', '/readyz'])

class HttpError extends Error {
  constructor (readonly status: number, readonly code: HttpErrorCode, message: string, readonly headers: Record<string, string> = {}) { super(message) }
}

/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
interface Bucket { tokens: number, atMs: number }

function take (b: Bucket, nowMs: number, perSecond: number, burst: number): boolean {
  b.tokens = Math.min(burst, b.tokens + Math.max(0, nowMs - b.atMs) * perSecond / 1000)
  b.atMs = nowMs
  if (b.tokens < 1) return false
  b.tokens -= 1
  return true
}

export class HttpApi {
  private server: Server | undefined
  private hosts: HostAllowlist | undefined
  private readonly addressBuckets = new Map<string, Bucket>()
  private readonly connectionBuckets = new WeakMap<Socket, Bucket>()
  private readonly streams = new Set<ServerResponse>()
  /** Sockets closing in stages after a raw answer (answerRaw): Node no longer tracks them. */
  private readonly lingering = new Set<Duplex>()
  private keepalive: NodeJS.Timeout | undefined
  private failureLog = { atMs: -Infinity, suppressed: 0 }

  constructor (private readonly init: HttpApiInit, private readonly c: HttpApiComponents) {}

  async start (): Promise<{ host: string, port: number }> {
    const h = this.init.http
    const server = createServer({
      headersTimeout: h.headersTimeoutMs,
      requestTimeout: h.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      maxHeaderSize: h.maxHeaderBytes,
      // Checked by admit(), which answers in JSON like every other refusal.
      requireHostHeader: false,
    }, (req, res) => { this.serve(req, res) })
    server.maxConnections = h.maxConnections
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => { this.clientError(err, socket) })
    server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      this.answerRaw(socket, 405, HttpErrorCode.MethodNotAllowed, 'CONNECT is not supported')
    })
    server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
      res.on('finish', () => this.count('other', res.statusCode))
      this.error(res, 417, HttpErrorCode.BadRequest, 'only Expect: 100-continue is supported')
    })
    server.on('drop', () => { this.c.metrics.httpDroppedConnections.inc() })
    server.on('connection', (socket: Socket) => {
      this.c.metrics.httpConnections.inc()
      socket.once('close', () => this.c.metrics.httpConnections.dec())
    })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new DaemonError(DaemonErrorCode.HttpListen, `HTTP API cannot listen on ${h.host}:${h.port}: ${err.message}`, [], { cause: err })))
      server.listen(h.port, h.host, () => resolve())
    })
    const a = server.address() as AddressInfo
    this.hosts = new HostAllowlist({ listenHost: h.host, port: a.port, extra: h.allowedHosts, hostname: hostname() })
    this.keepalive = setInterval(() => { for (const s of this.streams) this.write(s, ': keepalive\n\n') }, SSE_KEEPALIVE_MS)
    this.keepalive.unref()
    return { host: a.address, port: a.port }
  }

  async stop (): Promise<void> {
    if (this.keepalive !== undefined) clearInterval(this.keepalive)
    for (const s of this.streams) s.end()
    this.streams.clear()
    const server = this.server
    if (server === undefined) return
    server.closeAllConnections()
    for (const socket of this.lingering) socket.destroy()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  /** The request listener: never throws, whatever the request. */
  private serve (req: IncomingMessage, res: ServerResponse): void {
    let route = 'other'
    let path = ''
    res.on('finish', () => this.count(route, res.statusCode))
    try {
      // This API upgrades to nothing (no WebSocket, no h2c), and Node's parser reads nothing
      // more on a connection after a request that asks for an upgrade: answer it as a plain
      // request and close, so a client never waits for answers to requests pipelined behind it.
      if (req.headers.upgrade !== undefined) res.shouldKeepAlive = false
      const target = parseRequestTarget(req.url ?? '')
      if (target === undefined) throw new HttpError(400, HttpErrorCode.BadRequest, 'malformed request target')
      path = target.path
      if (ROUTES.has(path)) route = path
      this.admit(req, target)
    } catch (err) {
      this.fail(res, err, path)
      return
    }
    this.route(req, res, path).catch((err: unknown) => this.fail(res, err, path))
  }

  /**
   * Host and site checks, then rate limits. Two token buckets, because every local client (the
   * CLI, a dashboard tab, Prometheus, a health checker, a runaway script) comes from 127.0.0.1:
   * - per connection (http.connectionRequestsPerSecond / Burst): a keep-alive client that
   *   loops is held to its own share and cannot empty the address's bucket by itself;
   * - per address (http.requestsPerSecond / Burst): bounds an address that opens connection
   *   after connection, each with a fresh per-connection burst.
   * /healthz and /readyz are charged per connection only. They read two fields and do no I/O,
   * so answering them costs about what accepting their connection did: an address bucket would
   * protect nothing that http.maxConnections and the per-connection bucket do not, and it
   * would let any local process that floods /v1/status or /metrics fail the host's health
   * checks and get the supervisor restarted by its orchestrator.
   */
  private admit (req: IncomingMessage, target: RequestTarget): void {
    this.checkHost(req, target)
    const now = this.c.clock()
    const h = this.init.http
    const socket = req.socket
    let conn = this.connectionBuckets.get(socket)
    if (conn === undefined) {
      conn = { tokens: h.connectionRequestBurst, atMs: now }
      this.connectionBuckets.set(socket, conn)
    }
    if (!take(conn, now, h.connectionRequestsPerSecond, h.connectionRequestBurst)) {
      throw new HttpError(429, HttpErrorCode.RateLimited, `more than ${h.connectionRequestsPerSecond} requests per second on one connection`, { 'retry-after': '1' })
    }
    if (PROBE_ROUTES.has(target.path)) return
    const key = socket.remoteAddress ?? 'unknown'
    let addr = this.addressBuckets.get(key)
    if (addr === undefined) {
      addr = { tokens: h.requestBurst, atMs: now }
      if (this.addressBuckets.size >= MAX_RATE_BUCKETS) this.addressBuckets.delete(this.addressBuckets.keys().next().value!)
    } else {
      this.addressBuckets.delete(key) // re-inserted below: the map's order is least recently used first
    }
    this.addressBuckets.set(key, addr)
    if (!take(addr, now, h.requestsPerSecond, h.requestBurst)) {
      throw new HttpError(429, HttpErrorCode.RateLimited, `more than ${h.requestsPerSecond} requests per second from ${key}`, { 'retry-after': '1' })
    }
  }

  /**
   * DNS rebinding: only hosts of the allowlist are answered (421). A browser request made by
   * a page of another site is refused too (403): its Origin names that site, or modern
   * browsers' Sec-Fetch-Site says `cross-site` or `same-site` (another port of localhost is the
   * same site); `none` is the user opening the URL. Clients that are not browsers send neither.
   */
  private checkHost (req: IncomingMessage, target: RequestTarget): void {
    const hosts = this.hosts!
    const host = target.authority ?? req.headers.host
    if (host === undefined) {
      // HTTP/1.0 has no Host header; 1.1 requires it (RFC 9112 §3.2).
      if (req.httpVersion !== '1.0') throw new HttpError(400, HttpErrorCode.BadRequest, 'the Host header is required')
    } else if (!hosts.allows(host)) {
      throw new HttpError(421, HttpErrorCode.HostRefused, `host "${quote(host)}" is not served here (add it to http.allowedHosts if it names this host)`)
    }
    const origin = req.headers.origin
    if (origin !== undefined && !hosts.allowsOrigin(origin)) {
      throw new HttpError(403, HttpErrorCode.CrossSite, `requests from origin "${quote(origin)}" are refused`)
    }
    const site = req.headers['sec-fetch-site']
    if (site === 'cross-site' || site === 'same-site') throw new HttpError(403, HttpErrorCode.CrossSite, `${site} browser requests are refused`)
  }

  private async route (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    switch (path) {
      case '/': onlyGet(req, path); return this.send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML, DASHBOARD_HEADERS)
      case '/healthz': { onlyGet(req, path); const h = this.c.source.healthy(); return this.json(res, h.healthy ? 200 : 503, h) }
      case '/readyz': { onlyGet(req, path); const r = this.c.source.ready(); return this.json(res, r.ready ? 200 : 503, r) }
      case '/metrics': onlyGet(req, path); return this.send(res, 200, this.c.metrics.registry.contentType, await this.c.metrics.registry.metrics())
      case '/v1/status': onlyGet(req, path); return this.json(res, 200, this.c.source.status())
      case '/v1/sites': onlyGet(req, path); return this.json(res, 200, this.c.source.sites())
      case '/v1/plan': onlyGet(req, path); return this.json(res, 200, this.c.source.plan())
      case '/v1/openapi.json': onlyGet(req, path); return this.json(res, 200, await this.c.source.openApi())
      case '/v1/events': onlyGet(req, path); return this.openStream(req, res)
      case '/v1/signals': return await this.pushSignals(req, res)
      case '/v1/debug/partition': return await this.partition(req, res)
      default: throw new HttpError(404, HttpErrorCode.NotFound, `no route ${quote(path)}`)
    }
  }

  private async pushSignals (req: IncomingMessage, res: ServerResponse): Promise<void> {
    onlyPost(req)
    this.authorize(req)
    const body = await this.readJson(req)
    let result: unknown
    try {
      result = this.c.source.pushSignals(body)
    } catch (err) {
      if (!(err instanceof SignalError)) throw err
      throw new HttpError(err.code === SignalErrorCode.NotFound ? 404 : 400, err.code === SignalErrorCode.NotFound ? HttpErrorCode.NotFound : HttpErrorCode.BadRequest, err.message)
    }
    this.json(res, 200, result)
  }

  private async partition (req: IncomingMessage, res: ServerResponse): Promise<void> {
    onlyPost(req)
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
    // Node's parser has already refused a malformed Content-Length; a chunked body has none.
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

  /** GET takes a stream slot; HEAD answers the same headers (or the same refusal) and takes none. */
  private openStream (req: IncomingMessage, res: ServerResponse): void {
    if (this.streams.size >= this.init.http.maxSseClients) throw new HttpError(503, HttpErrorCode.TooManyStreams, `at most ${this.init.http.maxSseClients} event streams`, { 'retry-after': String(SSE_RETRY_MS / 1000) })
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-content-type-options': 'nosniff' })
    if (req.method === 'HEAD') { res.end(); return }
    this.streams.add(res)
    this.c.metrics.sseClients.set(this.streams.size)
    this.write(res, `retry: ${SSE_RETRY_MS}\n\n`)
    const last = lastEventId(req)
    if (last !== undefined) for (const e of this.c.events.since(last)) this.sendEvent(res, e)
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

  /** The answer to whatever a handler threw: coded refusals as they are, anything else a 500. Never throws. */
  private fail (res: ServerResponse, err: unknown, path: string): void {
    try {
      if (err instanceof HttpError) { this.error(res, err.status, err.code, err.message, err.headers); return }
      this.logFailure(err, path)
      this.error(res, 500, HttpErrorCode.Internal, 'internal error')
    } catch {
      res.destroy()
    }
  }

  /** A bug, not bad input: logged, but at most once per interval however many requests hit it. */
  private logFailure (err: unknown, path: string): void {
    const now = this.c.clock()
    if (now - this.failureLog.atMs < FAILURE_LOG_INTERVAL_MS) { this.failureLog.suppressed++; return }
    this.c.log.error({ err: err instanceof Error ? err.message : String(err), path: quote(path), suppressed: this.failureLog.suppressed }, 'HTTP handler failed')
    this.failureLog = { atMs: now, suppressed: 0 }
  }

  /**
   * Requests Node's parser refused (malformed HTTP, headers over http.maxHeaderBytes, a client
   * too slow with its headers or request) get a JSON answer with a code, like every other
   * refusal, then the connection is closed.
   */
  private clientError (err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') { socket.destroy(); return }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
    const code = status === 431 ? HttpErrorCode.HeadersTooLarge : status === 408 ? HttpErrorCode.Timeout : HttpErrorCode.BadRequest
    const message = status === 431 ? `request headers over ${this.init.http.maxHeaderBytes} bytes` : status === 408 ? 'request not received in time' : `malformed HTTP request (${err.code ?? 'parse error'})`
    this.c.log.debug({ code: err.code }, 'malformed HTTP request refused')
    // A request whose body is late still has its response unanswered on the socket: the 408
    // goes through it, so the handler waiting on the body is answered, not overtaken.
    const attached = attachedResponse(socket)
    if (status === 408 && attached !== undefined && !attached.headersSent) {
      attached.shouldKeepAlive = false
      this.error(attached, 408, code, message)
      return
    }
    this.answerRaw(socket, status, code, message)
  }

  /**
   * Answers on a socket without a ServerResponse, then closes it. A client may have pipelined
   * the bad request behind good ones whose answers are not all written yet: Node keeps the
   * answer being written on the socket (`_httpMessage`, not typed) and attaches the next queued
   * one when it finishes, so this waits until none is attached; writing earlier would put this
   * answer before theirs. Bounded by http.requestTimeoutMs; an answer that never finishes (an
   * event stream) ends with its connection.
   */
  private answerRaw (socket: Duplex, status: number, code: HttpErrorCode, message: string, deadlineMs = this.c.clock() + this.init.http.requestTimeoutMs): void {
    // A socket handed over by Node (CONNECT) has no error listener left: a write that fails
    // (the client already gone: EPIPE, ECONNRESET) would be an uncaught error and end the process.
    if (socket.listenerCount('error') === 0) socket.on('error', () => {})
    const attached = attachedResponse(socket)
    if (!socket.writable) { socket.destroy(); return }
    if (attached !== undefined) {
      const leftMs = deadlineMs - this.c.clock()
      if (leftMs <= 0) { socket.destroy(); return }
      let settled = false
      const giveUp = setTimeout(() => { settled = true; socket.destroy() }, leftMs)
      giveUp.unref()
      const retry = (): void => {
        if (settled) return
        settled = true
        clearTimeout(giveUp)
        setImmediate(() => this.answerRaw(socket, status, code, message, deadlineMs))
      }
      if (attached.writableFinished) { retry(); return }
      attached.once('finish', retry)
      attached.once('close', () => { if (!attached.writableFinished && !settled) { settled = true; clearTimeout(giveUp); socket.destroy() } })
      return
    }
    const body = JSON.stringify({ error: { code, message } })
    this.count('other', status)
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`)
    // Close in stages (RFC 9112 §9.6): what the client sent after the bad request is read and
    // dropped until it closes, for LINGER_MS at most. Closing with those bytes unread would
    // send a TCP reset, and a reset can discard this answer before the client reads it.
    socket.removeAllListeners('data')
    socket.on('data', () => {})
    socket.resume()
    const linger = setTimeout(() => socket.destroy(), LINGER_MS)
    linger.unref()
    this.lingering.add(socket)
    socket.once('close', () => { clearTimeout(linger); this.lingering.delete(socket) })
  }

  private count (route: string, status: number): void {
    this.c.metrics.httpRequests.inc({ route, code: String(status) })
  }

  private json (res: ServerResponse, status: number, body: unknown): void {
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify(body))
  }

  private error (res: ServerResponse, status: number, code: HttpErrorCode, message: string, headers: Record<string, string> = {}): void {
    if (res.headersSent) { res.destroy(); return }
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: { code, message } }), headers)
  }

  private send (res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    res.end(res.req.method === 'HEAD' ? undefined : body)
  }
}

/** The answer Node is writing on a socket, if any (`_httpMessage`: not typed, stable since Node 0.x). */
function attachedResponse (socket: Duplex): ServerResponse | undefined {
  return (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined
}

/**
 * The event to replay after: the Last-Event-ID header (a reconnecting EventSource sends it),
 * else the `lastEventId` query parameter (a page's first connection cannot set the header:
 * `?lastEventId=0` replays everything the history still holds). Anything else: no replay.
 */
function lastEventId (req: IncomingMessage): number | undefined {
  const header = Number(req.headers['last-event-id'] ?? NaN)
  if (Number.isSafeInteger(header)) return header
  const url = req.url ?? ''
  const q = url.indexOf('?')
  if (q < 0) return undefined
  const param = new URLSearchParams(url.slice(q + 1)).get('lastEventId')
  const n = param === null || param === '' ? NaN : Number(param)
  return Number.isSafeInteger(n) ? n : undefined
}

function onlyGet (req: IncomingMessage, path: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, HttpErrorCode.MethodNotAllowed, `${req.method ?? '?'} not allowed on ${path}; use GET`, { allow: 'GET, HEAD' })
}

function onlyPost (req: IncomingMessage): void {
  if (req.method !== 'POST') throw new HttpError(405, HttpErrorCode.MethodNotAllowed, 'use POST', { allow: 'POST' })
}

/** Untrusted text for a message or a log line: bounded, control characters escaped by JSON later. */
function quote (text: string): string {
  return text.length > QUOTED_PATH_CHARS_MAX ? `${text.slice(0, QUOTED_PATH_CHARS_MAX)}…` : text
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }

/** Routes, also the `route` label's closed set of values (plus `other`). */
export const ROUTES = new Set(['/', '/healthz', '/readyz', '/metrics', '/v1/status', '/v1/sites', '/v1/plan', '/v1/openapi.json', '/v1/events', '/v1/signals', '/v1/debug/partition'])
