// The process runtime on real child processes: start, graceful and forced stop, exits
// reported, reconciliation through the driver, and adoption by a restarted supervisor (a
// separate Node process that starts an agent and exits).

import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { OWNER_LABELS, reconcile } from '../../node/core/reconcile.js'
import { RuntimeError, RuntimeErrorCode, ownerLabels, type AgentSpec } from '../../node/runtime/container-runtime.js'
import { STATE_FILE_NAME, createProcessRuntime, readProcStat } from '../../node/runtime/process-runtime.js'
import { RuntimeDriver } from '../../node/runtime/runtime-driver.js'
import { ReconcileLoop } from './reconcile-loop.js'
import { RecordingMetrics, runningByService, waitForCalls, waitForPass } from './helpers.js'

const execFileAsync = promisify(execFile)
const SITE = 'edge'
const HOST = 'edge-h1'
const BOUND_MS = 20_000

/** A well-behaved agent: exits 0 on SIGTERM. */
const POLITE = 'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1e9)'
/** A stubborn one: ignores SIGTERM. */
const STUBBORN = 'process.on("SIGTERM", () => {}); console.log("ready"); setInterval(() => {}, 1e9)'

function spec (service: string, code = POLITE, stopTimeoutMs = 5_000): AgentSpec {
  return { service, image: 'unused', command: [process.execPath, '-e', code], env: { AGENT_NAME: service }, restartPolicy: 'no', networkMode: 'host', stopTimeoutMs }
}

function labels (service: string, term = 1): Record<string, string> {
  return ownerLabels({ service, site: SITE, hostId: HOST, term })
}

/** Resolves once the file holds a line matching `match` (fs.watch, no polling loop). */
function waitForFileLine (path: string, match: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => { try { return match.test(readFileSync(path, 'utf8')) } catch { return false } }
    if (check()) { resolve(); return }
    const watcher = watch(path, () => { if (check()) { clearTimeout(timer); watcher.close(); resolve() } })
    const timer = setTimeout(() => { watcher.close(); reject(new Error(`${path}: no line matching ${match} within ${timeoutMs} ms`)) }, timeoutMs)
    if (check()) { clearTimeout(timer); watcher.close(); resolve() }
  })
}

function alive (pid: number): boolean {
  const s = readProcStat(pid)
  return s !== undefined && s.state !== 'Z'
}

describe('process runtime (real child processes)', { timeout: 120_000 }, () => {
  const dirs: string[] = []
  const strays: number[] = []
  const newDir = (): string => { const d = mkdtempSync(join(tmpdir(), 'agentmesh-proc-rt-')); dirs.push(d); return d }
  after(() => {
    for (const pid of strays) { try { process.kill(-pid, 'SIGKILL') } catch {} }
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('starts agents with their labels, stops a polite one with SIGTERM and kills a stubborn one after the grace', async () => {
    const dir = newDir()
    const rt = createProcessRuntime({ stateDir: dir })
    await rt.start()
    const polite = await rt.startAgent(spec('a'), labels('a'))
    const stubborn = await rt.startAgent(spec('b', STUBBORN, 300), labels('b'))
    const listed = await rt.observe()
    assert.deepEqual(listed.map(c => [c.id, c.state, c.labels[OWNER_LABELS.service]]).sort(), [[polite, 'running', 'a'], [stubborn, 'running', 'b']].sort())
    assert.deepEqual(listed.find(c => c.id === polite)?.labels, labels('a'))
    const pids = [rt.pidOf(polite)!, rt.pidOf(stubborn)!]
    assert.ok(pids.every(alive))

    await rt.stopAgent(polite, 5_000)
    assert.ok(!alive(pids[0]), 'the polite agent exited')
    // The stubborn one must have installed its handler first: it says so in its log.
    await waitForFileLine(join(dir, 'logs', `${stubborn}.log`), /ready/, BOUND_MS)
    const t0 = performance.now()
    await rt.stopAgent(stubborn, 300)
    assert.ok(!alive(pids[1]), 'the stubborn agent was killed')
    assert.ok(performance.now() - t0 >= 250, 'only after the grace')
    assert.deepEqual(await rt.observe(), [])
    await rt.stop()
  })

  it('reports an agent that exits by itself as exited, with a change event, until it is removed', async () => {
    const rt = createProcessRuntime({ stateDir: newDir() })
    await rt.start()
    const changed = waitForCalls(cb => rt.onChange(cb), 2, BOUND_MS, 'start and exit events')
    const id = await rt.startAgent(spec('short', 'setTimeout(() => process.exit(3), 50)'), labels('short'))
    await changed
    assert.deepEqual((await rt.observe()).map(c => [c.id, c.state]), [[id, 'exited']])
    await rt.removeAgent(id)
    assert.deepEqual(await rt.observe(), [])
    await rt.stop()
  })

  it('refuses what it cannot run: no command, a missing binary, past its child limit', async () => {
    const rt = createProcessRuntime({ childrenMax: 1 })
    await rt.start()
    const code = async (p: Promise<unknown>): Promise<string> => await p.then(() => 'ok', (e: RuntimeError) => e.code)
    assert.equal(await code(rt.startAgent({ ...spec('x'), command: undefined }, labels('x'))), RuntimeErrorCode.SpecInvalid)
    assert.equal(await code(rt.startAgent({ ...spec('x'), command: ['/no/such/agent'] }, labels('x'))), RuntimeErrorCode.StartFailed)
    const id = await rt.startAgent(spec('x'), labels('x'))
    assert.equal(await code(rt.startAgent(spec('x'), labels('x'))), RuntimeErrorCode.Limit)
    await rt.removeAgent(id)
    await rt.stop()
  })

  it('reconciles through the driver: starts the plan, replaces a killed agent, stops the rest', async () => {
    const rt = createProcessRuntime({ stateDir: newDir() })
    const metrics = new RecordingMetrics()
    const driver = new RuntimeDriver({ hostId: HOST, site: SITE, specFor: s => spec(s) }, { runtime: rt, metrics })
    const wanted = new Map([['ingest', 3]])
    const loop = new ReconcileLoop({ driver, reconcile: o => reconcile({ hostId: HOST, site: SITE, term: 4, wanted, observed: o.containers }) })
    await driver.start()
    loop.start()
    try {
      const up = await waitForPass(loop, p => p.actions.length === 0 && runningByService(p.observation.containers).ingest === 3, BOUND_MS, 'three running')
      assert.ok(up.observation.containers.every(c => c.labels[OWNER_LABELS.term] === '4'))
      assert.equal(metrics.latencies.length, 3)
      const victim = up.observation.containers[0].id
      process.kill(rt.pidOf(victim)!, 'SIGKILL')
      await waitForPass(loop, p => p.actions.length === 0 && runningByService(p.observation.containers).ingest === 3 &&
        !p.observation.containers.some(c => c.id === victim), BOUND_MS, 'replaced')
      wanted.set('ingest', 1)
      await waitForPass(loop, p => p.actions.length === 0 && p.observation.containers.length === 1, BOUND_MS, 'scaled down')
      wanted.clear()
      await waitForPass(loop, p => p.actions.length === 0 && p.observation.containers.length === 0, BOUND_MS, 'none left')
    } finally {
      await loop.stop()
      await driver.stop()
    }
  })

  it('a restarted supervisor adopts the agents its predecessor started, and can stop them', async () => {
    const dir = newDir()
    const moduleUrl = new URL('../../node/runtime/process-runtime.js', import.meta.url).href
    // The first supervisor: its own Node process, which starts one agent and exits.
    const script = `
      const { createProcessRuntime } = await import(${JSON.stringify(moduleUrl)})
      const rt = createProcessRuntime({ stateDir: ${JSON.stringify(dir)} })
      await rt.start()
      const id = await rt.startAgent(${JSON.stringify(spec('adoptee'))}, ${JSON.stringify(labels('adoptee', 9))})
      await rt.stop()
      console.log(JSON.stringify({ id, pid: rt.pidOf(id) }))`
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { timeout: BOUND_MS })
    const { id, pid } = JSON.parse(stdout) as { id: string, pid: number }
    strays.push(pid)
    assert.ok(alive(pid), 'the agent outlived its supervisor')

    const rt = createProcessRuntime({ stateDir: dir })
    await rt.start()
    assert.equal(rt.adoptedCount, 1)
    const listed = await rt.observe()
    assert.deepEqual(listed.map(c => ({ id: c.id, state: c.state, labels: c.labels })), [{ id, state: 'running', labels: labels('adoptee', 9) }])
    await rt.stopAgent(id, 5_000)
    assert.ok(!alive(pid), 'the adopted agent stopped')
    assert.deepEqual(await rt.observe(), [])
    assert.deepEqual(JSON.parse(readFileSync(join(dir, STATE_FILE_NAME), 'utf8')).agents, [])
    await rt.stop()
  })

  it('does not adopt, and never signals, a recorded pid whose start time no longer matches (a reused pid)', async () => {
    const dir = newDir()
    const first = createProcessRuntime({ stateDir: dir })
    await first.start()
    const id = await first.startAgent(spec('victim'), labels('victim'))
    const pid = first.pidOf(id)!
    strays.push(pid)
    await first.stop()
    const path = join(dir, STATE_FILE_NAME)
    const state = JSON.parse(readFileSync(path, 'utf8'))
    state.agents[0].startTicks = '1' // as if the pid now belonged to another process
    writeFileSync(path, JSON.stringify(state))

    const second = createProcessRuntime({ stateDir: dir })
    await second.start()
    assert.equal(second.adoptedCount, 0)
    assert.deepEqual(await second.observe(), [])
    assert.ok(alive(pid), 'the process was left alone')
    await second.stop()
  })

  it('adopts nothing from a corrupt state file, without failing', async () => {
    const dir = newDir()
    writeFileSync(join(dir, STATE_FILE_NAME), '{not json')
    const rt = createProcessRuntime({ stateDir: dir })
    await rt.start()
    assert.equal(rt.adoptedCount, 0)
    assert.deepEqual(await rt.observe(), [])
    await rt.stop()
  })
})
