import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CONFIG_FIELDS, envName, parseConfig, SERVICE_FIELDS } from '../../node/daemon/config.js'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { REPO_ROOT, writeSwarmKey } from './harness.js'

const dir = mkdtempSync(join(tmpdir(), 'agentmesh-config-'))
const swarm = join(dir, 'swarm.key')
writeSwarmKey(swarm)

function parse (text: string, env: Record<string, string> = {}): ReturnType<typeof parseConfig> {
  return parseConfig(text, { file: join(dir, 'agentmesh.yaml'), env })
}

function problems (text: string, env: Record<string, string> = {}): string[] {
  try {
    parse(text, env)
  } catch (err) {
    assert.ok(err instanceof DaemonError)
    assert.equal(err.code, DaemonErrorCode.ConfigInvalid)
    return [...err.problems]
  }
  assert.fail('expected the config to be refused')
}

const MINIMAL = `site: plant-a\nhostId: h1\nnetwork:\n  swarmKeyFile: ${swarm}\n`

describe('daemon config', () => {
  it('fills every field with its documented default from a minimal file', () => {
    const c = parse(MINIMAL)
    assert.equal(c.site, 'plant-a')
    assert.equal(c.profile, 'lan')
    assert.equal(c.timings.heartbeatIntervalMs, 500)
    assert.deepEqual(c.network.listen, ['/ip4/0.0.0.0/tcp/7420'])
    assert.equal(c.http.host, '127.0.0.1')
    assert.equal(c.http.port, 7421)
    assert.equal(c.runtime.kind, 'none')
    assert.equal(c.network.privateKeyFile, '/var/lib/agentmesh/host.key')
    assert.deepEqual(c.services, [])
  })

  it('reports every problem at once, each naming its field and line', () => {
    const p = problems([
      'hostId: "bad id!"',
      'profile: moon',
      'capacity: {slots: -1}',
      'network:',
      `  swarmKeyFile: ${swarm}`,
      '  bootstrap: [/ip4/127.0.0.1/tcp/1]',
      '  listen: [not-a-multiaddr]',
      'http: {listen: "nope"}',
      'colour: blue',
      'services:',
      '  - name: ingest',
      '    minReplicas: 5',
      '    maxReplicas: 2',
      '    scaleUp: {policies: [{type: pods, value: 0, periodMs: 1000}]}',
      '  - name: ingest',
    ].join('\n'))
    const text = p.join('\n')
    for (const field of ['site', 'hostId', 'profile', 'capacity.slots', 'network.bootstrap[0]', 'network.listen[0]', 'http.listen', 'colour', 'services[0].minReplicas', 'services[0].scaleUp.policies[0].value', 'services[1].name']) {
      assert.ok(text.includes(` ${field}:`), `no problem names ${field}:\n${text}`)
    }
    assert.match(text, /agentmesh\.yaml:2:\d+ profile:/)
  })

  it('takes AGENTMESH_* overrides over the file, for scalars, lists, labels and services', () => {
    const c = parse(MINIMAL, {
      AGENTMESH_SITE: 'plant-b',
      AGENTMESH_NETWORK_LISTEN: '/ip4/127.0.0.1/tcp/1,/ip4/127.0.0.1/tcp/2',
      AGENTMESH_LABELS: 'location=plant-b,hardware=gpu',
      AGENTMESH_TIMINGS_HEARTBEAT_INTERVAL_MS: '250',
      AGENTMESH_DEBUG_FAULT_INJECTION: 'false',
      AGENTMESH_SERVICES: '[{"name": "detect", "maxReplicas": 3}]',
    })
    assert.equal(c.site, 'plant-b')
    assert.deepEqual(c.network.listen, ['/ip4/127.0.0.1/tcp/1', '/ip4/127.0.0.1/tcp/2'])
    assert.equal(c.labels.get('hardware'), 'gpu')
    assert.equal(c.timings.heartbeatIntervalMs, 250)
    assert.equal(c.services[0].name, 'detect')
    assert.equal(c.services[0].maxReplicas, 3)
  })

  it('names the environment variable when an override is bad', () => {
    const p = problems(MINIMAL, { AGENTMESH_HTTP_MAX_BODY_BYTES: 'lots' })
    assert.ok(p.some(x => x.startsWith('env AGENTMESH_HTTP_MAX_BODY_BYTES http.maxBodyBytes:')), p.join('\n'))
  })

  it('refuses timings whose relations break, and a missing swarm key', () => {
    const p = problems('site: a\nhostId: h\ntimings: {heartbeatIntervalMs: 2000}\nnetwork: {swarmKeyFile: /nonexistent/swarm.key}\n')
    assert.ok(p.some(x => x.includes('timings:') && x.includes('suspectAfterMs')), p.join('\n'))
    assert.ok(p.some(x => x.includes('network.swarmKeyFile:')), p.join('\n'))
  })

  it('derives environment names from field paths', () => {
    assert.equal(envName('network.ipColocationWhitelist'), 'AGENTMESH_NETWORK_IP_COLOCATION_WHITELIST')
    assert.equal(envName('hostId'), 'AGENTMESH_HOST_ID')
  })

  it('is documented in the README: every field, its environment variable and every service field', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    for (const f of CONFIG_FIELDS) {
      assert.ok(readme.includes(`\`${f.path}\``), `README lacks config field ${f.path}`)
      assert.ok(readme.includes(envName(f.path)), `README lacks ${envName(f.path)}`)
    }
    for (const f of SERVICE_FIELDS) assert.ok(readme.includes(`\`${f.path}\``), `README lacks service field ${f.path}`)
  })

  it('resolves a relative data dir against the config file', () => {
    writeFileSync(join(dir, 'rel.yaml'), '')
    const c = parseConfig(`site: a\nhostId: h\ndataDir: data\nnetwork: {swarmKeyFile: ${swarm}}\n`, { file: join(dir, 'rel.yaml'), env: {} })
    assert.equal(c.dataDir, join(dir, 'data'))
  })
})
