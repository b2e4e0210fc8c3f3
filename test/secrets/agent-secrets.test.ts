/**
 * AgentSecrets on its own: what one start gets (env, files on a tmpfs, labels), folders removed
 * when no container names them, a service unavailable until its secrets read again, and the
 * pacing of restarts for a changed secret. Vault is a function here (the client is tested
 * against the stand-in in vault-client.test.ts); files are real, under /dev/shm.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { pino } from 'pino'
import type { ObservedContainer } from '../../node/core/reconcile.js'
import { AgentSecrets, SECRET_LABELS, type ServiceSecret } from '../../node/secrets/agent-secrets.js'
import { SecretCache } from '../../node/secrets/secret-cache.js'
import { VaultError, VaultErrorCode } from '../../node/secrets/vault-errors.js'
import type { AgentSpec } from '../../node/runtime/container-runtime.js'
import { waitFor } from '../daemon/harness.js'

const log = pino({ level: 'silent' })
const root = mkdtempSync('/dev/shm/agentmesh-agent-secrets-test-')
after(() => rmSync(root, { recursive: true, force: true }))

const spec = (service: string): AgentSpec => ({ service, image: '', command: ['x'], env: { KEEP: 'me' }, restartPolicy: 'no', networkMode: 'host', stopTimeoutMs: 1000 })

interface Fake { data: Record<string, string>, version: number, fail?: VaultError }

function setup (services: Record<string, ServiceSecret[]>, kind: 'docker' | 'process' = 'process'): { secrets: AgentSecrets, vault: Map<string, Fake>, cache: SecretCache, hostDir: string, retired: string[], up: () => void } {
  const vault = new Map<string, Fake>()
  const cache = new SecretCache({ maxStaleMs: 0, refreshIntervalMs: 60_000, maxEntries: 16 }, {
    log,
    read: async (mount, path) => {
      const f = vault.get(`${mount}/${path}`)
      if (f === undefined) throw new VaultError(VaultErrorCode.NotFound, `${mount}/${path}: no such secret`)
      if (f.fail !== undefined) throw f.fail
      return { data: new Map(Object.entries(f.data)), version: f.version, leaseMs: 0 }
    },
  })
  const hostDir = mkdtempSync(join(root, 'host-'))
  const retired: string[] = []
  let upListener = (): void => {}
  const secrets = new AgentSecrets({ services, hostDir, runtimeKind: kind, retryMsMin: 20, retryMsMax: 50 }, {
    cache, log, onVaultUp: (l) => { upListener = l; return () => {} }, retire: async (id) => { retired.push(id) },
  })
  secrets.start()
  return { secrets, vault, cache, hostDir, retired, up: () => upListener() }
}

function container (id: string, service: string, labels: Record<string, string>, state: ObservedContainer['state'] = 'running', createdAt = 0): ObservedContainer {
  return { id, state, createdAt, labels: { 'agentmesh.service': service, ...labels } }
}

describe('agent secrets', () => {
  const ingest: ServiceSecret[] = [
    { mount: 'secret', path: 'ingest', version: 0, key: 'pw', env: 'PW', restartOnChange: true },
    { mount: 'secret', path: 'ingest', version: 0, key: 'dsn', file: 'dsn', restartOnChange: false },
  ]

  it('gives a start its env and a folder of files (process runtime: 0700 and 0400), labelled with versions, never values', async () => {
    const t = setup({ ingest })
    t.vault.set('secret/ingest', { data: { pw: 'pw-1', dsn: 'dsn-1' }, version: 4 })
    const p = await t.secrets.prepare(spec('ingest'))
    assert.deepEqual(p.spec.env, { KEEP: 'me', PW: 'pw-1' })
    const dir = p.spec.secretFiles!.hostDir
    assert.equal(readFileSync(join(dir, 'dsn'), 'utf8'), 'dsn-1')
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    assert.equal(statSync(join(dir, 'dsn')).mode & 0o777, 0o400)
    assert.equal(p.spec.secretFiles!.containerDir, '/run/secrets')
    assert.deepEqual(p.labels, { [SECRET_LABELS.versions]: '4', [SECRET_LABELS.dir]: dir.slice(t.hostDir.length + 1) })
    p.abandon()
    assert.throws(() => statSync(dir), 'a failed start leaves no folder')
  })

  it('makes Docker folders readable by any container user (0755, 0444) inside the 0700 host folder', async () => {
    const t = setup({ ingest }, 'docker')
    t.vault.set('secret/ingest', { data: { pw: 'pw-1', dsn: 'dsn-1' }, version: 1 })
    const dir = (await t.secrets.prepare(spec('ingest'))).spec.secretFiles!.hostDir
    assert.equal(statSync(dir).mode & 0o777, 0o755)
    assert.equal(statSync(join(dir, 'dsn')).mode & 0o777, 0o444)
    assert.equal(statSync(t.hostDir).mode & 0o777, 0o700)
  })

  it('removes folders no observed container names, and keeps those of listed containers (exited ones too)', async () => {
    const t = setup({ ingest })
    t.vault.set('secret/ingest', { data: { pw: 'pw-1', dsn: 'dsn-1' }, version: 1 })
    const a = await t.secrets.prepare(spec('ingest'))
    const b = await t.secrets.prepare(spec('ingest'))
    const c = await t.secrets.prepare(spec('ingest'))
    t.secrets.observed([container('ca', 'ingest', a.labels), container('cb', 'ingest', b.labels, 'exited')])
    // c's container is not listed yet: a start made it moments ago, it stays.
    assert.deepEqual(readdirSync(t.hostDir).sort(), [a.labels[SECRET_LABELS.dir], b.labels[SECRET_LABELS.dir], c.labels[SECRET_LABELS.dir]].sort())
    t.secrets.observed([container('cc', 'ingest', c.labels)])
    assert.deepEqual(readdirSync(t.hostDir), [c.labels[SECRET_LABELS.dir]], 'the folders of containers gone are removed')
  })

  it('names a failed start for its service and code, marks the service unavailable, and clears it once the secrets read again', async () => {
    const t = setup({ ingest })
    const changes: number[] = []
    t.secrets.onChange(() => changes.push(1))
    const err = await t.secrets.prepare(spec('ingest')).then(() => assert.fail('started'), (e: unknown) => e as VaultError)
    assert.equal(err.code, VaultErrorCode.NotFound)
    assert.match(err.message, /^service ingest: /)
    assert.deepEqual(t.secrets.unavailable(), ['ingest'])
    assert.equal(t.secrets.status()[0].unavailable?.code, VaultErrorCode.NotFound)
    t.vault.set('secret/ingest', { data: { pw: 'x' }, version: 1 })
    const missing = await t.secrets.prepare(spec('ingest')).then(() => assert.fail('started'), (e: unknown) => e as VaultError)
    assert.equal(missing.code, VaultErrorCode.KeyMissing)
    t.vault.set('secret/ingest', { data: { pw: 'x', dsn: 'y' }, version: 2 })
    await waitFor('the background retry finds the secrets readable', () => t.secrets.unavailable().length === 0 ? true : undefined, 5000, 10)
    assert.ok(changes.length >= 2, 'listeners heard both changes')
  })

  it('restarts agents for a changed restartOnChange secret one at a time, the next once the replacement runs', async () => {
    const t = setup({ ingest })
    t.vault.set('secret/ingest', { data: { pw: 'pw-1', dsn: 'd' }, version: 1 })
    const old = [await t.secrets.prepare(spec('ingest')), await t.secrets.prepare(spec('ingest'))]
    const c1 = container('c1', 'ingest', old[0].labels, 'running', 1)
    const c2 = container('c2', 'ingest', old[1].labels, 'running', 2)
    t.secrets.observed([c1, c2])
    assert.deepEqual(t.retired, [], 'nothing changed yet')
    t.vault.set('secret/ingest', { data: { pw: 'pw-2', dsn: 'd' }, version: 2 })
    await t.cache.read({ mount: 'secret', path: 'ingest', version: 0 }) // the refresh reads version 2
    t.secrets.observed([c1, c2])
    await waitFor('c1 retired', () => t.retired.length === 1 ? true : undefined, 1000, 5)
    assert.deepEqual(t.retired, ['c1'], 'the oldest first')
    t.secrets.observed([c2])
    const fresh = await t.secrets.prepare(spec('ingest'))
    assert.equal(fresh.spec.env.PW, 'pw-2')
    t.secrets.observed([c2, container('c3', 'ingest', fresh.labels, 'starting', 3)])
    assert.deepEqual(t.retired, ['c1'], 'not while the replacement starts')
    t.secrets.observed([c2, container('c3', 'ingest', fresh.labels, 'running', 3)])
    await waitFor('c2 retired', () => t.retired.length === 2 ? true : undefined, 1000, 5)
    assert.deepEqual(t.retired, ['c1', 'c2'])
    t.secrets.observed([container('c3', 'ingest', fresh.labels, 'running', 3), container('c4', 'ingest', fresh.labels, 'running', 4)])
    assert.equal(t.retired.length, 2, 'agents on the new version are left alone')
  })
})
