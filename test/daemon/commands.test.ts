import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { parseStatusArgs, renderStatus } from '../../cli/commands/status.js'
import { CLI } from './harness.js'

const run = (...args: string[]): { status: number | null, stdout: string, stderr: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('supervise and status commands', () => {
  it('supervise refuses a bad config with exit 2, naming every bad field, and starts nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-cmd-'))
    writeFileSync(join(dir, 'bad.yaml'), 'hostId: h1\ncapacity: {slots: many}\n')
    const r = run('supervise', '--config', join(dir, 'bad.yaml'))
    assert.equal(r.status, 2)
    assert.match(r.stderr, /E_CONFIG_INVALID/)
    assert.match(r.stderr, / site: is required/)
    assert.match(r.stderr, / capacity\.slots: must be a number/)
    assert.match(r.stderr, / network\.swarmKeyFile: no swarm key/)
  })

  it('status exits 1 with E_STATUS_UNREACHABLE when no daemon answers, 2 on a bad flag', () => {
    const r = run('status', '--url', 'http://127.0.0.1:9')
    assert.equal(r.status, 1)
    assert.match(r.stderr, /E_STATUS_UNREACHABLE/)
    assert.equal(run('status', '--colour').status, 2)
  })

  it('status takes the address from the environment, a config file or --url', () => {
    assert.equal(parseStatusArgs([], {}).url, 'http://127.0.0.1:7421')
    assert.equal(parseStatusArgs([], { AGENTMESH_HTTP_LISTEN: '127.0.0.1:9000' }).url, 'http://127.0.0.1:9000')
    assert.equal(parseStatusArgs(['--url', 'http://h:1/'], {}).url, 'http://h:1')
  })

  it('renders a table of members and sites', () => {
    const text = renderStatus({
      hostId: 'a1', site: 'A', role: 'leader', term: 3, leaderId: 'a1', incarnation: 2, peerId: 'P', connections: 1, partitioned: false,
      version: '0.1.0', uptimeMs: 1000, addrs: [], gossipMeshPeers: { site: 1, global: 1 }, capacity: { slots: 4, cpuMillis: 4000, memoryMib: 4096 },
      runtime: { name: 'none', ok: true, running: {}, starting: {}, unavailable: [] }, signals: { name: 'none', signals: [] }, plan: { term: 3, version: 4, leaderId: 'a1' }, vault: null,
      peers: [{ hostId: 'a2', state: 'suspect', incarnation: 1, term: 3, leaderId: 'a1', priority: 0, planVersion: 4, runtimeOk: true, running: {}, unavailable: [], labels: {}, peerId: null, lastHeardAgoMs: 1500, connected: false }],
    }, { sites: [{ site: 'A', local: true, leaderId: 'a1', term: 3, hostsAlive: 1, slotsFree: 4, slotsTotal: 8, seenAgoMs: 0, services: [] }] })
    assert.match(text, /host a1 {2}site A {2}role leader {2}term 3 {2}leader a1/)
    assert.match(text, /a2\s+suspect\s+follower\s+1\s+3\s+1\.5 s\s+no/)
    assert.match(text, /A\s+a1\s+3\s+1\s+4\/8\s+this site/)
  })
})
