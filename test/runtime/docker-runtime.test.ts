// The Docker runtime and the runtime driver against the real engine (test/services/docker.sh)
// and the real agent image. Every container carries `agentmesh.test=1` and this file's run
// label; the runtime is scoped to the run label, so parallel test files never see each other.

import { after, before, beforeEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OWNER_LABELS, isOwnedBy, reconcile } from '../../node/core/reconcile.js'
import { RuntimeError, RuntimeErrorCode, ownerLabels, type AgentSpec } from '../../node/runtime/container-runtime.js'
import { createDockerRuntime, mapDockerState } from '../../node/runtime/docker-runtime.js'
import { RuntimeDriver } from '../../node/runtime/runtime-driver.js'
import { ReconcileLoop } from './reconcile-loop.js'
import { AGENT_IMAGE, MQTT_URL, TEST_LABEL, TEST_RUN_LABEL, docker, ensureServices, newRunId, removeContainersByLabel } from '../services/services.js'
import { RecordingMetrics, runningByService, sameCounts, waitForCalls, waitForPass } from './helpers.js'

const RUN = newRunId('runtime-docker')
const SITE = 'site-test'
/** Each test has its own host id, so one test's leftovers are never another's to reconcile. */
let hostSeq = 0
let HOST = `host-${RUN}`
const TEST_LABELS = { [TEST_LABEL]: '1', [TEST_RUN_LABEL]: RUN }
const SCOPE = { [TEST_RUN_LABEL]: RUN }
/** Creating and starting a container on a loaded CI machine; generous. */
const SETTLE_TIMEOUT_MS = 60_000

function agentSpec (service: string, overrides: Partial<AgentSpec> = {}): AgentSpec {
  return {
    service,
    image: AGENT_IMAGE,
    env: { AGENT_MQTT_URL: MQTT_URL, AGENT_TOPIC: `work/${RUN}/${service}`, AGENT_RATE_PER_S: '50' },
    cpuMillis: 250,
    memoryMib: 128,
    restartPolicy: 'no',
    networkMode: 'host',
    stopTimeoutMs: 2_000,
    ...overrides,
  }
}

function rejectsWithCode (p: Promise<unknown>, code: string): Promise<void> {
  return assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RuntimeError, `a RuntimeError, got ${String(err)}`)
    assert.equal(err.code, code, err.message)
    return true
  })
}

/**
 * A Unix-socket proxy in front of the real engine, so a test can make the engine vanish and
 * come back (close every connection and stop listening) without stopping the shared engine
 * that other test files use. The engine behind it is the real one.
 */
class EngineProxy {
  private server: net.Server | undefined
  private readonly sockets = new Set<net.Socket>()
  constructor (readonly path: string) {}

  async up (): Promise<void> {
    this.server = net.createServer((client) => {
      const engine = net.connect('/var/run/docker.sock')
      for (const s of [client, engine]) { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); s.on('error', () => {}) }
      client.pipe(engine).pipe(client)
    })
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve))
  }

  async down (): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve())
    for (const s of this.sockets) s.destroy()
    await closed
    rmSync(this.path, { force: true })
  }
}

describe('docker runtime (real engine)', { timeout: 10 * 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agentmesh-docker-rt-'))

  before(async () => { await ensureServices() })
  after(async () => {
    await removeContainersByLabel(TEST_RUN_LABEL, RUN)
    rmSync(tmp, { recursive: true, force: true })
  })

  it('maps Docker states onto starting, running and exited', () => {
    assert.equal(mapDockerState('running'), 'running')
    assert.equal(mapDockerState('paused'), 'running')
    assert.equal(mapDockerState('created'), 'starting')
    assert.equal(mapDockerState('restarting'), 'starting')
    for (const s of ['exited', 'dead', 'removing', 'something-new']) assert.equal(mapDockerState(s), 'exited')
  })

  beforeEach(() => { HOST = `host-${RUN}-${++hostSeq}` })

  it('reconciles real containers to the plan with owner labels and limits, replaces a killed one, and leaves nothing when the plan wants none', async () => {
    const runtime = createDockerRuntime({ scopeLabels: SCOPE })
    const metrics = new RecordingMetrics()
    const specs = new Map([['ingest', agentSpec('ingest')], ['detect', agentSpec('detect', { restartPolicy: 'on-failure', networkMode: 'none' })]])
    const driver = new RuntimeDriver({ hostId: HOST, site: SITE, specFor: s => specs.get(s), extraLabels: TEST_LABELS }, { runtime, metrics })
    const wanted = new Map<string, number>([['ingest', 2], ['detect', 1]])
    const loop = new ReconcileLoop({
      driver,
      reconcile: (o) => reconcile({ hostId: HOST, site: SITE, term: 7, wanted, observed: o.containers }),
    }, { resyncIntervalMs: 60_000 })
    await driver.start()
    loop.start()
    try {
      const settled = await waitForPass(loop, p => p.actions.length === 0 && p.observation.ok &&
        sameCounts(runningByService(p.observation.containers), { detect: 1, ingest: 2 }), SETTLE_TIMEOUT_MS, 'plan reached')
      const ours = settled.observation.containers.filter(c => isOwnedBy(c, HOST, SITE))
      assert.equal(ours.length, 3)

      // What the engine itself says of each container.
      for (const c of ours) {
        const info = JSON.parse(await docker(['inspect', c.id]))[0]
        const service = c.labels[OWNER_LABELS.service]
        // Labels we set (the image's own labels, such as its inputs hash, come along too).
        const expected = { ...ownerLabels({ service, site: SITE, hostId: HOST, term: 7 }), ...TEST_LABELS }
        const actual = info.Config.Labels as Record<string, string>
        assert.deepEqual(Object.fromEntries(Object.keys(expected).map(k => [k, actual[k]])), expected)
        assert.equal(info.HostConfig.NetworkMode, service === 'detect' ? 'none' : 'host')
        assert.equal(info.HostConfig.NanoCpus, 250_000_000)
        assert.equal(info.HostConfig.Memory, 128 * 1024 * 1024)
        assert.equal(info.HostConfig.RestartPolicy.Name, service === 'detect' ? 'on-failure' : '')
        assert.ok((info.Config.Env as string[]).includes(`AGENT_TOPIC=work/${RUN}/${service}`))
      }
      assert.equal(metrics.latencies.length, 3, 'one start latency per start')
      assert.ok(metrics.latencies.every(l => l.seconds >= 0 && l.seconds < 60))
      assert.deepEqual(metrics.actions, Array(3).fill({ type: 'start', result: 'ok' }))

      // Kill one behind the supervisor's back: the event stream triggers a pass that removes
      // the exited container and starts a replacement.
      const victim = ours.find(c => c.labels[OWNER_LABELS.service] === 'ingest')!
      await docker(['kill', victim.id])
      const replaced = await waitForPass(loop, p => p.actions.length === 0 && p.observation.ok &&
        !p.observation.containers.some(c => c.id === victim.id) &&
        runningByService(p.observation.containers).ingest === 2, SETTLE_TIMEOUT_MS, 'killed container replaced')
      assert.equal(replaced.observation.containers.length, 3)

      // The plan wants nothing: every container is stopped gracefully and removed.
      wanted.clear()
      await waitForPass(loop, p => p.actions.length === 0 && p.observation.ok && !p.observation.containers.some(c => isOwnedBy(c, HOST, SITE)), SETTLE_TIMEOUT_MS, 'all removed')
      assert.equal(await docker(['ps', '-aq', '--filter', `label=${TEST_RUN_LABEL}=${RUN}`]), '', 'nothing left on the engine')
      assert.ok(metrics.actions.some(a => a.type === 'stop' && a.result === 'ok'))
      assert.ok(metrics.actions.some(a => a.type === 'remove' && a.result === 'ok'), 'the killed container was removed')
    } finally {
      await loop.stop()
      await driver.stop()
    }
  })

  it('never lists, stops or removes a container without the agentmesh.service label, and leaves other hosts\' containers alone', async () => {
    const unlabelled = await docker(['run', '-d', '--network', 'none', '--label', `${TEST_LABEL}=1`, '--label', `${TEST_RUN_LABEL}=${RUN}`,
      AGENT_IMAGE, 'node', '-e', 'setInterval(() => {}, 1e9)'])
    const foreign = await docker(['run', '-d', '--network', 'none', '--label', `${TEST_LABEL}=1`, '--label', `${TEST_RUN_LABEL}=${RUN}`,
      ...Object.entries(ownerLabels({ service: 'ingest', site: SITE, hostId: 'another-host', term: 7 })).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      AGENT_IMAGE, 'node', '-e', 'setInterval(() => {}, 1e9)'])
    const runtime = createDockerRuntime({ scopeLabels: SCOPE })
    const driver = new RuntimeDriver({ hostId: HOST, site: SITE, specFor: () => undefined, extraLabels: TEST_LABELS }, { runtime })
    const loop = new ReconcileLoop({ driver, reconcile: (o) => reconcile({ hostId: HOST, site: SITE, term: 7, wanted: new Map(), observed: o.containers }) })
    await driver.start()
    loop.start()
    try {
      const pass = await waitForPass(loop, p => p.observation.ok, SETTLE_TIMEOUT_MS, 'observed')
      const ids = pass.observation.containers.map(c => c.id)
      assert.ok(!ids.includes(unlabelled), 'the unlabelled container is never listed')
      assert.ok(ids.includes(foreign), 'another host\'s container is listed')
      assert.deepEqual(pass.actions, [], 'and never acted on')
      await rejectsWithCode(runtime.stopAgent(unlabelled, 1_000), RuntimeErrorCode.NotOwned)
      await rejectsWithCode(runtime.removeAgent(unlabelled), RuntimeErrorCode.NotOwned)
      assert.equal(await docker(['inspect', '-f', '{{.State.Running}}', unlabelled]), 'true')
      assert.equal(await docker(['inspect', '-f', '{{.State.Running}}', foreign]), 'true')
    } finally {
      await loop.stop()
      await driver.stop()
      await docker(['rm', '-f', unlabelled, foreign])
    }
  })

  it('refuses bad specs, missing images and commands that cannot start, leaving no container behind', async () => {
    const runtime = createDockerRuntime({ scopeLabels: SCOPE, pullPolicy: 'never' })
    const labels = { ...ownerLabels({ service: 'bad', site: SITE, hostId: HOST, term: 1 }), ...TEST_LABELS }
    await rejectsWithCode(runtime.startAgent(agentSpec('bad', { networkMode: 'bridge' as 'host' }), labels), RuntimeErrorCode.SpecInvalid)
    await rejectsWithCode(runtime.startAgent(agentSpec('other'), labels), RuntimeErrorCode.SpecInvalid)
    await rejectsWithCode(runtime.startAgent(agentSpec('bad', { image: `agentmesh/absent-${RUN}:never` }), labels), RuntimeErrorCode.ImageMissing)
    await rejectsWithCode(runtime.startAgent(agentSpec('bad', { command: ['/no/such/binary'] }), labels), RuntimeErrorCode.StartFailed)
    assert.deepEqual((await runtime.observe()).filter(c => c.labels[OWNER_LABELS.service] === 'bad'), [], 'no created-but-unstarted container is left')
    // Stopping or removing an id that is already gone is not an error (level-triggered).
    await runtime.stopAgent('0123456789ab', 1_000)
    await runtime.removeAgent('0123456789ab')
  })

  it('reports an unreachable engine as E_RUNTIME_UNAVAILABLE; the driver answers runtimeOk false and retries with growing backoff without throwing', async () => {
    const runtime = createDockerRuntime({ socketPath: join(tmp, "no-such-docker.sock"), eventReconnectMsMin: 60_000 })
    await rejectsWithCode(runtime.observe(), RuntimeErrorCode.Unavailable)
    const labels = { ...ownerLabels({ service: 'x', site: SITE, hostId: HOST, term: 1 }), ...TEST_LABELS }
    await rejectsWithCode(runtime.startAgent(agentSpec('x'), labels), RuntimeErrorCode.Unavailable)
    await rejectsWithCode(runtime.stopAgent('abc', 1_000), RuntimeErrorCode.Unavailable)

    const metrics = new RecordingMetrics()
    const driver = new RuntimeDriver({ hostId: HOST, site: SITE, specFor: s => agentSpec(s), retryMsMin: 20, retryMsMax: 160 }, { runtime, metrics })
    const passes: boolean[] = []
    const loop = new ReconcileLoop({
      driver,
      reconcile: (o) => { passes.push(o.ok); return reconcile({ hostId: HOST, site: SITE, term: 1, wanted: new Map([['x', 1]]), observed: o.containers }) },
    })
    await driver.start()
    loop.start()
    try {
      // Each failed observation schedules a retry, announced as a change: five of them arrive.
      const times = await waitForCalls(cb => driver.onChange(cb), 5, 20_000, 'backoff retries')
      const gaps = times.slice(1).map((t, i) => t - times[i])
      assert.ok(gaps[gaps.length - 1] >= 60, `the backoff grows: gaps ${gaps.map(g => g.toFixed(0)).join(', ')} ms`)
      assert.ok(passes.length >= 3 && passes.every(ok => !ok), 'every pass saw runtimeOk false')
      const status = driver.status()
      assert.equal(status.ok, false)
      assert.equal(status.lastError?.code, RuntimeErrorCode.Unavailable)
      assert.ok(status.consecutiveFailures >= 3)
      assert.ok(metrics.up.length > 0 && metrics.up.every(u => !u))
      assert.ok(metrics.actions.every(a => a.result === 'failed'), 'the start it attempted failed, counted')
    } finally {
      await loop.stop()
      await driver.stop()
    }
  })

  it('keeps the last known list while the engine is gone, and ends with the same containers when it is back', async () => {
    const proxy = new EngineProxy(join(tmp, 'engine-proxy.sock'))
    await proxy.up()
    const runtime = createDockerRuntime({ socketPath: proxy.path, scopeLabels: SCOPE, eventReconnectMsMin: 20, eventReconnectMsMax: 100 })
    const specs = new Map([['keep', agentSpec('keep')]])
    const metrics = new RecordingMetrics()
    const driver = new RuntimeDriver({ hostId: HOST, site: SITE, specFor: s => specs.get(s), extraLabels: TEST_LABELS, retryMsMin: 20, retryMsMax: 100 }, { runtime, metrics })
    const wanted = new Map([['keep', 1]])
    const loop = new ReconcileLoop({ driver, reconcile: (o) => reconcile({ hostId: HOST, site: SITE, term: 2, wanted, observed: o.containers }) })
    await driver.start()
    loop.start()
    try {
      const up = await waitForPass(loop, p => p.observation.ok && p.actions.length === 0 && runningByService(p.observation.containers).keep === 1, SETTLE_TIMEOUT_MS, 'one running')
      const id = up.observation.containers.filter(c => isOwnedBy(c, HOST, SITE))[0].id

      await proxy.down()
      const down = await waitForPass(loop, p => !p.observation.ok, 20_000, 'engine gone seen')
      assert.deepEqual(down.observation.containers.filter(c => isOwnedBy(c, HOST, SITE)).map(c => c.id), [id], 'the last known list, not an empty one')
      assert.deepEqual(down.actions, [], 'nothing to do: the core sees its container still there')
      assert.equal(driver.status().ok, false)

      await proxy.up()
      const back = await waitForPass(loop, p => p.observation.ok, 20_000, 'engine back seen')
      assert.deepEqual(back.observation.containers.filter(c => isOwnedBy(c, HOST, SITE) && c.state === 'running').map(c => c.id), [id], 'nothing lost, nothing duplicated')
      assert.equal(driver.status().ok, true)
      assert.deepEqual(metrics.up.slice(-1), [true])
      // And the event stream reconnected: a container event reaches the loop again.
      await docker(['kill', id])
      await waitForPass(loop, p => p.observation.ok && p.actions.length === 0 && runningByService(p.observation.containers).keep === 1 &&
        !p.observation.containers.some(c => c.id === id), SETTLE_TIMEOUT_MS, 'replaced after the engine came back')
      wanted.clear()
      await waitForPass(loop, p => p.observation.ok && !p.observation.containers.some(c => isOwnedBy(c, HOST, SITE)), SETTLE_TIMEOUT_MS, 'cleaned')
    } finally {
      await loop.stop()
      await driver.stop()
      await proxy.down()
    }
  })
})
