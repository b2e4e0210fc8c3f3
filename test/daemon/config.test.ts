import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CONFIG_FIELDS, envName, parseConfig, SERVICE_FIELDS } from '../../node/daemon/config.js'
import { AGENT_FIELDS, MQTT_COMMON_FIELDS, SIGNAL_COMMON_FIELDS, SIGNAL_FIELDS } from '../../node/daemon/config-workload.js'
import { SECRET_FIELDS } from '../../node/daemon/config-vault.js'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { REPO_ROOT, writeSwarmKey } from './harness.js'
import { readDoc } from '../docs/doc-files.js'

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

  it('refuses HTTP limits whose relations break, and malformed allowed hosts, naming each field', () => {
    const p = problems(MINIMAL + 'http: {maxConnections: 8, maxSseClients: 8, requestsPerSecond: 10, connectionRequestsPerSecond: 20, requestBurst: 5, connectionRequestBurst: 6, headersTimeoutMs: 5000, requestTimeoutMs: 1000, allowedHosts: [ok.example, "ok.example:80", "[::1]", "*", "no/slash", "a b", "::1"]}\n')
    for (const field of ['http.maxConnections', 'http.connectionRequestsPerSecond', 'http.connectionRequestBurst', 'http.headersTimeoutMs', 'http.allowedHosts[4]', 'http.allowedHosts[5]', 'http.allowedHosts[6]']) {
      assert.ok(p.some(x => x.includes(` ${field}: `)), `no problem names ${field}:\n${p.join('\n')}`)
    }
    assert.ok(!p.some(x => /allowedHosts\[[0-3]\]/.test(x)), p.join('\n'))
    const c = parse(MINIMAL)
    assert.deepEqual(c.http.allowedHosts, [])
    assert.equal(c.http.maxConnections, 64)
  })

  it('derives environment names from field paths', () => {
    assert.equal(envName('network.ipColocationWhitelist'), 'AGENTMESH_NETWORK_IP_COLOCATION_WHITELIST')
    assert.equal(envName('hostId'), 'AGENTMESH_HOST_ID')
  })

  it('is documented in docs/configuration.md: every field, its environment variable and every service field', () => {
    const readme = readDoc('configuration')
    for (const f of CONFIG_FIELDS) {
      assert.ok(readme.includes(`\`${f.path}\``), `docs/configuration.md lacks config field ${f.path}`)
      assert.ok(readme.includes(envName(f.path)), `docs/configuration.md lacks ${envName(f.path)}`)
    }
    // Fields of a feature with a page of its own in docs/ (the forecast) may be documented there.
    const docs = readdirSync(join(REPO_ROOT, 'docs')).filter(f => f.endsWith('.md')).map(f => readFileSync(join(REPO_ROOT, 'docs', f), 'utf8')).join('\n')
    for (const f of SERVICE_FIELDS) assert.ok(docs.includes(`\`${f.path}\``), `docs/ lacks service field ${f.path}`)
    for (const f of [...AGENT_FIELDS, ...SECRET_FIELDS, ...SIGNAL_COMMON_FIELDS, ...MQTT_COMMON_FIELDS, ...Object.values(SIGNAL_FIELDS).flat()]) {
      assert.ok(readme.includes(`| \`${f.path}\` |`), `docs/configuration.md lacks agent or signal field ${f.path}`)
    }
  })

  it('docs/configuration.md says what the code says: each field with its default, environment variable and meaning', () => {
    // Cells compared as text: backticks and link targets are the docs' own markup.
    const norm = (s: string): string => s.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '').replace(/\\\|/g, '|').trim()
    const rows = readDoc('configuration').split('\n').filter(l => l.startsWith('| `')).map(l => l.slice(1, -1).split(/(?<!\\)\|/).map(c => c.trim()))
    const rowsOf = (path: string): string[][] => rows.filter(c => c[0] === `\`${path}\``)
    const problems: string[] = []
    for (const f of CONFIG_FIELDS) {
      const [row] = rowsOf(f.path)
      const timing = f.path.startsWith('timings.')
      const lan = /lan (\d+)\)$/.exec(f.defaultText ?? '')?.[1]
      const def = f.required === true ? 'required' : timing ? lan! : f.defaultText ?? (typeof f.default === 'string' ? (f.default === '' ? '""' : f.default) : JSON.stringify(f.default))
      if (row === undefined) { problems.push(`${f.path}: no row`); continue }
      if (norm(row[1]) !== envName(f.path)) problems.push(`${f.path}: environment ${row[1]}, code ${envName(f.path)}`)
      if (norm(row[2]) !== norm(def)) problems.push(`${f.path}: default ${row[2]}, code ${def}`)
      if (norm(row[row.length - 1]) !== norm(f.doc)) problems.push(`${f.path}: meaning differs from CONFIG_FIELDS:\n  docs: ${row[row.length - 1]}\n  code: ${f.doc}`)
    }
    const kinds = Object.entries(SIGNAL_FIELDS).map(([kind, fields]) => [kind, fields] as const)
    const tables: Array<readonly [string, ReadonlyArray<{ path: string, default: string, doc: string }>]> = [
      ['services[]', SERVICE_FIELDS], ['services[].agent', AGENT_FIELDS], ['services[].secrets[]', SECRET_FIELDS],
      ['signals[]', SIGNAL_COMMON_FIELDS], ['signals[] (mqtt)', MQTT_COMMON_FIELDS], ...kinds,
    ]
    for (const [table, fields] of tables) {
      for (const f of fields) {
        const candidates = rowsOf(f.path).filter(c => !(table in SIGNAL_FIELDS) || c[1].split(', ').includes(table))
        if (!candidates.some(c => norm(c[c.length - 2]) === norm(f.default) && norm(c[c.length - 1]) === norm(f.doc))) {
          problems.push(`${table} ${f.path}: no row with default "${f.default}" and meaning "${f.doc}"`)
        }
      }
    }
    assert.deepEqual(problems, [])
  })

  it('resolves a relative data dir against the config file', () => {
    writeFileSync(join(dir, 'rel.yaml'), '')
    const c = parseConfig(`site: a\nhostId: h\ndataDir: data\nnetwork: {swarmKeyFile: ${swarm}}\n`, { file: join(dir, 'rel.yaml'), env: {} })
    assert.equal(c.dataDir, join(dir, 'data'))
  })

  describe('workload: services[].agent and signals', () => {
    const WORKLOAD = MINIMAL + [
      'runtime: {kind: docker, dockerSocket: /run/docker.sock}',
      'services:',
      '  - name: detector',
      '    upstream: {name: broker}',
      '    agent:',
      '      image: agentmesh/agent:test',
      '      env: {AGENT_TOPIC: work, AGENT_RATE_PER_S: 5}',
      '      memoryMib: 64',
      '      restartPolicy: on-failure',
      '      stopTimeoutMs: 2000',
      'signals:',
      '  - {service: detector, kind: mqtt-backlog, url: "mqtt://127.0.0.1:1883", topic: site/backlog, scope: site}',
      '  - {service: detector, kind: push}',
      '  - {upstream: broker, kind: prometheus, url: "http://127.0.0.1:9090", query: "sum(up)"}',
      '',
    ].join('\n')

    it('builds the agent spec and the signal entries, with their defaults', () => {
      const c = parse(WORKLOAD)
      assert.equal(c.runtime.kind, 'docker')
      assert.equal(c.runtime.dockerSocket, '/run/docker.sock')
      assert.deepEqual(c.agents.detector, {
        service: 'detector', image: 'agentmesh/agent:test', env: { AGENT_TOPIC: 'work', AGENT_RATE_PER_S: '5' },
        memoryMib: 64, restartPolicy: 'on-failure', networkMode: 'host', stopTimeoutMs: 2000,
      })
      assert.deepEqual(c.signals.map(e => [e.config.kind, e.config.service, e.config.upstream, e.scope]), [
        ['mqtt-backlog', 'detector', false, 'site'],
        ['push', 'detector', false, 'host'],
        ['prometheus', 'broker', true, 'host'],
      ])
    })

    it('refuses a workload that cannot run, naming each field and line', () => {
      const p = problems(MINIMAL + [
        'runtime: {kind: process}',
        'services:',
        '  - name: a',
        '    agent: {image: x, networkMode: bridge, colour: red}',
        '  - name: b',
        '  - name: c',
        '    agent: {image: y}',
        'signals:',
        '  - {service: nope, kind: push}',
        '  - {service: a, upstream: u, kind: push}',
        '  - {service: a, kind: mqtt-backlog, url: "http://x", topic: t, scope: region}',
        '  - {service: a, kind: teapot}',
        '  - {service: a, kind: push, topic: t}',
        '',
      ].join('\n'))
      const has = (re: RegExp): void => assert.ok(p.some(x => re.test(x)), `no problem matches ${re}:\n${p.join('\n')}`)
      has(/:8:\d+ services\[0\]\.agent\.networkMode: must be host or none/)
      has(/services\[0\]\.agent\.colour: unknown field/)
      has(/services\[1\]\.agent: is required with runtime.kind process/)
      has(/services\[2\]\.agent\.command: is required with runtime.kind process/)
      has(/:13:\d+ signals\[0\]\.service: names no configured service/)
      has(/signals\[1\]: needs exactly one of service or upstream/)
      has(/signals\[2\]\.scope: must be host or site/)
      has(/signals\[3\]\.kind: must be mqtt-backlog/)
      has(/signals\[4\]\.topic: unknown field for kind push/)
      assert.ok(!p.some(x => /services\[0\]\.agent: is required/.test(x)), 'a given but invalid agent is reported once, not as missing')
    })

    it('checks a signal entry with the rules of the signal itself, and reads secrets from files', () => {
      const p = problems(MINIMAL + 'services: [{name: a}]\nsignals:\n  - {service: a, kind: mqtt-backlog, url: "http://x", topic: "a/#/b"}\n')
      assert.ok(p.some(x => /signals\[0\]: .*scheme must be mqtt/.test(x) && /not a valid filter/.test(x)), p.join('\n'))
      const missing = problems(MINIMAL + 'services: [{name: a}]\nsignals:\n  - {service: a, kind: mqtt-rate, url: "mqtt://x", topic: t, passwordFile: nope.txt}\n')
      assert.ok(missing.some(x => /signals\[0\]\.passwordFile: cannot read .*nope\.txt/.test(x)), missing.join('\n'))
      writeFileSync(join(dir, 'mqtt.pw'), 'secret\n', { mode: 0o600 })
      const c = parse(MINIMAL + 'services: [{name: a}]\nsignals:\n  - {service: a, kind: mqtt-rate, url: "mqtt://x", topic: t, passwordFile: mqtt.pw}\n')
      assert.equal((c.signals[0]!.config as { password?: string }).password, 'secret')
    })

    it('reads what a signal measures, backlog by default, and refuses a rate of an upstream', () => {
      const c = parse(MINIMAL + 'services: [{name: a}]\nsignals:\n  - {service: a, kind: push}\n  - {service: a, kind: mqtt-rate, url: "mqtt://x", topic: t, measures: rate}\n')
      assert.deepEqual(c.signals.map(e => e.measures), ['backlog', 'rate'])
      const p = problems(MINIMAL + 'services: [{name: a, upstream: {name: u}}]\nsignals:\n  - {service: a, kind: push, measures: speed}\n  - {upstream: u, kind: push, measures: rate}\n')
      assert.ok(p.some(x => /signals\[0\]\.measures: must be backlog or rate, got "speed"/.test(x)), p.join('\n'))
      assert.ok(p.some(x => /signals\[1\]\.measures: an upstream signal is a saturation/.test(x)), p.join('\n'))
    })

    it('takes the signal list from AGENTMESH_SIGNALS, naming the variable in problems', () => {
      const c = parse(MINIMAL + 'services: [{name: a}]\n', { AGENTMESH_SIGNALS: '[{service: a, kind: push, scope: site}]' })
      assert.deepEqual(c.signals.map(e => e.scope), ['site'])
      const p = problems(MINIMAL + 'services: [{name: a}]\n', { AGENTMESH_SIGNALS: '[{service: b, kind: push}]' })
      assert.ok(p.some(x => x.startsWith('env AGENTMESH_SIGNALS signals[0].service')), p.join('\n'))
    })
  })
})

describe('daemon config: vault and secrets', () => {
  const ca = join(dir, 'ca.pem')
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
  const sid = join(dir, 'vault.sid')
  writeFileSync(sid, 'secret-id\n', { mode: 0o600 })
  const leaky = join(dir, 'leaky.sid')
  writeFileSync(leaky, 'secret-id\n', { mode: 0o644 })
  const shm = mkdtempSync('/dev/shm/agentmesh-config-test-')
  const VAULT = MINIMAL + [
    `vault: {address: "https://vault.example:8200/", caFile: ${ca}, auth: {roleId: role-1, secretIdFile: ${sid}}}`,
    `runtime: {kind: process, secretsDir: ${shm}}`,
    'services:',
    '  - name: ingest',
    '    agent: {command: [agent], env: {BROKER: x}}',
    '    secrets:',
    '      - {path: agents/ingest, key: password, env: MQTT_PASSWORD, restartOnChange: true}',
    '      - {mount: kv, path: agents/ingest, key: dsn, file: dsn, version: 3}',
    '',
  ].join('\n')

  it('builds the vault section and each service\'s secrets, with their defaults', () => {
    const c = parse(VAULT)
    assert.equal(c.vault?.address, 'https://vault.example:8200')
    assert.equal(c.vault?.auth.method, 'approle')
    assert.equal(c.vault?.auth.mount, 'approle')
    assert.equal(c.vault?.maxStaleMs, 300_000)
    assert.equal(c.vault?.refreshIntervalMs, 60_000)
    assert.deepEqual(c.secrets.ingest, [
      { mount: 'secret', path: 'agents/ingest', version: 0, key: 'password', env: 'MQTT_PASSWORD', restartOnChange: true },
      { mount: 'kv', path: 'agents/ingest', version: 3, key: 'dsn', file: 'dsn', restartOnChange: false },
    ])
    assert.equal(parse(MINIMAL).vault, undefined, 'no vault section: no Vault')
  })

  it('takes the swarm key from Vault instead of a file (no file needed), and names the default secrets folder', () => {
    const c = parse(`site: a\nhostId: h\nvault: {address: "http://127.0.0.1:8200", auth: {method: token, tokenFile: ${sid}}}\nnetwork: {swarmKeyVault: {path: agentmesh/mesh}}\nhttp: {tokenVault: {path: agentmesh/mesh}}\n`)
    assert.deepEqual(c.network.swarmKeyVault, { mount: 'secret', path: 'agentmesh/mesh', key: 'swarm_key' })
    assert.deepEqual(c.http.tokenVault, { mount: 'secret', path: 'agentmesh/mesh', key: 'token' })
    assert.match(c.runtime.secretsDir, /^\/dev\/shm\/agentmesh-\d+\/secrets$/)
    assert.equal(parse(MINIMAL, { RUNTIME_DIRECTORY: '/run/agentmesh' }).runtime.secretsDir, '/run/agentmesh/secrets')
    assert.equal(parse(MINIMAL, { XDG_RUNTIME_DIR: '/run/user/1000' }).runtime.secretsDir, '/run/user/1000/agentmesh/secrets')
  })

  it('reports every Vault and secrets problem at once, naming each field', () => {
    const p = problems([
      'site: a',
      'hostId: h',
      `network: {swarmKeyFile: ${swarm}, swarmKeyVault: {path: "../up"}}`,
      `http: {tokenFile: ${sid}, tokenVault: {path: agentmesh/mesh}}`,
      `vault: {address: "http://user:pw@vault:8200", caFile: ${ca}, colour: red, auth: {method: approle, secretIdFile: ${leaky}, shade: x}, retryMsMin: 5000, retryMsMax: 1000}`,
      'runtime: {kind: process, secretsDir: /var/tmp}',
      'services:',
      '  - name: ingest',
      '    agent: {command: [agent], env: {TOKEN: x}}',
      '    secrets:',
      '      - {path: agents/ingest, env: TOKEN}',
      '      - {path: agents/ingest, key: k, env: AGENTMESH_X, file: f}',
      '      - {path: "/abs//path", key: k, file: "../escape", colour: blue}',
      '      - {path: agents/ingest, key: k, file: dsn}',
      '      - {path: agents/ingest, key: k2, file: dsn, version: -1, restartOnChange: maybe}',
      '',
    ].join('\n'))
    const text = p.join('\n')
    for (const field of [
      'network.swarmKeyVault.path', 'http.tokenVault.path', 'vault.address', 'vault.colour', 'vault.auth.shade', 'vault.auth.roleId', 'vault.auth.secretIdFile', 'vault.retryMsMin',
      'runtime.secretsDir', 'services[0].secrets[0].key', 'services[0].secrets[0].env', 'services[0].secrets[1]', 'services[0].secrets[2].path', 'services[0].secrets[2].file', 'services[0].secrets[2].colour',
      'services[0].secrets[4].file', 'services[0].secrets[4].version', 'services[0].secrets[4].restartOnChange',
    ]) {
      assert.ok(text.includes(` ${field}:`), `no problem names ${field}:\n${text}`)
    }
    assert.match(text, /vault\.address: must be https:\/\/HOST:PORT .*\*\*\*@vault/, 'the user info in a bad address is not echoed')
    assert.doesNotMatch(text, /user:pw/)
    assert.match(text, /vault\.auth\.secretIdFile: AppRole secret id file .* is accessible to every user/)
    assert.match(text, /runtime\.secretsDir: \/var\/tmp is not on a tmpfs/)
  })

  it('refuses secrets, a swarm key or a token from Vault without vault.address', () => {
    const p = problems(MINIMAL + 'http: {tokenVault: {path: x}}\nservices:\n  - name: a\n    secrets: [{path: p, key: k, env: K}]\n')
    assert.ok(p.some(x => x.includes(' http.tokenVault.path: needs vault.address')), p.join('\n'))
    assert.ok(p.some(x => x.includes(' services[0].secrets: needs vault.address')), p.join('\n'))
  })
})
