// The Prometheus signal against a real Prometheus server (Debian's `prometheus`, started here on
// a loopback port with a temporary config) scraping a tiny exporter this test serves. The error
// shapes a healthy server never gives (no answer, a huge body) come from small HTTP stand-ins,
// named as such below.

import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createPrometheusSignal } from '../../node/signals/prometheus-signal.js'
import { SignalErrorCode } from '../../node/signals/signal-source.js'
import { REPO_ROOT } from '../services/services.js'
import { freePort, waitForStatus } from './helpers.js'

const execFileAsync = promisify(execFile)
/** Prometheus starts, then scrapes every second: a value shows within a few seconds. */
const FIRST_VALUE_TIMEOUT_MS = 60_000

async function listen (handler: http.RequestListener): Promise<{ server: http.Server, url: string }> {
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

async function close (server: http.Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

describe('prometheus signal (real Prometheus)', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentmesh-prom-'))
  const backlog = { a: 17, b: 5 }
  let exporter: { server: http.Server, url: string }
  let prometheus: ChildProcess | undefined
  let promUrl = ''
  let promLog = ''

  before(async () => {
    await execFileAsync('bash', [`${REPO_ROOT}test/services/prometheus.sh`], { timeout: 10 * 60_000 })
    exporter = await listen((req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4')
      res.end([
        '# HELP agentmesh_test_backlog Messages waiting, per queue.',
        '# TYPE agentmesh_test_backlog gauge',
        `agentmesh_test_backlog{queue="a"} ${backlog.a}`,
        `agentmesh_test_backlog{queue="b"} ${backlog.b}`,
        '',
      ].join('\n'))
    })
    const port = await freePort()
    const config = join(dir, 'prometheus.yml')
    writeFileSync(config, [
      'global:', '  scrape_interval: 1s', '  evaluation_interval: 1s',
      'scrape_configs:', '  - job_name: agentmesh-test', '    static_configs:', `      - targets: ['${new URL(exporter.url).host}']`, '',
    ].join('\n'))
    prometheus = spawn('prometheus', [
      `--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    prometheus.stderr!.on('data', (c: Buffer) => { promLog = (promLog + c.toString()).slice(-8_000) })
    promUrl = `http://127.0.0.1:${port}`
  })

  after(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = new Promise<void>((resolve) => prometheus!.once('exit', () => resolve()))
      prometheus.kill('SIGTERM')
      await exited
    }
    await close(exporter.server)
    rmSync(dir, { recursive: true, force: true })
  })

  it('reads an aggregated query on its interval and follows the value as it changes', async () => {
    const s = createPrometheusSignal({ service: 'ingest', url: promUrl, query: 'sum(agentmesh_test_backlog)', intervalMs: 200, timeoutMs: 200 })
    await s.start()
    try {
      const first = await waitForStatus(s, x => x.value === 22, FIRST_VALUE_TIMEOUT_MS, 'first value').catch((err: Error) => { throw new Error(`${err.message}\nprometheus log:\n${promLog}`) })
      assert.ok(first.ageMs! < 2_000)
      backlog.a = 30
      await waitForStatus(s, x => x.value === 35, FIRST_VALUE_TIMEOUT_MS, 'changed value')
      const sample = s.sample(Date.now())!
      assert.deepEqual({ service: sample.service, value: sample.value, upstream: sample.upstream }, { service: 'ingest', value: 35, upstream: false })
    } finally {
      await s.stop()
    }
  })

  it('refuses answers that are not one number: several series, no series, a bad query', async () => {
    const cases = [
      { query: 'agentmesh_test_backlog', code: SignalErrorCode.Ambiguous },
      { query: 'agentmesh_test_absent_series', code: SignalErrorCode.Empty },
      { query: 'sum(', code: SignalErrorCode.QueryFailed },
    ]
    for (const c of cases) {
      const s = createPrometheusSignal({ service: 'x', url: promUrl, query: c.query, timeoutMs: 2_000 })
      await s.queryNow()
      const st = s.status(Date.now())
      assert.equal(st.lastError?.code, c.code, `${c.query}: ${st.lastError?.message}`)
      assert.equal(st.value, undefined)
    }
    const zero = createPrometheusSignal({ service: 'x', url: promUrl, query: 'agentmesh_test_absent_series', emptyAs: 'zero' })
    await zero.queryNow()
    assert.equal(zero.status(Date.now()).value, 0)
    const scalar = createPrometheusSignal({ service: 'x', url: promUrl, query: 'scalar(sum(agentmesh_test_backlog))', upstream: true })
    await scalar.queryNow()
    assert.equal(scalar.sample(Date.now())?.upstream, true)
    assert.ok(scalar.sample(Date.now())!.value > 0)
  })

  it('reports a server that does not answer in time, an oversize body, and an unreachable server', async () => {
    // Stand-ins for failures a healthy server does not produce on demand: one that never
    // answers, one that answers too much.
    const silent = await listen(() => {})
    const huge = await listen((_req, res) => { res.end(JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [0, '1'] }, pad: 'x'.repeat(10_000) })) })
    try {
      const slow = createPrometheusSignal({ service: 'x', url: silent.url, query: 'up', timeoutMs: 100, intervalMs: 100 })
      await slow.queryNow()
      assert.equal(slow.status(Date.now()).lastError?.code, SignalErrorCode.Timeout)
      const big = createPrometheusSignal({ service: 'x', url: huge.url, query: 'up', maxResponseBytes: 1_000 })
      await big.queryNow()
      assert.equal(big.status(Date.now()).lastError?.code, SignalErrorCode.TooLarge)

      const gone = createPrometheusSignal({ service: 'x', url: `http://127.0.0.1:${await freePort()}`, query: 'up' })
      await gone.queryNow()
      assert.equal(gone.status(Date.now()).lastError?.code, SignalErrorCode.Unavailable)
    } finally {
      await close(silent.server)
      await close(huge.server)
    }
  })

  it('goes stale when the server is gone: the value stays, its age grows, errors are counted', async () => {
    const s = createPrometheusSignal({ service: 'ingest', url: promUrl, query: 'sum(agentmesh_test_backlog)', timeoutMs: 2_000 })
    await s.queryNow()
    const before = s.status(Date.now())
    assert.ok(before.value !== undefined)
    const exited = new Promise<void>((resolve) => prometheus!.once('exit', () => resolve()))
    prometheus!.kill('SIGKILL')
    await exited
    await s.queryNow()
    const later = Date.now() + 10_000
    const st = s.status(later)
    assert.equal(st.value, before.value)
    assert.ok(st.ageMs! >= 10_000)
    assert.equal(st.errorsCount, 1)
    assert.equal(st.lastError?.code, SignalErrorCode.Unavailable)
  })

  it('refuses a bad configuration naming every problem', () => {
    assert.throws(() => createPrometheusSignal({ service: 'x', url: 'ftp://p', query: ' ', intervalMs: 100, timeoutMs: 500 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, SignalErrorCode.ConfigInvalid)
      for (const word of ['scheme', 'query', 'timeoutMs']) assert.match(err.message, new RegExp(word))
      return true
    })
  })
})
