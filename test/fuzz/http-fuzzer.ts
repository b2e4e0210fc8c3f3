/**
 * Seeded fuzzing of the HTTP API of a live daemon, over raw sockets: random methods (unknown
 * ones too), request targets (`//`, `%` escapes, very long, unicode, absolute-form, `*`),
 * Host and other headers (huge, malformed, duplicated), framing (Content-Length right, wrong or
 * malformed, chunked, both), bodies (JSON, garbage, oversize), pipelined requests, HEAD on
 * every route; and in the background clients that dribble their bytes, requests that never
 * end, bursts of event streams beyond http.maxSseClients and of connections beyond
 * http.maxConnections.
 *
 * What must hold throughout:
 * - the daemon stays up, and /healthz answers 200 (checked every few requests and after every
 *   burst);
 * - every complete request is answered; every answer is well-formed HTTP: an error is JSON
 *   `{"error": {"code", "message"}}` with a known code, a success has a documented content type
 *   (JSON parses), HEAD has no body (checked by pipelining a request behind it);
 * - a request with a foreign Host never gets a 2xx, one with the daemon's own Host never a 421,
 *   and a mutating route answers 200 only to the right bearer token;
 * - event streams beyond the limit are refused, connections beyond the limit are dropped.
 *
 * One seed decides every request (`new Rng(seed).fork(i)` for request i); timing does the rest,
 * so a failure names its seed and index, and the request itself.
 */
import { Rng } from '../../node/core/rng.js'
import { HttpErrorCode } from '../../node/daemon/errors.js'
import { ROUTES } from '../../node/daemon/http-api.js'
import { RawConnection, type RawOutcome, type RawResponse } from '../daemon/raw-http.js'

export interface HttpFuzzTarget {
  port: number
  /** The bearer token of http.tokenFile. */
  token: string
  /** An upstream with a push signal, so POST /v1/signals can succeed (`upstream: true`). */
  pushService: string
  maxSseClients: number
  maxConnections: number
  maxBodyBytes: number
  maxHeaderBytes: number
  requestTimeoutMs: number
  /** False once the daemon's process has exited. */
  alive: () => boolean
}

export interface HttpFuzzOptions {
  seed: number
  requests: number
  timeBudgetMs?: number
  log?: (line: string) => void
}

export interface HttpFuzzFailure { seed: number, index: number, request: string, problem: string }

export interface HttpFuzzResult {
  seed: number
  /** Requests sent, in the foreground and the background. */
  requests: number
  answered: number
  byStatus: Record<string, number>
  /** Connections the daemon closed on purpose (past http.maxConnections): in bursts, and first requests closed unanswered while the daemon counted a drop. */
  connectionsDropped: number
  /** Event streams refused past http.maxSseClients. */
  streamsRefused: number
  /** Answers lost because the client pipelined bytes behind a request that closed its connection. */
  answersLostToReset: number
  healthChecks: number
  failures: HttpFuzzFailure[]
  failuresCount: number
  daemonCrashed: boolean
  elapsedMs: number
}

const FAILURES_KEPT_MAX = 20
/** Health checked every this many foreground requests. */
const HEALTH_EVERY = 25
/** A health check retries this long: connections past the cap are dropped, not queued. */
const HEALTH_RETRY_MS = 3000
const BACKGROUND_MAX = 6
const KNOWN_CODES = new Set<string>(Object.values(HttpErrorCode))
const SUCCESS_TYPES = [/^application\/json; charset=utf-8$/, /^text\/html; charset=utf-8$/, /^text\/plain; version=0\.0\.4; charset=utf-8$/, /^text\/event-stream$/]
const MUTATING = new Set(['/v1/signals', '/v1/debug/partition'])
const PROBE_PATHS = new Set(['/healthz', '/readyz'])
const ROUTE_LIST = [...ROUTES]

interface FuzzRequest {
  index: number
  bytes: Buffer
  method: string
  path: string
  /** 'own' (an allowed Host), 'foreign' (a host the daemon must refuse), 'other' (missing, malformed…). */
  host: 'own' | 'foreign' | 'other'
  authorized: boolean
  head: boolean
  /** The bytes form whole requests: the daemon must answer without waiting for more. */
  complete: boolean
  /** The connection may close after the answer (HTTP/1.0, Connection: close). */
  mayClose: boolean
}

/**
 * The bytes the foreground loop sends for index `index` of a run (one request, or the requests
 * of a pipelined connection), for replaying a failure by hand.
 */
export function fuzzRequestsAt (seed: number, index: number, target: HttpFuzzTarget): { mode: number, requests: Buffer[] } {
  const rng = new Rng(seed).fork(index)
  const mode = rng.next()
  const own = `127.0.0.1:${target.port}`
  if (mode < 0.80 || mode >= 0.88) return { mode, requests: [generate(rng, index, target, own).bytes] }
  return { mode, requests: pipelineOf(rng, index, target, own).map(r => r.bytes) }
}

function pipelineOf (rng: Rng, index: number, target: HttpFuzzTarget, own: string): FuzzRequest[] {
  const n = 2 + rng.int(3)
  const reqs: FuzzRequest[] = []
  for (let k = 0; k < n; k++) {
    const req = generate(rng, index, target, own)
    reqs.push(req.complete ? req : plainRequest('HEAD', pick(rng, ROUTE_LIST), own, index))
  }
  reqs.push(plainRequest('GET', '/healthz', own, index))
  return reqs
}

export async function fuzzHttp (target: HttpFuzzTarget, opts: HttpFuzzOptions): Promise<HttpFuzzResult> {
  return await new HttpFuzzer(target, opts).run()
}

class HttpFuzzer {
  private readonly r: HttpFuzzResult
  private readonly background = new Set<Promise<void>>()
  private readonly started = Date.now()
  private readonly own: string
  /** agentmesh_http_dropped_connections_total when the fuzzer last read it. */
  private dropsSeen = 0

  constructor (private readonly t: HttpFuzzTarget, private readonly o: HttpFuzzOptions) {
    this.r = { seed: o.seed, requests: 0, answered: 0, byStatus: {}, connectionsDropped: 0, streamsRefused: 0, answersLostToReset: 0, healthChecks: 0, failures: [], failuresCount: 0, daemonCrashed: false, elapsedMs: 0 }
    this.own = `127.0.0.1:${t.port}`
  }

  async run (): Promise<HttpFuzzResult> {
    await this.openConnections() // notes the drops so far
    await this.sweep()
    for (let i = 0; i < this.o.requests && !this.stopped(); i++) {
      const rng = new Rng(this.o.seed).fork(i)
      const mode = rng.next()
      if (mode < 0.80) {
        const req = generate(rng, i, this.t, this.own)
        // A request Node's parser may wait on (an unknown HTTP version) must not stall the loop.
        if (req.complete) await this.single(req)
        else this.inBackground(async () => { await this.incomplete(req) })
      }
      else if (mode < 0.88) await this.pipelined(rng, i)
      else if (mode < 0.93) this.inBackground(async () => { await this.slow(rng, generate(rng, i, this.t, this.own)) })
      else if (mode < 0.97) this.inBackground(async () => { await this.incomplete(generate(rng, i, this.t, this.own, true)) })
      else if (mode < 0.99) await this.streamBurst(i)
      else await this.connectionFlood(i)
      if (!this.t.alive()) { this.r.daemonCrashed = true; this.fail(i, '', 'the daemon exited'); break }
      if (i % HEALTH_EVERY === HEALTH_EVERY - 1) await this.health(i)
    }
    await Promise.allSettled([...this.background])
    if (!this.r.daemonCrashed) await this.health(-1)
    this.r.daemonCrashed ||= !this.t.alive()
    this.r.elapsedMs = Date.now() - this.started
    return this.r
  }

  private stopped (): boolean {
    return this.r.daemonCrashed || (this.o.timeBudgetMs !== undefined && Date.now() - this.started > this.o.timeBudgetMs)
  }

  /** Every route with GET and with HEAD, the daemon's own Host: the baseline before chaos. */
  private async sweep (): Promise<void> {
    for (const path of ROUTE_LIST) {
      for (const method of ['GET', 'HEAD']) {
        const req = plainRequest(method, path, this.own, -1)
        await this.single(req)
      }
    }
  }

  private inBackground (task: () => Promise<void>): void {
    if (this.background.size >= BACKGROUND_MAX) return
    const p = task().catch((err: unknown) => this.fail(-1, '', `background task threw ${String(err)}`)).finally(() => this.background.delete(p))
    this.background.add(p)
  }

  private async single (req: FuzzRequest): Promise<void> {
    const c = new RawConnection(this.t.port)
    try {
      await c.connected
      c.write(req.bytes)
      this.r.requests++
      await this.expectAnswer(c, req)
    } catch (err) {
      this.fail(req.index, req, `client error ${String(err)}`)
    } finally {
      c.close()
    }
  }

  /** Several requests on one connection, each answered in order; a HEAD's body would show here. */
  private async pipelined (rng: Rng, i: number): Promise<void> {
    const reqs = pipelineOf(rng, i, this.t, this.own)
    const c = new RawConnection(this.t.port)
    try {
      await c.connected
      for (const req of reqs) { c.write(req.bytes); this.r.requests++ }
      for (let k = 0; k < reqs.length; k++) {
        const req = reqs[k]
        // Bytes pipelined behind a request that closes its connection: the daemon closes
        // after answering it, and the unread bytes make that close a TCP reset (Node's server
        // closes at once, not in stages as RFC 9112 §9.6 advises), which discards whatever
        // the client has not read yet, earlier answers included.
        const resetMayLoseIt = reqs.slice(0, -1).some(r => r.mayClose)
        const closing = await this.expectAnswer(c, req, resetMayLoseIt, k === 0)
        if (closing || !req.complete || req.path === '/v1/events') break
      }
    } catch (err) {
      this.fail(i, reqs[0], `client error ${String(err)}`)
    } finally {
      c.close()
    }
  }

  /** The next final answer (past any 100 Continue), or what happened instead. */
  private async readFinal (c: RawConnection, req: FuzzRequest): Promise<RawOutcome> {
    let o = await c.read(this.t.requestTimeoutMs + 3000, req.head)
    while (o.kind === 'response' && o.response.status === 100) o = await c.read(this.t.requestTimeoutMs + 3000, req.head)
    return o
  }

  /** Reads and checks one answer; true when the connection will not carry another. */
  private async expectAnswer (c: RawConnection, req: FuzzRequest, resetMayLoseIt = false, first = true): Promise<boolean> {
    let o: RawOutcome
    try {
      o = await this.readFinal(c, req)
    } catch (err) {
      this.fail(req.index, req, `the answer is not HTTP: ${String(err)}`)
      return true
    }
    if (o.kind !== 'response') {
      if (o.kind === 'closed' && resetMayLoseIt) this.r.answersLostToReset++
      else if (o.kind === 'closed' && first && await this.droppedSinceLastLook()) this.r.connectionsDropped++
      else if (req.complete && !this.r.daemonCrashed) this.fail(req.index, req, o.kind === 'closed' ? 'closed without an answer' : 'no answer in time')
      return true
    }
    this.check(req, o.response)
    return o.response.headers.connection === 'close' || req.mayClose
  }

  private check (req: FuzzRequest, res: RawResponse): void {
    this.r.answered++
    this.r.byStatus[res.status] = (this.r.byStatus[res.status] ?? 0) + 1
    const bad = (problem: string): void => this.fail(req.index, req, `${problem} (status ${res.status}, body ${JSON.stringify(res.body.subarray(0, 200).toString('utf8'))})`)
    if (res.status < 200 || res.status > 599) return bad('status out of range')
    if (res.status === 500) return bad('a handler failed (a bug, answered E_HTTP_INTERNAL)')
    const type = res.headers['content-type'] ?? ''
    if (req.host === 'foreign' && res.status < 300) bad('a foreign Host was answered')
    if (req.host === 'own' && res.status === 421) bad('the daemon\'s own Host was refused')
    if (MUTATING.has(req.path) && req.method === 'POST' && res.status === 200 && !req.authorized) bad('a mutating route answered without the token')
    // /healthz and /readyz answer 503 with their own documented body, not an error.
    if (res.status === 503 && PROBE_PATHS.has(req.path) && req.method !== 'POST') {
      if (!/^application\/json/.test(type)) return bad(`a probe answer with content type ${type}`)
      if (req.head) return
      try {
        const body = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>
        if (typeof body.reason !== 'string') bad('a probe answer without a reason')
      } catch { bad('a probe answer that is not JSON') }
      return
    }
    if (res.status >= 400) {
      if (!/^application\/json/.test(type)) return bad(`an error with content type ${type}`)
      if (req.head) return
      let code: unknown
      try {
        const body = JSON.parse(res.body.toString('utf8')) as { error?: { code?: unknown, message?: unknown } }
        code = body.error?.code
        if (typeof body.error?.message !== 'string') return bad('an error without a message')
      } catch {
        return bad('an error body that is not JSON')
      }
      if (typeof code !== 'string' || !KNOWN_CODES.has(code)) bad(`an unknown error code ${String(code)}`)
      return
    }
    if (!SUCCESS_TYPES.some(re => re.test(type))) return bad(`content type ${type}`)
    if (type === 'text/event-stream' && req.path !== '/v1/events') bad('an event stream on another route')
    if (/^application\/json/.test(type) && !req.head) {
      try { JSON.parse(res.body.toString('utf8')) } catch { bad('a JSON answer that does not parse') }
    }
  }

  /** A complete request sent a few bytes at a time: answered, or refused 408 once too slow. */
  private async slow (rng: Rng, req: FuzzRequest): Promise<void> {
    const c = new RawConnection(this.t.port)
    try {
      await c.connected
      this.r.requests++
      let at = 0
      while (at < req.bytes.length && !c.closed) {
        const n = 1 + rng.int(8)
        c.write(req.bytes.subarray(at, at + n))
        at += n
        await new Promise(resolve => setTimeout(resolve, 20 + rng.int(200)))
      }
      const o = await this.readFinal(c, req)
      if (o.kind === 'response') this.check(req, o.response)
      else if (o.kind === 'timeout') this.fail(req.index, req, 'a slow client was neither answered nor timed out')
    } finally {
      c.close()
    }
  }

  /** A request that never ends: the daemon answers (401, 413…) or times it out (408), or closes. */
  private async incomplete (req: FuzzRequest): Promise<void> {
    const c = new RawConnection(this.t.port)
    try {
      await c.connected
      c.write(req.bytes)
      this.r.requests++
      const o = await this.readFinal(c, req)
      if (o.kind === 'response') this.check(req, o.response)
      else if (o.kind === 'timeout') this.fail(req.index, req, 'an incomplete request held its connection past http.requestTimeoutMs')
    } finally {
      c.close()
    }
  }

  /** More event streams at once than allowed: the extra ones are refused with 503. */
  private async streamBurst (i: number): Promise<void> {
    const n = this.t.maxSseClients + 3
    const conns = Array.from({ length: n }, () => new RawConnection(this.t.port))
    try {
      const outcomes = await Promise.all(conns.map(async c => {
        await c.connected
        c.write(plainRequest('GET', '/v1/events', this.own, i).bytes)
        this.r.requests++
        return await c.read(this.t.requestTimeoutMs + 3000)
      }))
      let open = 0
      for (const o of outcomes) {
        if (o.kind !== 'response') { this.fail(i, 'GET /v1/events (burst)', `an event stream request got ${o.kind}`); continue }
        const req = plainRequest('GET', '/v1/events', this.own, i)
        this.check(req, o.response)
        if (o.response.status === 200) open++
        else if (o.response.status === 503) this.r.streamsRefused++
        else this.fail(i, 'GET /v1/events (burst)', `status ${o.response.status}`)
      }
      if (open > this.t.maxSseClients) this.fail(i, 'GET /v1/events (burst)', `${open} streams open, over http.maxSseClients ${this.t.maxSseClients}`)
      if (open === n) this.fail(i, 'GET /v1/events (burst)', 'no stream was refused')
    } finally {
      for (const c of conns) c.close()
    }
    await this.health(i)
    await this.drained(i)
  }

  /** More connections than allowed: the daemon drops the extra ones and keeps serving after. */
  private async connectionFlood (i: number): Promise<void> {
    const n = this.t.maxConnections + 8
    const conns = Array.from({ length: n }, () => new RawConnection(this.t.port))
    try {
      await Promise.all(conns.map(async c => await c.connected.catch(() => {})))
      const dropped = await waitUntil(() => conns.filter(c => c.closed).length >= 8, 3000)
      const count = conns.filter(c => c.closed).length
      this.r.connectionsDropped += count
      if (!dropped) this.fail(i, `${n} idle connections`, `only ${count} were dropped past http.maxConnections ${this.t.maxConnections}`)
    } finally {
      for (const c of conns) c.close()
    }
    await this.health(i)
    await this.drained(i)
  }

  /**
   * After a burst the daemon still counts the connections it has not seen close; a request sent
   * meanwhile could be dropped past http.maxConnections, which is right but not what the next
   * check expects. Waits (bounded) until the daemon's own gauge shows them gone.
   */
  private async drained (i: number): Promise<void> {
    const ok = await waitUntilAsync(async () => {
      const n = await this.openConnections()
      return n !== undefined && n <= BACKGROUND_MAX + this.t.maxSseClients + 2
    }, HEALTH_RETRY_MS)
    if (!ok) this.fail(i, 'GET /metrics', `connections still open ${HEALTH_RETRY_MS} ms after a burst closed its own`)
  }

  private async openConnections (): Promise<number | undefined> {
    const text = await this.metricsText()
    if (text === undefined) return undefined
    this.dropsSeen = Math.max(this.dropsSeen, metricValue(text, 'agentmesh_http_dropped_connections_total') ?? 0)
    const open = metricValue(text, 'agentmesh_http_connections')
    return open === undefined ? undefined : open - 1 // less this request's own connection
  }

  /**
   * Whether the daemon dropped a connection past http.maxConnections since the fuzzer last
   * looked: a connection closed before its first answer is then one of those (background
   * clients and lingering closes count against the cap too), not a lost answer.
   */
  private async droppedSinceLastLook (): Promise<boolean> {
    const text = await this.metricsText()
    const drops = text === undefined ? undefined : metricValue(text, 'agentmesh_http_dropped_connections_total')
    if (drops === undefined || drops <= this.dropsSeen) return false
    this.dropsSeen = drops
    return true
  }

  private async metricsText (): Promise<string | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const c = new RawConnection(this.t.port)
      try {
        await c.connected
        c.write(plainRequest('GET', '/metrics', this.own, -1).bytes)
        const o = await c.read(2000)
        if (o.kind === 'response' && o.response.status === 200) return o.response.body.toString('utf8')
      } catch {
        // dropped at the cap, say: try again
      } finally {
        c.close()
      }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    return undefined
  }

  private async health (i: number): Promise<void> {
    this.r.healthChecks++
    const deadline = Date.now() + HEALTH_RETRY_MS
    let last = ''
    while (Date.now() < deadline) {
      if (!this.t.alive()) { this.r.daemonCrashed = true; this.fail(i, 'GET /healthz', 'the daemon exited'); return }
      const c = new RawConnection(this.t.port)
      try {
        await c.connected
        c.write(plainRequest('GET', '/healthz', this.own, i).bytes)
        const o = await c.read(2000)
        if (o.kind === 'response' && o.response.status === 200) return
        last = o.kind === 'response' ? `status ${o.response.status}` : o.kind
      } catch (err) {
        last = String(err)
      } finally {
        c.close()
      }
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    this.fail(i, 'GET /healthz', `no 200 within ${HEALTH_RETRY_MS} ms (last: ${last})`)
  }

  private fail (index: number, req: FuzzRequest | string, problem: string): void {
    this.r.failuresCount++
    const request = typeof req === 'string' ? req : JSON.stringify(req.bytes.subarray(0, 300).toString('latin1'))
    if (this.r.failures.length < FAILURES_KEPT_MAX) this.r.failures.push({ seed: this.o.seed, index, request, problem })
    this.o.log?.(`http fuzz failure: seed ${this.o.seed} request ${index}: ${problem}: ${request}`)
  }
}

async function waitUntil (cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) return false
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return true
}

function metricValue (text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text)
  return m === null ? undefined : Number(m[1])
}

async function waitUntilAsync (cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) return false
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return true
}

function plainRequest (method: string, path: string, host: string, index: number): FuzzRequest {
  return {
    index, method, path, host: 'own', authorized: false, head: method === 'HEAD', complete: true, mayClose: false,
    bytes: Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'latin1'),
  }
}

// ---- generation ---------------------------------------------------------------------------

function pick<T> (rng: Rng, xs: readonly T[]): T { return xs[rng.int(xs.length)] }

function chance (rng: Rng, p: number): boolean { return rng.next() < p }

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'HEAD', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'FROB', 'get', 'G@T', 'CONNECT']

/** A request target, and the route it names when it names one ('' otherwise). */
function genTarget (rng: Rng, t: HttpFuzzTarget, own: string): { target: string, path: string, absoluteHost?: 'own' | 'foreign' } {
  const route = pick(rng, ROUTE_LIST)
  switch (rng.int(12)) {
    case 0: case 1: case 2: case 3: return { target: route, path: route }
    case 4: return { target: `${route}?${randomText(rng, 40, true)}`, path: route }
    case 5: return chance(rng, 0.1) ? { target: `${route}#frag`, path: route } : { target: pick(rng, ['//', '///', '//[', '//:99999', '//user@', '//' + randomText(rng, 20, true), '/%', '/%zz', '/%00', '/%C3%A9', '/v1/%2e%2e/status', '/v1/../v1/status']), path: '' }
    case 6: { const n = chance(rng, 0.5) ? rng.int(2000) : t.maxHeaderBytes + rng.int(4000); return { target: '/' + 'a'.repeat(n), path: '' } }
    case 7: return { target: pick(rng, ['/é/🌍', '/v1/stätus', '/\u00ff', '/日本']), path: '' }
    case 8: {
      const foreign = chance(rng, 0.5)
      const host = foreign ? pick(rng, ['evil.example', 'x', `evil.example:${t.port}`, '[::2]:1']) : pick(rng, [own, `localhost:${t.port}`, `[::1]:${t.port}`])
      return { target: `${pick(rng, ['http', 'https', 'HTTP'])}://${host}${route}`, path: route, absoluteHost: foreign ? 'foreign' : 'own' }
    }
    case 9: return { target: pick(rng, ['*', 'ftp://x/', 'http://', 'http://user@host/', 'mailto:x', 'http:/x', 'x']), path: '' }
    case 10: return { target: '/' + randomText(rng, 60, false), path: '' }
    default: return { target: route + pick(rng, ['/', '//', '.', '%20', '/..']), path: '' }
  }
}

function randomText (rng: Rng, max: number, safe: boolean): string {
  const n = rng.int(max + 1)
  let s = ''
  for (let i = 0; i < n; i++) {
    const c = safe ? 0x21 + rng.int(0x5e) : rng.int(0x80)
    s += String.fromCharCode(c)
  }
  return s
}

function genJson (rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 5 : 7)) {
    case 0: return null
    case 1: return chance(rng, 0.5)
    case 2: return pick(rng, [0, -1, 1e308, -0, 0.5, 2 ** 53, 42])
    case 3: return randomText(rng, 20, true)
    case 4: return pick(rng, ['service', 'value', 'partitioned', 'signals', ''])
    case 5: return Array.from({ length: rng.int(4) }, () => genJson(rng, depth + 1))
    default: return Object.fromEntries(Array.from({ length: rng.int(4) }, () => [pick(rng, ['service', 'value', 'upstream', 'signals', 'partitioned', '__proto__', 'x']), genJson(rng, depth + 1)]))
  }
}

function genBody (rng: Rng, t: HttpFuzzTarget): Buffer {
  switch (rng.int(8)) {
    case 0: case 1: return Buffer.alloc(0)
    case 2: return Buffer.from(JSON.stringify({ service: t.pushService, value: pick(rng, [0, 0.5, 1, 17.5, -3, 1e308]), ...(chance(rng, 0.8) ? { upstream: true } : chance(rng, 0.5) ? { upstream: 'yes' } : {}) }))
    case 3: return Buffer.from(JSON.stringify(pick(rng, [{ partitioned: false }, { partitioned: 'yes' }, { signals: [{ service: t.pushService, value: 0.2, upstream: true }, { service: 'nope', value: 1 }] }, { signals: 'x' }])))
    case 4: return Buffer.from(JSON.stringify(genJson(rng)) ?? 'null')
    case 5: return Buffer.from(Array.from({ length: rng.int(200) }, () => rng.int(256)))
    case 6: return Buffer.alloc(t.maxBodyBytes + 1 + rng.int(2000), 0x61)
    default: return Buffer.from(pick(rng, ['{', '{"service":', '[]', '"x"', '{"value": NaN}', '\u0000']))
  }
}

/** One random request; `incomplete` makes it one that never ends. */
function generate (rng: Rng, index: number, t: HttpFuzzTarget, own: string, incomplete = false): FuzzRequest {
  const method = pick(rng, METHODS)
  const { target, path, absoluteHost } = genTarget(rng, t, own)
  const version = chance(rng, 0.85) ? 'HTTP/1.1' : chance(rng, 0.7) ? 'HTTP/1.0' : pick(rng, ['HTTP/2.0', 'HTTP/1.2', 'HTTP/9.9', 'http/1.1', 'HTTP/1', ''])
  const headers: Array<[string, string]> = []
  let host: FuzzRequest['host'] = 'own'
  const hostChoice = rng.next()
  if (hostChoice < 0.6) headers.push(['Host', own])
  else if (hostChoice < 0.7) headers.push(['Host', pick(rng, [`localhost:${t.port}`, `[::1]:${t.port}`, `LOCALHOST:${t.port}`])])
  else if (hostChoice < 0.8) { headers.push(['Host', pick(rng, ['evil.example', `evil.example:${t.port}`, `127.0.0.1:${t.port + 1}`, `rebind.attacker.test:${t.port}`])]); host = 'foreign' }
  else if (hostChoice < 0.85) host = 'other'
  else { headers.push(['Host', pick(rng, ['', ' ', 'a b', '[::1', `127.0.0.1:${t.port}, evil`, 'é.example', 'x'.repeat(300), `${own}:1`])]); host = 'other' }
  if (absoluteHost !== undefined) host = absoluteHost
  if (chance(rng, 0.05)) { headers.push(['Host', 'evil.example']); host = 'other' }
  const authorized = chance(rng, 0.4)
  if (authorized) headers.push(['Authorization', `Bearer ${t.token}`])
  else if (chance(rng, 0.2)) headers.push(['Authorization', pick(rng, ['Bearer ', 'Bearer x', `Bearer ${t.token}x`, 'Basic YTpi', 'Bearer ' + 'z'.repeat(5000)])])
  if (chance(rng, 0.1)) headers.push(['Origin', pick(rng, ['https://evil.example', 'null', `http://${own}`, 'http://localhost:1', 'garbage'])])
  if (chance(rng, 0.1)) headers.push(['Sec-Fetch-Site', pick(rng, ['cross-site', 'same-site', 'same-origin', 'none', 'x'])])
  if (chance(rng, 0.1)) headers.push(['Last-Event-ID', pick(rng, ['0', '-1', '1e309', 'abc', '99999999999999999999', ''])])
  if (chance(rng, 0.05)) headers.push(['Expect', pick(rng, ['100-continue', 'teapot'])])
  const upgrade = chance(rng, 0.05)
  if (upgrade) { headers.push(['Connection', 'Upgrade']); headers.push(['Upgrade', pick(rng, ['websocket', 'h2c'])]) }
  const closing = chance(rng, 0.1) || upgrade
  if (closing && !upgrade) headers.push(['Connection', 'close'])
  if (chance(rng, 0.05)) headers.push(['X-Huge', 'v'.repeat(chance(rng, 0.5) ? 1000 : t.maxHeaderBytes)])
  if (chance(rng, 0.05)) for (let k = rng.int(300); k > 0; k--) headers.push([`X-Many-${k}`, String(k)])
  if (chance(rng, 0.03)) headers.push([pick(rng, ['Bad Name', 'Bad:Name', 'É', '']), 'x'])
  if (chance(rng, 0.03)) headers.push(['X-Ctl', 'a\u0001b'])
  const body = genBody(rng, t)
  let framed: Buffer = body
  let complete = !incomplete
  const framing = rng.int(10)
  if (incomplete) {
    headers.push(['Content-Length', String(body.length + 1 + rng.int(100))])
  } else if (framing < 6) {
    if (body.length > 0 || chance(rng, 0.3)) headers.push(['Content-Length', String(body.length)])
  } else if (framing < 8) {
    headers.push(['Transfer-Encoding', 'chunked'])
    framed = chunked(rng, body)
  } else if (framing < 9) {
    // Malformed values Node refuses; and one it takes (surrounding white space), kept right.
    headers.push(['Content-Length', pick(rng, ['abc', '-1', '1e3', '0x10', '99999999999999999999', '5, 5', `  ${body.length} `])])
  } else {
    headers.push(['Content-Length', String(body.length)])
    headers.push([chance(rng, 0.5) ? 'Transfer-Encoding' : 'Content-Length', chance(rng, 0.5) ? 'chunked' : String(body.length + 1)])
  }
  if (framed.length > 0 && headers.every(([k]) => k !== 'Content-Length' && k !== 'Transfer-Encoding')) framed = Buffer.alloc(0)
  const head = `${method} ${target}${version === '' ? '' : ' ' + version}\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}${headers.length > 0 ? '\r\n' : ''}\r\n`
  // An HTTP/1.0 request's connection closes after its answer unless it asks to keep it.
  const mayClose = closing || version !== 'HTTP/1.1'
  // Unknown versions and request lines without one may leave Node's parser waiting for more.
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') complete = false
  return { index, bytes: Buffer.concat([Buffer.from(head, 'utf8'), framed]), method, path, host, authorized, head: method === 'HEAD', complete, mayClose }
}

function chunked (rng: Rng, body: Buffer): Buffer {
  const parts: Buffer[] = []
  let at = 0
  while (at < body.length) {
    const n = 1 + rng.int(Math.max(1, body.length - at))
    const ext = chance(rng, 0.1) ? ';x=y' : ''
    parts.push(Buffer.from(`${n.toString(16)}${ext}\r\n`), body.subarray(at, at + n), Buffer.from('\r\n'))
    at += n
  }
  parts.push(Buffer.from(chance(rng, 0.1) ? '0\r\nX-Trailer: t\r\n\r\n' : '0\r\n\r\n'))
  return Buffer.concat(parts)
}
