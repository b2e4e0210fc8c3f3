/**
 * The daemon with `runtime.kind: process` (hosts without a Docker engine): two supervisor
 * processes in one site scale agents that are plain child processes, on a pushed signal. The
 * agents are found from outside through /proc (a marker argument unique to the run), never
 * through a supervisor's own view.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { Cluster, TEST_TOKEN, waitFor } from '../daemon/harness.js'

const STEP_MS = 30_000

/** pid → environment of every live process whose command line holds `marker`. */
function agentsWith (marker: string): Map<number, Record<string, string>> {
  const out = new Map<number, Record<string, string>>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')
      if (!argv.includes(marker)) continue
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue // a zombie is gone
      const env = Object.fromEntries(readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').filter(Boolean).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
      out.set(Number(name), env)
    } catch { /* exited meanwhile */ }
  }
  return out
}

describe('end to end: the process runtime under the daemon', { timeout: 4 * 60_000 }, () => {
  const marker = `agentmesh-proc-${randomBytes(4).toString('hex')}`
  let cluster: Cluster

  before(async () => {
    cluster = await Cluster.create({
      hosts: [{ hostId: 'p1', site: 'P' }, { hostId: 'p2', site: 'P' }],
      common: {
        log: { level: 'warn' },
        runtime: { kind: 'process', resyncIntervalMs: 1000 },
        services: [{
          name: 'edge-agent',
          targetPerReplica: 1,
          maxReplicas: 6,
          scaleDown: { stabilizationMs: 1000, policies: [{ type: 'percent', value: 100, periodMs: 1000 }] },
          agent: { command: [process.execPath, '-e', 'setInterval(() => {}, 1000)', marker], env: { AGENT_ROLE: 'test' }, stopTimeoutMs: 1000 },
        }],
        signals: [{ service: 'edge-agent', kind: 'push', scope: 'site' }],
      },
    })
    cluster.startAll()
    await waitFor('site P agrees on a leader', async () => await cluster.siteAgreement('P').catch(() => undefined), STEP_MS)
  })

  after(async () => {
    await cluster?.stopAll()
    for (const pid of agentsWith(marker).keys()) { try { process.kill(-pid, 'SIGKILL') } catch { try { process.kill(pid, 'SIGKILL') } catch {} } }
  })

  const push = async (value: number): Promise<void> => {
    for (const s of cluster.sups) {
      if (!s.running) continue
      const res = await s.post('/v1/signals', { service: 'edge-agent', value }, TEST_TOKEN)
      assert.equal(res.status, 200, await res.text())
    }
  }
  const waitForAgents = async (n: number, what: string): Promise<Map<number, Record<string, string>>> =>
    await waitFor(what, () => { const a = agentsWith(marker); return a.size === n ? a : undefined }, STEP_MS, 100)

  it('starts agents as processes with the service, site and host in their environment', async () => {
    await push(3)
    const agents = await waitForAgents(3, 'three agent processes')
    for (const env of agents.values()) {
      assert.equal(env.AGENTMESH_SERVICE, 'edge-agent')
      assert.equal(env.AGENTMESH_SITE, 'P')
      assert.ok(env.AGENTMESH_HOST === 'p1' || env.AGENTMESH_HOST === 'p2')
      assert.equal(env.AGENT_ROLE, 'test')
    }
  })

  it('replaces an agent process that is killed', async () => {
    const [victim] = [...agentsWith(marker).keys()]
    process.kill(victim!, 'SIGKILL')
    const agents = await waitFor('the killed agent replaced', () => {
      const a = agentsWith(marker)
      return a.size === 3 && !a.has(victim!) ? a : undefined
    }, STEP_MS, 100)
    assert.equal(agents.size, 3)
  })

  it('a supervisor killed and restarted adopts its agents (same pids, no duplicate)', async () => {
    const agents = agentsWith(marker)
    const sup = cluster.sups.find(s => [...agents.values()].some(e => e.AGENTMESH_HOST === s.hostId))!
    const mine = [...agents.entries()].filter(([, e]) => e.AGENTMESH_HOST === sup.hostId).map(([pid]) => pid).sort()
    await sup.kill('SIGKILL')
    assert.deepEqual([...agentsWith(marker).keys()].filter(p => mine.includes(p)).sort(), mine, 'agents outlive their supervisor')
    sup.start()
    await waitFor('the restarted supervisor reports its agents', async () => {
      const st = await sup.get<{ runtime: { running: Record<string, number> } }>('/v1/status').catch(() => undefined)
      return st?.runtime.running['edge-agent'] === mine.length ? st : undefined
    }, STEP_MS)
    await waitFor('the site agrees again', async () => await cluster.siteAgreement('P').catch(() => undefined), STEP_MS)
    await push(3)
    const now = await waitForAgents(3, 'still three agents')
    assert.deepEqual([...now.entries()].filter(([, e]) => e.AGENTMESH_HOST === sup.hostId).map(([pid]) => pid).sort(), mine)
  })

  it('stops every agent when the load goes to zero', async () => {
    await push(0)
    await waitForAgents(0, 'no agent process left')
  })
})
