/**
 * `agentmesh sim --from-config --from-node`: a what-if on the shape of a live site. Three real
 * supervisors (one with more slots); the what-if reads a supervisor's own config file and its
 * `/v1/sites`, and simulates the site's hosts and slots. A node of another site, and a node that
 * does not answer, are refused by name.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parse } from 'yaml'
import type { SitesResponse } from '../../node/daemon/api-schema.js'
import { CLI, Cluster, freePort, REPO_ROOT, waitFor } from './harness.js'

const TRACE = 'sim/traces/synthetic-ramp-spike.csv'

/** Runs the CLI without blocking the event loop (the test's own supervisors keep answering meanwhile). */
async function sim (...args: string[]): Promise<{ status: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [CLI, 'sim', ...args], { cwd: REPO_ROOT })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const status = await new Promise<number | null>(resolve => child.on('close', resolve))
  return { status, stdout, stderr }
}

describe('agentmesh sim --from-node: a what-if on a live site\'s shape', { timeout: 120_000 }, () => {
  let cluster: Cluster

  before(async () => {
    cluster = await Cluster.create({
      hosts: [
        { hostId: 'w1', site: 'W', priority: 1 },
        { hostId: 'w2', site: 'W' },
        { hostId: 'w3', site: 'W', extra: { capacity: { slots: 6 } } },
      ],
      common: {
        labels: { location: 'w' },
        capacity: { slots: 2 },
        services: [{ name: 'ingest', targetPerReplica: 10, maxReplicas: 6, selector: { location: 'w' } }],
        signals: [{ service: 'ingest', kind: 'push', scope: 'site' }],
      },
    })
    cluster.startAll()
    await waitFor('site W agrees on a leader', async () => await cluster.siteAgreement('W').catch(() => undefined), 60_000)
    await waitFor('w1 counts three hosts alive', async () => {
      const sites = await cluster.byId('w1').get<SitesResponse>('/v1/sites').catch(() => undefined)
      const local = sites?.sites.find(s => s.local)
      return local !== undefined && local.hostsAlive === 3 && local.slotsTotal === 10 ? local : undefined
    }, 30_000)
  })
  after(async () => { await cluster?.stopAll() })

  it('builds the site from a supervisor\'s own config and its /v1/sites: hosts alive, slots per host', async () => {
    const w1 = cluster.byId('w1')
    const r = await sim('--from-config', w1.configFile, '--from-node', w1.url, '--trace', TRACE, '--drain', '4', '--sla', '100', '--print-scenario')
    assert.equal(r.status, 0, r.stderr)
    const scenario = parse(r.stdout) as { sites: Array<{ name: string, hosts: number, slots: number, labels: Record<string, string> }>, services: Array<{ name: string, maxReplicas: number }> }
    assert.deepEqual(scenario.sites.map(s => [s.name, s.hosts, s.slots, s.labels]), [['W', 3, 3, { location: 'w' }]])
    assert.deepEqual(scenario.services.map(s => [s.name, s.maxReplicas]), [['ingest', 6]])
    assert.match(r.stdout, /--from-config \S+ --hosts 3 --slots 3 /, 'the replay line holds what was read, not the node')
    assert.match(r.stderr, /note: the site has 10 slots over 3 hosts; every simulated host gets 3 \(9 in all\)/)
  })

  it('runs the what-if like a scenario', async () => {
    const w2 = cluster.byId('w2')
    const r = await sim('--from-config', w2.configFile, '--from-node', w2.url, '--trace', TRACE, '--drain', '4', '--sla', '100', '--duration', '60s', '--policy', 'all', '--quiet')
    assert.equal(r.status, 0, r.stderr)
    const summary = JSON.parse(r.stdout) as { scenario: string, policies: Array<{ policy: string, hosts: number }> }
    assert.equal(summary.scenario, 'what-if-W')
    assert.deepEqual(summary.policies.map(p => [p.policy, p.hosts]), [['agentmesh', 3], ['hpa', 3], ['keda', 3], ['central', 3]])
  })

  it('refuses a node of another site, and exits 1 when the node does not answer', async () => {
    const other = join(cluster.dir, 'other-site.yaml')
    writeFileSync(other, 'site: elsewhere\nservices:\n  - name: ingest\n')
    const w1 = cluster.byId('w1')
    const r = await sim('--from-config', other, '--from-node', w1.url, '--trace', TRACE, '--drain', '4', '--sla', '100')
    assert.equal(r.status, 2)
    assert.match(r.stderr, /E_SIM_ARGS_INVALID: --from-node: the node at \S+ is in site "W", the config's site is "elsewhere"/)
    const port = await freePort()
    const gone = await sim('--from-config', w1.configFile, '--from-node', `http://127.0.0.1:${port}`, '--trace', TRACE, '--drain', '4', '--sla', '100')
    assert.equal(gone.status, 1)
    assert.match(gone.stderr, /E_SIM_NODE_UNREACHABLE: cannot read http:\/\/127\.0\.0\.1:\d+\/v1\/sites/)
  })
})
