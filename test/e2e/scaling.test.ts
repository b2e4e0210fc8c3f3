/**
 * End to end with real parts: three supervisor processes in one site, the Docker engine, the
 * agent image and Mosquitto. The site's backlog is published on MQTT; the containers are
 * checked in the engine itself, never through a supervisor's own view.
 *
 * The steps share one site (starting three supervisors and their agents is the slow part) and
 * run in order; each states what it checks.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { TEST_TOKEN, waitFor } from '../daemon/harness.js'
import { docker } from '../services/services.js'
import { WorkloadSite, type AgentContainer } from './workload-site.js'

/** Bounds on each wait; generous for a loaded 2-core machine. Polling, never fixed sleeps. */
const STEP_MS = 45_000

function byHost (cs: readonly AgentContainer[]): Map<string, string[]> {
  const m = new Map<string, string[]>()
  for (const c of cs) m.set(c.host, [...(m.get(c.host) ?? []), c.id])
  return m
}

describe('end to end: MQTT backlog to Docker containers in a 3-host site', { timeout: 8 * 60_000 }, () => {
  let site: WorkloadSite

  before(async () => {
    site = await WorkloadSite.create({ hosts: 3, scaleDownWindowMs: 3000 })
    await site.setBacklog(0)
    site.startAll()
    await site.leader()
  })

  after(async () => { await site?.close() })

  it('runs nothing while the backlog is zero (scale from zero starts from nothing)', async () => {
    // Every host has read the zero (its signal is fresh) before the check.
    await waitFor('every host has a fresh backlog reading', async () => {
      const sts = await Promise.all(site.sups.map(async s => await s.get<{ signals: { signals: Array<{ value?: number, ageMs?: number }> } }>('/v1/status')))
      return sts.every(st => st.signals.signals.some(x => x.value === 0)) ? true : undefined
    }, STEP_MS)
    assert.deepEqual(await site.containers(), [])
  })

  it('starts containers with the owner labels on the site\'s hosts when the backlog rises', async () => {
    await site.setBacklog(40) // 10 per replica: 4 replicas
    const cs = await site.waitForRunning(4, STEP_MS)
    const hosts = new Set(site.sups.map(s => s.hostId))
    for (const c of cs) {
      assert.equal(c.service, 'worker')
      assert.equal(c.site, site.site)
      assert.ok(hosts.has(c.host), `container on unknown host ${c.host}`)
      assert.ok(c.term >= 1, 'labelled with the term of the plan that started it')
    }
    assert.ok(byHost(cs).size >= 2, 'replicas spread over hosts')
    // Each host's status counts what runs there, once it has observed its runtime since the
    // start (a host observes after each action it takes, so its status can trail Docker's list
    // by one observation).
    const counted = await waitFor('every host\'s status to count what runs there', async () => {
      const rs = await Promise.all(site.sups.map(async s => (await s.get<{ runtime: { running: Record<string, number>, ok: boolean } }>('/v1/status')).runtime))
      return rs.reduce((n, r) => n + (r.running.worker ?? 0), 0) === 4 ? rs : undefined
    }, STEP_MS)
    assert.ok(counted.every(r => r.ok))
  })

  it('replaces a container that is killed', async () => {
    const [victim] = await site.running()
    await docker(['kill', victim!.id])
    const cs = await waitFor('the killed container replaced', async () => {
      const all = await site.containers()
      return all.length === 4 && all.every(c => c.state === 'running') && !all.some(c => c.id === victim!.id) ? all : undefined
    }, STEP_MS)
    assert.equal(cs.length, 4)
  })

  it('a restarted supervisor adopts its containers: no duplicate, no orphan', async () => {
    const leader = await site.leader()
    const before = byHost(await site.running())
    const follower = site.sups.find(s => s.hostId !== leader.hostId && (before.get(s.hostId)?.length ?? 0) > 0)
    assert.ok(follower !== undefined, 'a follower runs containers')
    const mine = [...before.get(follower.hostId)!].sort()
    await follower.kill('SIGKILL')
    follower.start()
    await waitFor('the restarted supervisor observes its runtime', async () => {
      const st = await follower.get<{ runtime: { running: Record<string, number> }, incarnation: number }>('/v1/status').catch(() => undefined)
      return st !== undefined && (st.runtime.running.worker ?? 0) === mine.length ? st : undefined
    }, STEP_MS)
    // Let a few reconcile rounds pass (plan republish, resync) and check nothing moved.
    await waitFor('the site agrees again and has planned with the restarted host', async () => await site.cluster.siteAgreement(site.site).catch(() => undefined), STEP_MS)
    const after = byHost(await site.waitForRunning(4, STEP_MS))
    assert.deepEqual([...(after.get(follower.hostId) ?? [])].sort(), mine, 'the same containers, adopted')
  })

  it('Docker unreachable on one host: reported, capacity drops to what runs, nothing lost; back: the plan runs', async () => {
    const leader = await site.leader()
    const target = site.sups.find(s => s.hostId !== leader.hostId)!
    const relay = site.relays[site.sups.indexOf(target)]!
    const beforeIds = byHost(await site.running()).get(target.hostId) ?? []
    await relay.cut()
    await waitFor('the host reports its runtime down', async () => {
      const st = await target.get<{ runtime: { ok: boolean, consecutiveFailures: number } }>('/v1/status')
      return !st.runtime.ok && st.runtime.consecutiveFailures > 0 ? st : undefined
    }, STEP_MS)
    assert.equal(await target.metric('agentmesh_runtime_up'), 0)
    const leaderView = await waitFor('the leader sees the host\'s runtime down', async () => {
      const st = await leader.get<{ peers: Array<{ hostId: string, runtimeOk: boolean }> }>('/v1/status')
      return st.peers.some(p => p.hostId === target.hostId && !p.runtimeOk) ? st : undefined
    }, STEP_MS)
    assert.ok(leaderView)
    // While it is down, the engine-side stand-in for an engine restart: its containers are
    // killed (a stopped engine takes its containers with it), and the load rises.
    for (const id of beforeIds) await docker(['kill', id])
    await site.setBacklog(60) // 6 replicas; the host without a runtime cannot take new ones
    await waitFor('the other hosts take the new replicas', async () => {
      const running = byHost(await site.running())
      const others = [...running.entries()].filter(([h]) => h !== target.hostId).reduce((n, [, ids]) => n + ids.length, 0)
      return others >= 6 - beforeIds.length ? running : undefined
    }, STEP_MS)
    await relay.open()
    await waitFor('the host reports its runtime up again', async () => {
      const st = await target.get<{ runtime: { ok: boolean } }>('/v1/status')
      return st.runtime.ok ? st : undefined
    }, STEP_MS)
    const cs = await site.waitForRunning(6, STEP_MS, 'the plan\'s 6 replicas running, nothing exited left over')
    assert.ok(cs.every(c => !beforeIds.includes(c.id)) || beforeIds.length === 0, 'the killed containers were replaced, not counted')
  })

  it('does not scale up while the upstream is saturated, and does once it is not', async () => {
    const leader = await site.leader()
    const push = async (value: number): Promise<void> => {
      for (const s of site.sups) {
        const res = await s.post('/v1/signals', { service: 'broker', value, upstream: true }, TEST_TOKEN)
        assert.equal(res.status, 200, await res.text())
      }
    }
    await push(0.95)
    await waitFor('the leader reads the saturation', async () => {
      const st = await leader.get<{ signals: { signals: Array<{ service: string, upstream: boolean, value?: number }> } }>('/v1/status')
      return st.signals.signals.some(x => x.upstream && x.value === 0.95) ? st : undefined
    }, STEP_MS)
    await site.setBacklog(80) // 8 replicas wanted, but the broker is saturated
    // The leader recomputes every second; several rounds pass with the count held at 6.
    const held = await waitFor('the leader has planned with the new backlog', async () => {
      const plan = await leader.get<{ leader: { services: Array<{ service: string, desired: number, load: number }> } | null }>('/v1/plan')
      const w = plan.leader?.services.find(x => x.service === 'worker')
      return w !== undefined && w.load === 80 ? w : undefined
    }, STEP_MS)
    assert.equal(held.desired, 6, 'held at 6 while the upstream is saturated')
    assert.equal((await site.running()).length, 6)
    await push(0.2)
    await site.waitForRunning(8, STEP_MS, '8 replicas once the upstream has room')
  })

  it('scales down after the (shortened) stabilisation window, to zero', async () => {
    await site.setBacklog(10)
    await site.waitForRunning(1, STEP_MS, 'one replica for a backlog of 10')
    await site.setBacklog(0)
    await waitFor('no container left', async () => (await site.containers()).length === 0 ? true : undefined, STEP_MS)
    const started = await Promise.all(site.sups.map(async s => await s.metric('agentmesh_container_actions_total', 'type="start",result="ok"')))
    assert.ok(started.reduce((a, b) => a + b, 0) >= 8, 'starts were counted')
    const latency = await Promise.all(site.sups.map(async s => await s.metric('agentmesh_container_start_duration_seconds_count')))
    assert.ok(latency.reduce((a, b) => a + b, 0) >= 1, 'start latency was measured')
  })

  it('serves the runtime and signal metrics, and promtool accepts them without a complaint', async () => {
    const counts = await Promise.all(site.sups.map(async s => await s.metric('agentmesh_container_start_duration_seconds_count')))
    const host = site.sups[counts.findIndex(n => n > 0)]! // a host that started containers has every series
    const text = await host.metricsText()
    assert.equal(execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' }).trim(), '')
    for (const name of ['agentmesh_runtime_up', 'agentmesh_signal_value', 'agentmesh_signal_age_seconds', 'agentmesh_signal_errors_total', 'agentmesh_container_start_duration_seconds', 'agentmesh_containers_running']) {
      assert.ok(text.includes(`# TYPE ${name}`), `missing ${name}`)
    }
    assert.equal(await host.metric('agentmesh_runtime_up'), 1)
    assert.equal(await host.metric('agentmesh_signal_value', 'service="worker"'), 0, 'the backlog read is the last one published')
  })
})
