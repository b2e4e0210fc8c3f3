/**
 * Issue 11: no request may stop a supervisor or starve its health checks. Each test names the
 * request that used to do harm; all run against the real HttpApi on loopback, raw sockets where
 * fetch would not send the request.
 */
import type { StatusResponse } from '../../node/daemon/api-schema.js'
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { defaultHttpConfig, type DaemonConfig } from '../../node/daemon/config.js'
import { HttpErrorCode } from '../../node/daemon/errors.js'
import { EventLog } from '../../node/daemon/event-log.js'
import { HttpApi, type ApiSource } from '../../node/daemon/http-api.js'
import { DaemonMetrics } from '../../node/daemon/metrics.js'
import { errorCode, RawConnection, rawRequest, requestText, type RawOutcome, type RawResponse } from './raw-http.js'

const source = (over: Partial<ApiSource> = {}): ApiSource => ({
  status: () => ({ hostId: 'h1' }) as unknown as StatusResponse,
  sites: () => ({ sites: [] }),
  plan: () => ({ site: 's', plan: null, leader: null }),
  openApi: async () => ({}),
  ready: () => ({ ready: true, reason: 'leading the site' }),
  healthy: () => ({ healthy: true, reason: 'ok' }),
  pushSignals: () => ({ accepted: 0 }),
  ...over,
})

interface Running { api: HttpApi, port: number, metrics: DaemonMetrics, host: string }

async function startApi (http: Partial<DaemonConfig['http']>, over: Partial<ApiSource> = {}, clock: () => number = Date.now): Promise<Running> {
  const metrics = new DaemonMetrics()
  const api = new HttpApi({ http: defaultHttpConfig(http), token: undefined }, { source: source(over), events: new EventLog(8), metrics, log: pino({ level: 'silent' }), clock })
  const a = await api.start()
  return { api, port: a.port, metrics, host: `127.0.0.1:${a.port}` }
}

function response (o: RawOutcome, what: string): RawResponse {
  assert.equal(o.kind, 'response', `${what}: expected an answer, the server ${o.kind === 'closed' ? 'closed the connection' : 'did not answer in time'}`)
  return (o as { response: RawResponse }).response
}

/** The answer is JSON `{"error": {"code"}}` with this status and code. */
function assertRefusal (o: RawOutcome, status: number, code: string, what: string): void {
  const r = response(o, what)
  assert.equal(r.status, status, `${what}: status ${r.status}, body ${r.body.toString()}`)
  assert.match(r.headers['content-type'] ?? '', /^application\/json/, `${what}: content type`)
  assert.equal(errorCode(r), code, `${what}: body ${r.body.toString()}`)
}

async function metricValue (metrics: DaemonMetrics, name: string): Promise<number> {
  const m = (await metrics.registry.getSingleMetric(name)?.get())
  return m?.values.reduce((a, v) => a + v.value, 0) ?? 0
}

describe('HTTP API hardening (issue 11)', () => {
  let main: Running
  before(async () => { main = await startApi({ maxSseClients: 1 }) })
  after(async () => { await main.api.stop() })

  it('answers request targets new URL() cannot parse (//, ///, //[, //:99999) instead of dying, and keeps serving', async () => {
    for (const target of ['//', '///', '//[', '//:99999', '//user@', '/%', '/%zz', 'http://[/', 'http:///', 'mailto:x', '*']) {
      const o = await rawRequest(main.port, requestText('GET', target, main.host))
      const r = response(o, `GET ${target}`)
      assert.ok(r.status === 400 || r.status === 404 || r.status === 421, `GET ${target}: ${r.status}`)
      assert.ok([HttpErrorCode.BadRequest, HttpErrorCode.NotFound, HttpErrorCode.HostRefused].includes(errorCode(r) as never), `GET ${target}: ${r.body.toString()}`)
    }
    assert.equal(response(await rawRequest(main.port, requestText('GET', '/healthz', main.host)), 'healthz').status, 200)
  })

  it('answers only its own Host names (DNS rebinding): 421 E_HTTP_HOST_REFUSED for others', async () => {
    const get = async (target: string, host: string | null, headers: Record<string, string> = {}): Promise<RawOutcome> => await rawRequest(main.port, requestText('GET', target, host, headers))
    for (const host of [main.host, `localhost:${main.port}`, `LOCALHOST.:${main.port}`, `[::1]:${main.port}`, `[0:0:0:0:0:0:0:1]:${main.port}`]) {
      assert.equal(response(await get('/v1/status', host), host).status, 200, host)
    }
    for (const host of [`evil.example:${main.port}`, 'evil.example', '127.0.0.1', `127.0.0.1:${main.port + 1}`, `10.0.0.1:${main.port}`, `localhost:${main.port}@evil`, '', 'a b']) {
      assertRefusal(await get('/v1/status', host), 421, HttpErrorCode.HostRefused, `Host: ${host}`)
    }
    // An absolute-form target names the host instead of the Host header (RFC 9112 §3.2.2).
    assertRefusal(await get(`http://evil.example:${main.port}/v1/status`, main.host), 421, HttpErrorCode.HostRefused, 'absolute-form, other host')
    assert.equal(response(await get(`http://${main.host}/v1/status`, main.host), 'absolute-form, own host').status, 200)
    assertRefusal(await get('/v1/status', null), 400, HttpErrorCode.BadRequest, 'HTTP/1.1 without Host')
    assert.equal(response(await rawRequest(main.port, 'GET /v1/status HTTP/1.0\r\n\r\n'), 'HTTP/1.0 without Host').status, 200)
  })

  it('refuses browser requests from other sites (Origin, Sec-Fetch-Site) with 403 E_HTTP_CROSS_SITE', async () => {
    const get = async (headers: Record<string, string>): Promise<RawOutcome> => await rawRequest(main.port, requestText('GET', '/v1/events', main.host, headers))
    assertRefusal(await get({ origin: 'https://evil.example' }), 403, HttpErrorCode.CrossSite, 'Origin evil')
    assertRefusal(await get({ origin: 'null' }), 403, HttpErrorCode.CrossSite, 'Origin null')
    assertRefusal(await get({ 'sec-fetch-site': 'cross-site' }), 403, HttpErrorCode.CrossSite, 'cross-site')
    assertRefusal(await get({ 'sec-fetch-site': 'same-site' }), 403, HttpErrorCode.CrossSite, 'same-site (another localhost port)')
    const same = await rawRequest(main.port, requestText('HEAD', '/v1/events', main.host, { origin: `http://${main.host}`, 'sec-fetch-site': 'same-origin' }), 3000, true)
    assert.equal(response(same, 'same origin').status, 200)
  })

  it('takes http.allowedHosts, and any address with the port when listening on 0.0.0.0', async () => {
    const extra = await startApi({ allowedHosts: ['agentmesh.internal', 'proxy.local:8443', '[fd00::1]'] })
    const wild = await startApi({ host: '0.0.0.0' })
    try {
      const status = async (r: Running, host: string): Promise<number> => response(await rawRequest(r.port, requestText('GET', '/v1/status', host)), host).status
      assert.equal(await status(extra, 'agentmesh.internal:9999'), 200)
      assert.equal(await status(extra, 'agentmesh.internal'), 200)
      assert.equal(await status(extra, 'proxy.local:8443'), 200)
      assert.equal(await status(extra, 'proxy.local:8444'), 421)
      assert.equal(await status(extra, '[fd00:0::1]:1'), 200)
      assert.equal(await status(wild, `10.1.2.3:${wild.port}`), 200)
      assert.equal(await status(wild, `0.0.0.0:${wild.port}`), 200)
      assert.equal(await status(wild, `${hostname()}:${wild.port}`), 200)
      assert.equal(await status(wild, `10.1.2.3:${wild.port + 1}`), 421)
      assert.equal(await status(wild, `evil.example:${wild.port}`), 421)
    } finally {
      await extra.api.stop()
      await wild.api.stop()
    }
  })

  it('answers HEAD /v1/events with the headers only and takes no stream slot', async () => {
    const head = await rawRequest(main.port, requestText('HEAD', '/v1/events', main.host), 2000, true)
    const r = response(head, 'HEAD /v1/events')
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], 'text/event-stream')
    assert.equal(await metricValue(main.metrics, 'agentmesh_http_event_streams'), 0)
    // The one slot is still free for a GET; with it taken, HEAD says what GET would.
    const ctrl = new AbortController()
    const stream = await fetch(`http://${main.host}/v1/events`, { signal: ctrl.signal })
    assert.equal(stream.status, 200)
    assert.equal(response(await rawRequest(main.port, requestText('HEAD', '/v1/events', main.host), 2000, true), 'HEAD with every slot taken').status, 503)
    ctrl.abort()
  })

  it('answers HEAD on every route without a body', async () => {
    for (const path of ['/', '/healthz', '/readyz', '/metrics', '/v1/status', '/v1/sites', '/v1/plan', '/v1/signals', '/v1/debug/partition', '/nope']) {
      const c = new RawConnection(main.port)
      await c.connected
      c.write(requestText('HEAD', path, main.host))
      c.write(requestText('GET', '/healthz', main.host))
      const r = response(await c.read(2000, true), `HEAD ${path}`)
      assert.ok([200, 404, 405].includes(r.status), `HEAD ${path}: ${r.status}`)
      // Were a body sent after HEAD's headers, it would be read as the next response.
      assert.equal(response(await c.read(2000), `GET after HEAD ${path}`).status, 200, `HEAD ${path} sent a body`)
      c.close()
    }
  })

  it('answers malformed HTTP, CONNECT and unmet expectations in JSON with a code', async () => {
    const cases: Array<[string, string, number, string]> = [
      ['bad Content-Length', `POST /v1/signals HTTP/1.1\r\nHost: ${main.host}\r\nContent-Length: abc\r\n\r\n`, 400, HttpErrorCode.BadRequest],
      ['Content-Length and chunked', `POST /v1/signals HTTP/1.1\r\nHost: ${main.host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, HttpErrorCode.BadRequest],
      ['unknown method', `FROB / HTTP/1.1\r\nHost: ${main.host}\r\n\r\n`, 400, HttpErrorCode.BadRequest],
      ['not HTTP', 'hello\r\n\r\n', 400, HttpErrorCode.BadRequest],
      ['huge header', requestText('GET', '/healthz', main.host, { 'x-pad': 'a'.repeat(20_000) }), 431, HttpErrorCode.HeadersTooLarge],
      ['CONNECT', `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n`, 405, HttpErrorCode.MethodNotAllowed],
      ['Expect', requestText('GET', '/healthz', main.host, { expect: 'teapot' }), 417, HttpErrorCode.BadRequest],
    ]
    for (const [what, text, status, code] of cases) assertRefusal(await rawRequest(main.port, text), status, code, what)
    assert.equal(response(await rawRequest(main.port, requestText('GET', '/healthz', main.host)), 'healthz').status, 200)
  })

  it('answers malformed requests pipelined behind good ones in order, after their answers', async () => {
    const c = new RawConnection(main.port)
    try {
      await c.connected
      // /metrics answers asynchronously: the refusal must not overtake it.
      c.write(requestText('GET', '/metrics', main.host) + requestText('HEAD', '/healthz', main.host) + `FROB / HTTP/1.1\r\nHost: ${main.host}\r\n\r\n`)
      const metrics = response(await c.read(2000), 'GET /metrics')
      assert.equal(metrics.status, 200)
      assert.match(metrics.body.toString(), /agentmesh_http_requests_total/)
      assert.equal(response(await c.read(2000, true), 'HEAD /healthz').status, 200)
      assertRefusal(await c.read(2000), 400, HttpErrorCode.BadRequest, 'FROB after them')
      assert.ok(await c.waitClosed(2000))
    } finally {
      c.close()
    }
  })

  it('closes the connection after a request asking for a protocol upgrade, which nothing after it would get', async () => {
    const c = new RawConnection(main.port)
    try {
      await c.connected
      c.write(requestText('GET', '/healthz', main.host, { connection: 'Upgrade', upgrade: 'websocket' }) + requestText('GET', '/healthz', main.host))
      const r = response(await c.read(2000), 'GET with Upgrade')
      assert.equal(r.status, 200)
      assert.equal(r.headers.connection, 'close')
      assert.ok(await c.waitClosed(2000), 'closed rather than left deaf')
    } finally {
      c.close()
    }
  })

  it('survives CONNECT and malformed requests from clients that are gone before the answer', async () => {
    // A reset right behind the request: the answer meets EPIPE or ECONNRESET.
    for (let i = 0; i < 30; i++) {
      for (const text of [`CONNECT x:1 HTTP/1.1\r\nHost: x:1\r\n\r\n`, 'FROB / HTTP/1.1\r\n\r\n']) {
        const c = new RawConnection(main.port)
        await c.connected
        c.socket.write(text, () => c.socket.resetAndDestroy())
      }
    }
    assert.equal(response(await rawRequest(main.port, requestText('GET', '/healthz', main.host)), 'healthz').status, 200)
  })

  it('answers a failing handler with 500 E_HTTP_INTERNAL and goes on', async () => {
    const broken = await startApi({}, { status: () => { throw new TypeError('a bug') } })
    try {
      assertRefusal(await rawRequest(broken.port, requestText('GET', '/v1/status', broken.host)), 500, HttpErrorCode.Internal, 'a throwing handler')
      assert.equal(response(await rawRequest(broken.port, requestText('GET', '/healthz', broken.host)), 'healthz').status, 200)
    } finally {
      await broken.api.stop()
    }
  })

  it('closes connections past http.maxConnections at once and counts them', async () => {
    const capped = await startApi({ maxConnections: 3, maxSseClients: 1 })
    const open: RawConnection[] = []
    try {
      for (let i = 0; i < 3; i++) {
        const c = new RawConnection(capped.port)
        await c.connected
        c.write(requestText('GET', '/healthz', capped.host))
        assert.equal(response(await c.read(2000), 'keep-alive request').status, 200)
        open.push(c)
      }
      const extra = new RawConnection(capped.port)
      await extra.connected.catch(() => {})
      extra.write(requestText('GET', '/healthz', capped.host))
      assert.ok(await extra.waitClosed(3000), 'a fourth connection is closed')
      assert.equal((await extra.read(10)).kind, 'closed', 'without an answer')
      assert.equal(await metricValue(capped.metrics, 'agentmesh_http_dropped_connections_total'), 1)
      open.pop()!.close()
      const again = await (async () => {
        for (let i = 0; i < 50; i++) {
          const o = await rawRequest(capped.port, requestText('GET', '/healthz', capped.host))
          if (o.kind === 'response') return o
        }
        return undefined
      })()
      assert.equal(again?.kind, 'response', 'a slot frees when a connection closes')
    } finally {
      for (const c of open) c.close()
      await capped.api.stop()
    }
  })

  it('limits per connection and per address, and a flood from 127.0.0.1 does not starve /healthz', async () => {
    const nowMs = 1_000_000 // no refill during the test
    const limited = await startApi({ requestsPerSecond: 10, requestBurst: 10, connectionRequestsPerSecond: 5, connectionRequestBurst: 5 }, {}, () => nowMs)
    const conns: RawConnection[] = []
    const conn = async (): Promise<RawConnection> => { const c = new RawConnection(limited.port); await c.connected; conns.push(c); return c }
    const ask = async (c: RawConnection, path: string): Promise<RawResponse> => { c.write(requestText('GET', path, limited.host)); return response(await c.read(2000), path) }
    try {
      const a = await conn()
      for (let i = 0; i < 5; i++) assert.equal((await ask(a, '/v1/status')).status, 200)
      const sixth = await ask(a, '/v1/status')
      assert.equal(sixth.status, 429, 'one connection is held to its own bucket')
      assert.equal(errorCode(sixth), HttpErrorCode.RateLimited)
      const b = await conn()
      for (let i = 0; i < 5; i++) assert.equal((await ask(b, '/v1/status')).status, 200, 'another connection still has its share')
      const c = await conn()
      assert.equal((await ask(c, '/v1/status')).status, 429, 'the address as a whole is bounded')
      assert.equal((await ask(c, '/healthz')).status, 200, 'health probes are not starved by the flood')
      assert.equal((await ask(c, '/readyz')).status, 200)
    } finally {
      for (const c of conns) c.close()
      await limited.api.stop()
    }
  })

  it('disconnects a client that dribbles its headers past http.headersTimeoutMs with 408 E_HTTP_TIMEOUT', async () => {
    const slow = await startApi({ headersTimeoutMs: 500, requestTimeoutMs: 500 })
    const c = new RawConnection(slow.port)
    try {
      await c.connected
      const text = requestText('GET', '/healthz', slow.host)
      let i = 0
      const drip = setInterval(() => { if (i < text.length - 2) c.write(text[i++]) }, 100)
      const o = await c.read(5000)
      clearInterval(drip)
      assertRefusal(o, 408, HttpErrorCode.Timeout, 'dribbled headers')
      assert.ok(await c.waitClosed(2000), 'and the connection is closed')
    } finally {
      c.close()
      await slow.api.stop()
    }
  })
})
