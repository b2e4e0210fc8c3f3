/**
 * `agentmesh demo`: its pure parts (load shape, work queue, shared subscriptions, leader
 * agreement, flags), the embedded broker with real agents, and the whole command run as a child
 * process: every site elects a leader, the burst scales agents up, and after the exit no agent,
 * supervisor, container or temp dir is left. Waits are on events or output lines, with bounds.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import mqtt from 'mqtt'
import { parseDemoArgs } from '../../cli/commands/demo.js'
import { startEmbeddedBroker } from '../../cli/demo/broker.js'
import { listDemoContainers } from '../../cli/demo/leftovers.js'
import { agreedLeader } from '../../cli/demo/live-view.js'
import { LOAD_BURST_PER_S, LOAD_PHASE_ENDS, LOAD_QUIET_PER_S, cycleFraction, loadPhaseAt, siteRatePerS, shapeRatePerS } from '../../cli/demo/load-shape.js'
import { DOCKER_SOCKET_DEFAULT, chooseRuntime, dockerProblem } from '../../cli/demo/runtime-choice.js'
import { SharedSubscriptions, parseShared, topicMatches } from '../../cli/demo/shared-subscriptions.js'
import { WorkQueue, WORK_QUEUE_LIMITS } from '../../cli/demo/work-queue.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = `${REPO_ROOT}dist/cli/agentmesh.js`
const AGENT = `${REPO_ROOT}agent/agent.mjs`

describe('the demo load shape', () => {
  it('is quiet, rises, bursts, falls and is quiet again over one cycle', () => {
    const phases = [0.05, 0.3, 0.5, 0.7, 0.9].map(loadPhaseAt)
    assert.deepEqual(phases, ['quiet', 'rise', 'burst', 'fall', 'quiet'])
    assert.equal(shapeRatePerS(0), LOAD_QUIET_PER_S)
    assert.equal(shapeRatePerS((LOAD_PHASE_ENDS.rise + LOAD_PHASE_ENDS.burst) / 2), LOAD_BURST_PER_S)
    assert.ok(shapeRatePerS(0.2) < shapeRatePerS(0.4), 'rising')
    assert.ok(shapeRatePerS(0.65) > shapeRatePerS(0.8), 'falling')
  })

  it('gives the same rate for the same time, and repeats every cycle', () => {
    for (const t of [0, 1234, 60_000, 179_999]) {
      assert.equal(siteRatePerS(t, 180_000, 1), siteRatePerS(t, 180_000, 1))
      assert.equal(siteRatePerS(t, 180_000, 2), siteRatePerS(t + 180_000, 180_000, 2))
    }
  })

  it('shifts each site by its phase offset so sites do not move in lockstep', () => {
    assert.equal(cycleFraction(0, 100_000, 0), 0)
    assert.ok(Math.abs(cycleFraction(0, 100_000, 1) - 0.1) < 1e-9)
  })
})

describe('the demo work queue', () => {
  it('sends at most the minimum window while no agent acknowledges anything', () => {
    const q = new WorkQueue()
    q.arrive(100, 1000)
    assert.equal(q.takeToSend(0).length, WORK_QUEUE_LIMITS.windowMin)
    assert.equal(q.takeToSend(1).length, 0)
    assert.equal(q.backlogCount(), 100)
  })

  it('counts an acknowledged message once and drops it from the backlog', () => {
    const q = new WorkQueue()
    q.arrive(5, 1000)
    const sent = q.takeToSend(0)
    q.ack(sent[0], 10)
    q.ack(sent[0], 11)
    assert.equal(q.counters.ackedCount, 1)
    assert.equal(q.counters.duplicateAckCount, 1)
    assert.equal(q.backlogCount(), 4)
  })

  it('puts back and sends again a message not acknowledged within the visibility timeout, oldest first', () => {
    const q = new WorkQueue()
    q.arrive(3, 1000)
    const first = q.takeToSend(0)
    assert.deepEqual(q.takeToSend(WORK_QUEUE_LIMITS.visibilityTimeoutMs - 1), [])
    assert.deepEqual(q.takeToSend(WORK_QUEUE_LIMITS.visibilityTimeoutMs), first)
    assert.equal(q.counters.redeliveredCount, 3)
    assert.equal(q.backlogCount(), 3)
  })

  it('widens the window to two seconds of the agents\' ack rate', () => {
    const q = new WorkQueue()
    q.arrive(1000, 1000)
    let now = 0
    for (let i = 0; i < 50; i++) { const ids = q.takeToSend(now); for (const id of ids.slice(0, 5)) q.ack(id, now); now += 20 }
    assert.ok(q.windowCount(now) > WORK_QUEUE_LIMITS.windowMin, `window ${q.windowCount(now)}`)
    assert.equal(q.windowCount(now), Math.min(WORK_QUEUE_LIMITS.windowMax, Math.ceil(q.ackRatePerS(now) * 2)))
  })

  it('carries fractional arrivals from one call to the next', () => {
    const q = new WorkQueue()
    for (let i = 0; i < 10; i++) q.arrive(1, 100)
    assert.equal(q.counters.arrivedCount, 1)
  })
})

describe('the embedded broker\'s shared subscriptions', () => {
  it('parses $share/GROUP/FILTER and refuses malformed ones', () => {
    assert.deepEqual(parseShared('$share/agents/demo/s1/work'), { group: 'agents', filter: 'demo/s1/work' })
    assert.equal(parseShared('demo/s1/work'), undefined)
    assert.equal(parseShared('$share/agents'), undefined)
    assert.equal(parseShared('$share/a+/x'), undefined)
  })

  it('matches topics with + and #', () => {
    assert.ok(topicMatches('demo/+/work', 'demo/s1/work'))
    assert.ok(topicMatches('demo/#', 'demo/s1/work'))
    assert.ok(!topicMatches('demo/+', 'demo/s1/work'))
    assert.ok(!topicMatches('#', '$SYS/x'))
  })

  it('gives each message to one member, in turns, and every message to a plain subscriber', () => {
    const s = new SharedSubscriptions()
    assert.equal(s.rewrite('a', '$share/g/t'), 't')
    assert.equal(s.rewrite('b', '$share/g/t'), 't')
    assert.equal(s.rewrite('plain', 't'), 't')
    const got = { a: 0, b: 0, plain: 0 }
    for (let m = 0; m < 10; m++) for (const c of ['a', 'b', 'plain'] as const) if (s.forwardTo(c, 't', `m${m}`)) got[c]++
    assert.deepEqual(got, { a: 5, b: 5, plain: 10 })
  })

  it('stops choosing a member that left', () => {
    const s = new SharedSubscriptions()
    s.rewrite('a', '$share/g/t')
    s.rewrite('b', '$share/g/t')
    s.removeClient('a')
    for (let m = 0; m < 4; m++) assert.ok(s.forwardTo('b', 't', `m${m}`))
  })

  it('splits real work between real test agents, each message processed once', async () => {
    const broker = await startEmbeddedBroker({ port: 0 })
    const agents = [1, 2].map(i => spawn(process.execPath, [AGENT], {
      env: { PATH: process.env.PATH ?? '', AGENT_MQTT_URL: broker.url, AGENT_TOPIC: 'w', AGENT_REPLY_TOPIC: 'acks', AGENT_RATE_PER_S: '200', AGENT_ID: `agent-${i}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    }))
    try {
      await Promise.all(agents.map(async a => await lineMatching(a.stdout!, /"event":"agent:subscribed"/, 10_000)))
      const client = await mqtt.connectAsync(broker.url)
      const acks: Array<{ agent: string, msg: string }> = []
      await client.subscribeAsync('acks')
      const all = new Promise<void>(resolve => client.on('message', (_t, p) => { acks.push(JSON.parse(p.toString())); if (acks.length === 20) resolve() }))
      for (let i = 0; i < 20; i++) await client.publishAsync('w', `m${i}`)
      await withTimeout(all, 10_000, '20 acks')
      assert.equal(new Set(acks.map(a => a.msg)).size, 20, 'each message once')
      assert.equal(new Set(acks.map(a => a.agent)).size, 2, 'both agents took work')
      await client.endAsync()
    } finally {
      for (const a of agents) a.kill('SIGTERM')
      await broker.close()
    }
  })
})

describe('agentmesh demo flags and leader agreement', () => {
  it('takes the documented defaults and refuses out-of-range values', () => {
    assert.deepEqual(parseDemoArgs([]), { sites: 2, hostsPerSite: 3, durationMs: undefined, runtime: 'auto', mqttPort: 0, cycleMs: 180_000, json: false })
    assert.equal(parseDemoArgs(['--sites', '3', '--duration', '5']).durationMs, 5000)
    assert.throws(() => parseDemoArgs(['--sites', '4']), { code: 'E_ARGS_INVALID' })
    assert.throws(() => parseDemoArgs(['--runtime', 'podman']), { code: 'E_ARGS_INVALID' })
    assert.throws(() => parseDemoArgs(['--bogus']), { code: 'E_ARGS_INVALID' })
  })

  it('falls back to processes, saying why, when no engine answers; --runtime docker then fails', async () => {
    const choice = await chooseRuntime('auto', '/nonexistent/docker.sock')
    assert.equal(choice.kind, 'process')
    assert.match(choice.reason, /not containers: no Docker engine answers at \/nonexistent\/docker.sock/)
    await assert.rejects(chooseRuntime('docker', '/nonexistent/docker.sock'), { code: 'E_DOCKER_UNAVAILABLE' })
  })

  it('names a leader only when a strict majority of the answering members agree on it', () => {
    assert.deepEqual(agreedLeader([{ leaderId: 'h1', term: 2 }, { leaderId: 'h1', term: 2 }, { leaderId: '', term: 3 }]), { leader: 'h1', term: 2 })
    assert.equal(agreedLeader([{ leaderId: 'h1', term: 2 }, { leaderId: 'h2', term: 3 }]), null)
    assert.equal(agreedLeader([]), null)
  })
})

interface DemoEvent {
  event: string
  runId?: string
  dir?: string
  sites?: any[] // eslint-disable-line @typescript-eslint/no-explicit-any
  leftover?: number
  reason?: string
}

interface DemoRun { code: number | null, events: DemoEvent[], stderr: string }

async function runDemo (args: string[], timeoutMs: number): Promise<DemoRun> {
  const child = spawn(process.execPath, [CLI, 'demo', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
  const code = await withTimeout(new Promise<number | null>(resolve => child.once('exit', c => resolve(c))), timeoutMs, 'the demo to exit')
    .catch(async (err: Error) => { child.kill('SIGKILL'); throw new Error(`${err.message}\nstderr:\n${stderr}`) })
  return { code, events: out.split('\n').filter(Boolean).map(l => JSON.parse(l) as DemoEvent), stderr }
}

/** Live pids whose command line holds `part` in one of its arguments (zombies are gone). */
function processesWith (part: string): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').some(a => a.includes(part))) continue
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (!stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) out.push(Number(name))
    } catch { /* exited meanwhile */ }
  }
  return out
}

function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
  } catch { return false }
}

/** The checks every run shares: a clean exit that left nothing of the run behind. */
function assertCleanExit (run: DemoRun): { start: DemoEvent, ticks: DemoEvent[] } {
  assert.equal(run.code, 0, run.stderr)
  const start = run.events.find(e => e.event === 'start')
  const stop = run.events.find(e => e.event === 'stop')
  assert.ok(start !== undefined && stop !== undefined, run.stderr)
  assert.equal(stop.reason, 'duration')
  assert.equal(stop.leftover, 0)
  assert.equal(existsSync(start.dir!), false, 'temp dir removed')
  const supervisorPids: number[] = start.sites!.flatMap(s => s.hosts.map((h: { pid: number }) => h.pid))
  assert.deepEqual(supervisorPids.filter(alive), [], 'no supervisor left')
  assert.deepEqual(processesWith(`--agentmesh-demo-${start.runId!}`), [], 'no agent process left')
  return { start, ticks: run.events.filter(e => e.event === 'tick') }
}

describe('agentmesh demo, end to end', { timeout: 120_000 }, () => {
  it('with the process runtime: every site elects a leader, the burst scales agents up, nothing is left', async () => {
    const run = await runDemo(['--duration', '30', '--cycle', '20', '--runtime', 'process'], 60_000)
    const { start, ticks } = assertCleanExit(run)
    assert.ok(run.events.some(e => e.event === 'load-started'), 'the load started once leaders were elected')
    for (const site of start.sites!.map(s => s.site as string)) {
      const rows = ticks.map(t => t.sites!.find(r => r.site === site))
      assert.ok(rows.some(r => r.leader !== null), `${site} elected a leader`)
      assert.ok(rows.some(r => r.phase === 'burst' && r.desired > 0), `${site}: desired > 0 during the burst`)
      assert.ok(rows.some(r => r.running > 0), `${site}: agents ran`)
      assert.ok(rows.some(r => r.processedPerS > 0), `${site}: agents processed work`)
    }
  })

  it('with Docker (when the engine and the agent image are there): agents run as containers, none is left', async (t) => {
    const problem = await dockerProblem(DOCKER_SOCKET_DEFAULT)
    if (problem !== undefined) { t.skip(problem); return }
    const run = await runDemo(['--duration', '15', '--cycle', '10', '--runtime', 'docker', '--sites', '1', '--hosts-per-site', '2'], 45_000)
    const { start, ticks } = assertCleanExit(run)
    assert.ok(ticks.some(t => t.sites!.some(r => r.running > 0)), 'containers ran')
    assert.deepEqual(await listDemoContainers(DOCKER_SOCKET_DEFAULT, `demo-${start.runId!}-`), [], 'no labelled container left')
  })
})

async function withTimeout<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms) })
  try { return await Promise.race([p, bound]) } finally { clearTimeout(timer) }
}

async function lineMatching (stream: NodeJS.ReadableStream, re: RegExp, ms: number): Promise<string> {
  return await withTimeout(new Promise<string>(resolve => {
    let buf = ''
    const onData = (c: Buffer): void => {
      buf += c.toString()
      const line = buf.split('\n').find(l => re.test(l))
      if (line !== undefined) { stream.off('data', onData); resolve(line) }
    }
    stream.on('data', onData)
  }), ms, `a line matching ${re}`)
}
