/**
 * Secrets from Vault end to end: two supervisor processes (process runtime) and the Vault
 * STAND-IN in a process of its own (test/secrets/vault-stand-in.ts, over TLS with a CA file).
 * The mesh's swarm key and the HTTP API token come from Vault; each host logs in with its own
 * AppRole (a 3 s token TTL, 8 s max); services get secrets as environment variables and as files.
 * Agents are found from outside, through /proc; the secrets they got are read from
 * /proc/PID/environ and from their files. Every log line, event, /v1 answer, metric and file
 * in the data dirs is scanned for the secret values at the end.
 */
import { Value } from '@sinclair/typebox/value'
import { Status } from '../../node/daemon/api-schema.js'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Cluster, CLI, waitFor, writeSwarmKey, type Supervisor } from '../daemon/harness.js'
import { VaultProcess } from '../secrets/vault-process.js'

const STEP_MS = 30_000
const TMPFS_MAGIC = 0x01021994

interface Agent { pid: number, service: string, host: string, env: Record<string, string> }

/** Every live process whose command line holds `marker`, with its environment. */
function agents (marker: string): Agent[] {
  const out: Agent[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')
      const at = argv.indexOf(marker)
      if (at < 0) continue
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
      const env = Object.fromEntries(readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').filter(Boolean).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]))
      out.push({ pid: Number(name), service: argv[at + 1], host: env.AGENTMESH_HOST, env })
    } catch { /* exited meanwhile */ }
  }
  return out.sort((a, b) => a.pid - b.pid)
}

function rand (label: string): string {
  return `${label}-${randomBytes(9).toString('base64url')}`
}

/* eslint-disable @typescript-eslint/no-explicit-any */
describe('end to end: secrets from Vault (the stand-in) for agents and for the mesh', { timeout: 4 * 60_000 }, () => {
  const marker = `agentmesh-vault-${randomBytes(4).toString('hex')}`
  const swarmHex = (() => { const d = `/tmp/${marker}.key`; writeSwarmKey(d); const hex = readFileSync(d, 'utf8').split('\n')[2]; rmSync(d); return hex })()
  const values = {
    apiToken: rand('api-token'),
    ingestPw1: rand('ingest-pw-v1'),
    ingestDsn1: `postgres://ingest:${rand('dsn-v1')}@db/ingest`,
    detectorToken1: rand('detector-token-v1'),
    ingestPw2: rand('ingest-pw-v2'),
    ingestDsn2: `postgres://ingest:${rand('dsn-v2')}@db/ingest`,
    detectorToken2: rand('detector-token-v2'),
    secretIdP1: rand('sid-p1'),
    secretIdP2: rand('sid-p2'),
  }
  const secretsDir = `/dev/shm/${marker}`
  let vault: VaultProcess
  let cluster: Cluster
  const lines = new Map<string, string[]>()
  const events: string[] = []
  const streams: AbortController[] = []

  before(async () => {
    vault = new VaultProcess({
      tls: true,
      seed: {
        mounts: { '': ['secret'] },
        secrets: [
          { mount: 'secret', path: 'agentmesh/mesh', data: { swarm_key: swarmHex, api_token: values.apiToken } },
          { mount: 'secret', path: 'agents/ingest', data: { password: values.ingestPw1, dsn: values.ingestDsn1 } },
          { mount: 'secret', path: 'agents/detector', data: { api_token: values.detectorToken1 } },
        ],
        policies: [
          { name: 'mesh', paths: { 'secret/data/agentmesh/mesh': ['read'] } },
          { name: 'agents-all', paths: { 'secret/data/agents/*': ['read'] } },
          { name: 'agents-ingest', paths: { 'secret/data/agents/ingest': ['read'] } },
        ],
        roles: [
          { name: 'p1', roleId: 'role-p1', secretIds: [values.secretIdP1], policies: ['mesh', 'agents-all'], ttlS: 3, maxTtlS: 8 },
          { name: 'p2', roleId: 'role-p2', secretIds: [values.secretIdP2], policies: ['mesh', 'agents-ingest'], ttlS: 3, maxTtlS: 8 },
        ],
      },
    })
    await vault.start()
    mkdirSync(secretsDir, { mode: 0o700 })
    const agent = (service: string): Record<string, unknown> => ({ command: [process.execPath, '-e', 'setInterval(() => {}, 1000)', marker, service], stopTimeoutMs: 1000 })
    cluster = await Cluster.create({
      hosts: ['p1', 'p2'].map(hostId => ({
        hostId,
        site: 'V',
        extra: { vault: { auth: { roleId: `role-${hostId}`, secretIdFile: join(vault.dir, `${hostId}.sid`) } } },
      })),
      common: {
        log: { level: 'info' },
        network: { swarmKeyFile: '', swarmKeyVault: { path: 'agentmesh/mesh', key: 'swarm_key' } },
        http: { tokenFile: '', tokenVault: { path: 'agentmesh/mesh', key: 'api_token' } },
        runtime: { kind: 'process', resyncIntervalMs: 1000, secretsDir },
        vault: {
          address: vault.address, caFile: vault.caFile, requestTimeoutMs: 1000, retryMsMin: 200, retryMsMax: 1000,
          refreshIntervalMs: 1000, maxStaleMs: 6000, auth: { method: 'approle' },
        },
        services: [
          {
            name: 'ingest', minReplicas: 2, maxReplicas: 2, agent: agent('ingest'),
            secrets: [
              { path: 'agents/ingest', key: 'password', env: 'MQTT_PASSWORD', restartOnChange: true },
              { path: 'agents/ingest', key: 'dsn', file: 'dsn' },
            ],
          },
          { name: 'detector', minReplicas: 2, maxReplicas: 2, agent: agent('detector'), secrets: [{ path: 'agents/detector', key: 'api_token', file: 'api_token' }] },
        ],
      },
    })
    writeFileSync(join(vault.dir, 'p1.sid'), values.secretIdP1, { mode: 0o600 })
    writeFileSync(join(vault.dir, 'p2.sid'), values.secretIdP2, { mode: 0o600 })
    for (const s of cluster.sups) {
      const mine: string[] = []
      lines.set(s.hostId, mine)
      s.onLine = (l) => { mine.push(l) }
    }
    cluster.startAll()
    await waitFor('site V agrees on a leader', async () => await cluster.siteAgreement('V').catch(() => undefined), STEP_MS)
    for (const s of cluster.sups) streams.push(collectEvents(s, events))
  })

  after(async () => {
    if (process.env.VAULT_E2E_DUMP !== undefined) writeFileSync(process.env.VAULT_E2E_DUMP, [...lines].map(([h, l]) => l.map(x => `${h} ${x}`).join('\n')).join('\n') + '\nEVENTS\n' + events.join(''))
    for (const c of streams) c.abort()
    await cluster?.stopAll()
    for (const a of agents(marker)) { try { process.kill(-a.pid, 'SIGKILL') } catch { try { process.kill(a.pid, 'SIGKILL') } catch {} } }
    await vault?.dispose()
    rmSync(secretsDir, { recursive: true, force: true })
  })

  const status = async (s: Supervisor): Promise<any> => await s.get('/v1/status')
  const ofService = (service: string): Agent[] => agents(marker).filter(a => a.service === service)
  const file = (a: Agent, name: string): string => readFileSync(join(a.env.AGENTMESH_SECRETS_DIR, name), 'utf8')

  it('forms the mesh with the swarm key from Vault, and takes the API token from Vault', async () => {
    const [p1] = cluster.sups
    const good = await p1.post('/v1/debug/partition', { partitioned: false }, values.apiToken)
    assert.equal(good.status, 200, await good.text())
    const bad = await p1.post('/v1/debug/partition', { partitioned: false }, 'test-token-0123456789abcdef')
    assert.equal(bad.status, 401)
    const st = await status(p1)
    assert.equal(st.vault.auth.method, 'approle')
    assert.equal(st.peers[0].state, 'alive', 'the two hosts hear each other over pnet with the key from Vault')
  })

  it('gives agents their secrets as environment variables and as files on a tmpfs, removed when the agent stops', async () => {
    const ingest = await waitFor('two ingest agents', () => { const a = ofService('ingest'); return a.length === 2 ? a : undefined }, STEP_MS, 100)
    for (const a of ingest) {
      assert.equal(a.env.MQTT_PASSWORD, values.ingestPw1)
      const dir = a.env.AGENTMESH_SECRETS_DIR
      assert.ok(dir.startsWith(join(secretsDir, a.host) + '/'), dir)
      assert.equal(file(a, 'dsn'), values.ingestDsn1)
      assert.equal(Number(statfsSync(dir).type), TMPFS_MAGIC, 'the files are on a tmpfs')
      assert.equal(statSync(dir).mode & 0o777, 0o700)
      assert.equal(statSync(join(dir, 'dsn')).mode & 0o777, 0o400)
      assert.equal(statSync(join(secretsDir, a.host)).mode & 0o777, 0o700)
    }
    // Stopped agents' folders go: kill one, and its folder is removed once it is replaced.
    const victim = ingest[0]
    const dir = victim.env.AGENTMESH_SECRETS_DIR
    process.kill(victim.pid, 'SIGKILL')
    await waitFor('the killed agent replaced', () => { const a = ofService('ingest'); return a.length === 2 && !a.some(x => x.pid === victim.pid) ? a : undefined }, STEP_MS, 100)
    await waitFor('its secrets folder removed', () => { try { statSync(dir); return undefined } catch { return true } }, STEP_MS, 100)
  })

  it('a host whose Vault policy refuses a secret reports the service unavailable (E_VAULT_FORBIDDEN), and the leader places its replicas on the host that can start them', async () => {
    const [p1, p2] = cluster.sups
    const st = await waitFor('p2 reports detector unavailable', async () => {
      const s = await status(p2)
      return s.runtime.unavailable.includes('detector') ? s : undefined
    }, STEP_MS)
    assert.equal(st.vault.services.find((x: any) => x.service === 'detector').unavailable.code, 'E_VAULT_FORBIDDEN')
    const detectors = await waitFor('both detector agents on p1', () => { const a = ofService('detector'); return a.length === 2 ? a : undefined }, STEP_MS, 100)
    for (const a of detectors) {
      assert.equal(a.host, 'p1')
      assert.equal(file(a, 'api_token'), values.detectorToken1)
    }
    // Heartbeats go to the leader alone (docs/membership.md): when p1 leads, it heard it in p2's
    // heartbeat; when p2 leads, its own status above says so. Either way the placement shows it.
    if ((await status(p1)).leaderId === 'p1') {
      const fromP1 = (await status(p1)).peers.find((p: any) => p.hostId === 'p2')
      assert.deepEqual(fromP1.unavailable, ['detector'], 'the leader p1 heard it in p2\'s heartbeat')
    }
    assert.ok(lines.get('p2')!.some(l => l.includes('"code":"E_VAULT_FORBIDDEN"') && l.includes('container action failed')), 'the failed start is logged with its code')
    // Granted: p2's next token (a new login at its 8 s max TTL) carries the policy, and the service is available there again.
    await vault.setRolePolicies('p2', ['mesh', 'agents-all'])
    await waitFor('p2 can start detector again', async () => { const s = await status(p2); return s.runtime.unavailable.length === 0 ? s : undefined }, STEP_MS)
  })

  it('renews each AppRole token before its 3 s TTL runs out and logs in again at its 8 s max TTL, shown in agentmesh status without the token', async () => {
    const [p1] = cluster.sups
    const st = await waitFor('renewals and a second login', async () => { const s = await status(p1); return s.vault.auth.renewals >= 2 && s.vault.auth.logins >= 2 ? s : undefined }, STEP_MS)
    assert.ok(st.vault.auth.tokenTtlLeftMs > 0 && st.vault.auth.tokenTtlLeftMs <= 3000, String(st.vault.auth.tokenTtlLeftMs))
    assert.equal(st.vault.auth.up, true)
    const text = execFileSync(process.execPath, [CLI, 'status', '--url', p1.url], { encoding: 'utf8' })
    assert.match(text, /vault https:\/\/127\.0\.0\.1:\d+ {2}answering {2}auth approle {2}token [\d.]+ (s|ms) left/)
    assert.match(text, /ingest +secret\/agents\/ingest +password +env MQTT_PASSWORD +yes/)
    assert.doesNotMatch(text, /hvs\./)
  })

  it('a secret rotated: restartOnChange restarts the ingest agents one at a time with the new value; a file secret is rewritten in place', async () => {
    const before = ofService('ingest').map(a => a.pid)
    const detectors = ofService('detector').map(a => a.pid)
    await vault.writeSecret('secret', 'agents/ingest', { password: values.ingestPw2, dsn: values.ingestDsn2 })
    await vault.writeSecret('secret', 'agents/detector', { api_token: values.detectorToken2 })
    // Pacing (one agent of a service at a time on each host) is in agent-secrets.test.ts: here
    // each host runs one ingest replica, and hosts restart theirs independently.
    const ingest = await waitFor('both ingest agents restarted with the new password', () => {
      const a = ofService('ingest')
      return a.length === 2 && a.every(x => !before.includes(x.pid) && x.env.MQTT_PASSWORD === values.ingestPw2) ? a : undefined
    }, STEP_MS, 50)
    for (const a of ingest) assert.equal(file(a, 'dsn'), values.ingestDsn2)
    const detector = await waitFor('the detector files rewritten', () => {
      const a = ofService('detector')
      return a.length === 2 && a.every(x => file(x, 'api_token') === values.detectorToken2) ? a : undefined
    }, STEP_MS, 100)
    assert.deepEqual(detector.map(a => a.pid), detectors, 'detector (no restartOnChange) was not restarted')
    assert.ok(events.some(e => e.includes('"what":"restart"')), 'restarts are events')
  })

  it('Vault stopped: running agents keep running, a start within maxStale uses the copy in memory, a later one fails with E_VAULT_STALE, and all recovers when Vault is back', async () => {
    const runningBefore = agents(marker).map(a => a.pid)
    await vault.stop()
    await waitFor('both hosts see Vault down', async () => {
      const s = await Promise.all(cluster.sups.map(status))
      return s.every(x => x.vault.auth.up === false) ? s : undefined
    }, STEP_MS)
    assert.deepEqual(agents(marker).map(a => a.pid), runningBefore, 'nothing running was touched')

    // Within maxStale (6 s after the last refresh): the replacement starts from memory.
    const [first] = ofService('ingest')
    process.kill(first.pid, 'SIGKILL')
    const replaced = await waitFor('the killed ingest agent replaced from memory', () => {
      const a = ofService('ingest')
      return a.length === 2 && !a.some(x => x.pid === first.pid) ? a : undefined
    }, STEP_MS, 50)
    assert.ok(replaced.every(a => a.env.MQTT_PASSWORD === values.ingestPw2))
    const host = cluster.byId(replaced.find(a => !runningBefore.includes(a.pid))!.host)
    const cached = await host.metric('agentmesh_secret_resolutions_total', 'result="cached"')
    assert.ok(cached >= 1, `resolutions from memory: ${cached}`)

    // Past maxStale: the next replacement fails, clearly, and is reported.
    await waitFor('the copies in memory past maxStale', async () => {
      const s = await Promise.all(cluster.sups.map(status))
      return s.every(x => x.vault.secrets.filter((c: any) => c.secret.startsWith('secret/agents/ingest')).every((c: any) => c.ageMs > 6000)) ? true : undefined
    }, STEP_MS, 200)
    const detectorsBefore = ofService('detector').map(a => a.pid)
    const [second] = ofService('ingest')
    process.kill(second.pid, 'SIGKILL')
    const st = await waitFor('a host reports ingest unavailable with E_VAULT_STALE', async () => {
      for (const s of cluster.sups) {
        const x = await status(s)
        const svc = x.vault.services.find((v: any) => v.service === 'ingest')
        if (svc.unavailable?.code === 'E_VAULT_STALE') return x
      }
      return undefined
    }, STEP_MS)
    assert.match(st.vault.services.find((v: any) => v.service === 'ingest').unavailable.message, /past vault\.maxStaleMs .* E_VAULT_UNREACHABLE/)
    // The log line travels through the supervisor's stdout pipe, so it may trail the status.
    await waitFor('the failed start is logged with its code', () =>
      [...lines.values()].flat().some(l => l.includes('"code":"E_VAULT_STALE"') && l.includes('container action failed')) ? true : undefined, STEP_MS, 50)
    assert.equal(ofService('ingest').length, 1, 'no replacement could start')
    assert.deepEqual(ofService('detector').map(a => a.pid), detectorsBefore, 'running agents untouched')

    // Vault back: the hosts find out (sys/health), read again, and the replica starts.
    await vault.start()
    const back = await waitFor('two ingest agents again', () => { const a = ofService('ingest'); return a.length === 2 ? a : undefined }, STEP_MS, 100)
    assert.ok(back.every(a => a.env.MQTT_PASSWORD === values.ingestPw2))
    await waitFor('no service unavailable anywhere', async () => {
      const s = await Promise.all(cluster.sups.map(status))
      return s.every(x => x.runtime.unavailable.length === 0 && x.vault.auth.up === true) ? true : undefined
    }, STEP_MS)
  })

  it('no secret value, secret id or token appears in any log line, event, /v1 answer, metric or file of the data dirs', async () => {
    const haystacks: Array<[string, string]> = []
    for (const [host, l] of lines) haystacks.push([`${host} log`, l.join('\n')])
    haystacks.push(['events', events.join('\n')])
    for (const s of cluster.sups) {
      for (const path of ['/v1/status', '/v1/plan', '/v1/sites']) haystacks.push([`${s.hostId} ${path}`, JSON.stringify(await s.get(path))])
      // The status with a vault section matches the API's schema (closed: nothing undocumented).
      const st = await s.get('/v1/status')
      assert.deepEqual([...Value.Errors(Status, st)].map(e => `${e.path}: ${e.message}`), [], `${s.hostId} /v1/status`)
      haystacks.push([`${s.hostId} /metrics`, await s.metricsText()])
      for (const f of filesUnder(s.dir)) haystacks.push([f, readFileSync(f, 'latin1')])
    }
    assert.ok(haystacks.length > 10)
    assert.ok(events.length > 0, 'events were collected')
    const needles = [...Object.values(values), swarmHex]
    for (const [where, text] of haystacks) {
      for (const n of needles) assert.ok(!text.includes(n), `${where} contains a secret (${n.slice(0, 12)}…)`)
      assert.doesNotMatch(text, /hvs\.[A-Za-z0-9_-]{8,}/, `${where} contains a Vault token`)
    }
  })
})

/** Collects the server-sent events of one supervisor until aborted. */
function collectEvents (s: Supervisor, into: string[]): AbortController {
  const ctrl = new AbortController()
  void (async () => {
    try {
      const res = await fetch(`${s.url}/v1/events`, { signal: ctrl.signal })
      const decoder = new TextDecoder()
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) into.push(decoder.decode(chunk))
    } catch { /* aborted */ }
  })()
  return ctrl
}

function filesUnder (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...filesUnder(p))
    else out.push(p)
  }
  return out
}
