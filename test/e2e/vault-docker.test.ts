/**
 * Secrets from Vault (the STAND-IN, test/secrets/vault-stand-in.ts) inside Docker containers: one
 * supervisor with `runtime.kind: docker` and the real engine; its agent (the test image, running
 * as its non-root user) is asked from inside, with `docker exec`, what it sees: the secret in its
 * environment, the secret file at /run/secrets on a read-only tmpfs, and no copy of it in the
 * container's own file system.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Cluster, waitFor } from '../daemon/harness.js'
import { VaultProcess } from '../secrets/vault-process.js'
import { AGENT_IMAGE, docker, ensureServices } from '../services/services.js'

const STEP_MS = 30_000

describe('end to end: secrets from Vault in Docker containers', { timeout: 3 * 60_000 }, () => {
  const site = `vd-${randomBytes(4).toString('hex')}`
  const password = `pw-${randomBytes(9).toString('base64url')}`
  const dsn = `postgres://u:${randomBytes(9).toString('base64url')}@db/x`
  const secretsDir = `/dev/shm/agentmesh-test-${site}`
  const token = `hvs.docker-test-${randomBytes(8).toString('hex')}`
  let vault: VaultProcess
  let cluster: Cluster

  before(async () => {
    await ensureServices()
    vault = new VaultProcess({
      seed: {
        mounts: { '': ['secret'] },
        secrets: [{ mount: 'secret', path: 'agents/ingest', data: { password, dsn } }],
        policies: [{ name: 'agents', paths: { 'secret/data/agents/*': ['read'] } }],
        tokens: [{ token, policies: ['agents'], ttlS: 3600, renewable: true }],
      },
    })
    await vault.start()
    writeFileSync(join(vault.dir, 'token'), token, { mode: 0o600 })
    mkdirSync(secretsDir, { mode: 0o700 })
    cluster = await Cluster.create({
      hosts: [{ hostId: 'd1', site }],
      common: {
        log: { level: 'info' },
        runtime: { kind: 'docker', resyncIntervalMs: 1000, secretsDir },
        vault: { address: vault.address, auth: { method: 'token', tokenFile: join(vault.dir, 'token') } },
        services: [{
          name: 'ingest', minReplicas: 1, maxReplicas: 1,
          agent: { image: AGENT_IMAGE, command: ['node', '-e', 'setInterval(() => {}, 1000)'], networkMode: 'none', stopTimeoutMs: 1000 },
          secrets: [
            { path: 'agents/ingest', key: 'password', env: 'MQTT_PASSWORD' },
            { path: 'agents/ingest', key: 'dsn', file: 'dsn' },
          ],
        }],
      },
    })
    cluster.startAll()
  })

  after(async () => {
    await cluster?.stopAll()
    const ids = await docker(['ps', '-aq', '--filter', `label=agentmesh.site=${site}`]).catch(() => '')
    if (ids !== '') await docker(['rm', '-f', ...ids.split('\n')]).catch(() => {})
    await vault?.dispose()
    rmSync(secretsDir, { recursive: true, force: true })
  })

  const containers = async (): Promise<string[]> => {
    const out = await docker(['ps', '-q', '--filter', `label=agentmesh.site=${site}`, '--filter', 'status=running'])
    return out === '' ? [] : out.split('\n')
  }

  /** What the agent sees from inside its container. */
  const inside = async (id: string): Promise<{ env: string, dir: string, file: string, mount: string, uid: number }> => JSON.parse(await docker(['exec', id, 'node', '-e', [
    'const fs = require("fs")',
    'const dir = process.env.AGENTMESH_SECRETS_DIR',
    'const mount = fs.readFileSync("/proc/mounts", "utf8").split("\\n").find(l => l.split(" ")[1] === dir) ?? ""',
    'console.log(JSON.stringify({ env: process.env.MQTT_PASSWORD, dir, file: fs.readFileSync(dir + "/dsn", "utf8"), mount, uid: process.getuid() }))',
  ].join(';')]))

  it('gives the agent its secret as an environment variable and as a file on a read-only tmpfs at /run/secrets', async () => {
    const [id] = await waitFor('the agent container running', async () => { const c = await containers(); return c.length === 1 ? c : undefined }, STEP_MS, 200)
    const seen = await inside(id)
    assert.equal(seen.env, password)
    assert.equal(seen.dir, '/run/secrets')
    assert.equal(seen.file, dsn)
    const [, target, fsType, options] = seen.mount.split(' ')
    assert.equal(target, '/run/secrets')
    assert.equal(fsType, 'tmpfs', `mounted as ${seen.mount}`)
    assert.ok(options.split(',').includes('ro'), `read-only: ${options}`)
    assert.notEqual(seen.uid, 0, 'read by the image\'s non-root user')
    // The container's writable layer (on the engine's disk) holds the empty mount point, no file.
    const diff = await docker(['diff', id])
    assert.doesNotMatch(diff, /run\/secrets\//, diff)
  })

  it('removes the agent\'s folder when its container is gone, and gives the replacement a new one', async () => {
    const [id] = await containers()
    const source = JSON.parse(await docker(['inspect', '--format', '{{json .Mounts}}', id])) as Array<{ Source: string, Destination: string, RW: boolean }>
    const bind = source.find(m => m.Destination === '/run/secrets')!
    assert.equal(bind.RW, false)
    assert.ok(bind.Source.startsWith(join(secretsDir, 'd1') + '/'), bind.Source)
    statSync(bind.Source)
    await docker(['kill', id])
    const [next] = await waitFor('a replacement container', async () => { const c = await containers(); return c.length === 1 && c[0] !== id ? c : undefined }, STEP_MS, 200)
    assert.equal((await inside(next)).file, dsn)
    await waitFor('the old folder removed', () => { try { statSync(bind.Source); return undefined } catch { return true } }, STEP_MS, 100)
  })
})
