/**
 * The Vault client (node-vault underneath) against the Vault STAND-IN in a process of its own
 * (test/secrets/vault-stand-in.ts): TLS with a CA file, the namespace header, every error code
 * from a real HTTP answer or a real refused connection, AppRole login and renewal across a short
 * TTL, token-file auth, and the cache's maxStale rule.
 */
import assert from 'node:assert/strict'
import { chmodSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { readSecretFile } from '../../node/daemon/secret-file.js'
import { SecretCache } from '../../node/secrets/secret-cache.js'
import { createVaultClient } from '../../node/secrets/vault-client.js'
import { VaultError, VaultErrorCode } from '../../node/secrets/vault-errors.js'
import { VaultSession, type VaultAuth } from '../../node/secrets/vault-session.js'
import { waitFor } from '../daemon/harness.js'
import { VaultProcess } from './vault-process.js'

const log = pino({ level: 'silent' })
const readFile = (file: string, what: string): string => readSecretFile(file, what).toString('utf8')

async function code (p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof VaultError, `not a VaultError: ${String(err)}`)
    return err.code
  }
  assert.fail('expected a VaultError')
}

describe('the Vault client against the stand-in', { timeout: 120_000 }, () => {
  let vault: VaultProcess
  let secretIdFile: string
  const sessions: VaultSession[] = []

  before(async () => {
    vault = new VaultProcess({
      tls: true,
      seed: {
        mounts: { '': ['secret'], team: ['kv'] },
        secrets: [
          { mount: 'secret', path: 'agents/ingest', data: { password: 'pw-one', dsn: 'postgres://u:p@db/x' } },
          { mount: 'secret', path: 'other/thing', data: { x: 'y' } },
          { namespace: 'team', mount: 'kv', path: 'app', data: { token: 'team-token-value' } },
        ],
        policies: [
          { name: 'agents', paths: { 'secret/data/agents/*': ['read'] } },
          { namespace: 'team', name: 'app', paths: { 'kv/data/app': ['read'] } },
        ],
        roles: [
          { name: 'supervisor', roleId: 'role-supervisor', secretIds: ['sid-good'], policies: ['agents'], ttlS: 2, maxTtlS: 5 },
          { namespace: 'team', name: 'team-sup', roleId: 'role-team', secretIds: ['sid-team'], policies: ['app'], ttlS: 60, maxTtlS: 600 },
        ],
        tokens: [{ token: 'hvs.static-token-for-agents', policies: ['agents'], ttlS: 3600, renewable: true }],
      },
    })
    await vault.start()
    secretIdFile = join(vault.dir, 'secret-id')
    writeFileSync(secretIdFile, 'sid-good', { mode: 0o600 })
  })

  after(async () => {
    for (const s of sessions) s.stop()
    await vault?.dispose()
  })

  const session = (auth: VaultAuth, over: Partial<{ namespace: string, caFile: string | undefined }> = {}): VaultSession => {
    const caFile = 'caFile' in over ? over.caFile : vault.caFile
    const s = new VaultSession({
      address: vault.address, namespace: over.namespace ?? '', requestTimeoutMs: 2000, maxSecretBytes: 65536,
      ...(caFile === undefined ? {} : { ca: readFileSync(caFile) }),
      auth, retryMsMin: 100, retryMsMax: 400,
    }, { readSecretFile: readFile, log })
    sessions.push(s)
    return s
  }
  const approle = (): VaultAuth => ({ method: 'approle', mount: 'approle', roleId: 'role-supervisor', secretIdFile })

  it('reads a KV v2 secret over TLS with the CA file: data.data and data.metadata.version', async () => {
    const s = session(approle())
    await s.start()
    const kv = await s.read('secret', 'agents/ingest', 0)
    assert.equal(kv.data.get('password'), 'pw-one')
    assert.equal(kv.version, 1)
    const v2 = await vault.writeSecret('secret', 'agents/ingest', { password: 'pw-two', dsn: 'postgres://u:p@db/x' })
    assert.equal(v2, 2)
    assert.equal((await s.read('secret', 'agents/ingest', 0)).data.get('password'), 'pw-two')
    assert.equal((await s.read('secret', 'agents/ingest', 1)).data.get('password'), 'pw-one', 'a pinned version')
    assert.equal(s.status().method, 'approle')
    assert.ok(s.status().authenticated)
  })

  it('gives each failure its own code: 403, 404, a deleted version, sealed, a bad secret id, an untrusted certificate', async () => {
    const s = session(approle())
    await s.start()
    assert.equal(await code(s.read('secret', 'other/thing', 0)), VaultErrorCode.Forbidden)
    assert.equal(await code(s.read('secret', 'agents/nothing-here', 0)), VaultErrorCode.NotFound)
    await vault.call('DELETE', 'secret/data/agents/ingest')
    const deleted = await s.read('secret', 'agents/ingest', 0).then(() => assert.fail('read a deleted version'), (e: unknown) => e as VaultError)
    assert.equal(deleted.code, VaultErrorCode.NotFound)
    assert.match(deleted.message, /deleted/)
    await vault.writeSecret('secret', 'agents/ingest', { password: 'pw-three', dsn: 'x' })
    await vault.seal()
    assert.equal(await code(s.read('secret', 'agents/ingest', 0)), VaultErrorCode.Unavailable)
    await vault.unseal()

    writeFileSync(join(vault.dir, 'bad-sid'), 'sid-wrong', { mode: 0o600 })
    const bad = session({ method: 'approle', mount: 'approle', roleId: 'role-supervisor', secretIdFile: join(vault.dir, 'bad-sid') })
    await bad.start()
    assert.equal(bad.status().lastError?.code, VaultErrorCode.Auth)
    assert.equal(await code(bad.read('secret', 'agents/ingest', 0)), VaultErrorCode.Auth)

    const noCa = session(approle(), { caFile: undefined })
    await noCa.start()
    assert.equal(noCa.status().lastError?.code, VaultErrorCode.Tls, 'Node\'s CA store does not trust the test CA')
  })

  it('keeps certificate checks on and ignores VAULT_* variables of its environment', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, { VAULT_SKIP_VERIFY: '1', VAULT_TOKEN: 'hvs.static-token-for-agents', VAULT_NAMESPACE: 'team', VAULT_PREFIX: '/nope' })
    try {
      const client = await createVaultClient({ address: vault.address, namespace: '', requestTimeoutMs: 2000, maxSecretBytes: 1024 })
      assert.equal(await code(client.health()), VaultErrorCode.Tls, 'VAULT_SKIP_VERIFY must not switch verification off')
      const withCa = await createVaultClient({ address: vault.address, namespace: '', requestTimeoutMs: 2000, maxSecretBytes: 1024, ca: readFileSync(vault.caFile!) })
      assert.equal(withCa.hasToken, false, 'VAULT_TOKEN is not picked up')
      assert.equal(await code(withCa.kvRead('secret', 'agents/ingest', 0)), VaultErrorCode.Forbidden, 'no token sent, no namespace, no prefix')
      const last = await waitFor('the stand-in\'s record of the read', () => vault.requests.filter(r => r.path === '/v1/secret/data/agents/ingest' && r.status === 403).at(-1), 5000)
      assert.equal(last.hadToken, false)
      assert.equal(last.namespace, '')
    } finally {
      for (const k of ['VAULT_SKIP_VERIFY', 'VAULT_TOKEN', 'VAULT_NAMESPACE', 'VAULT_PREFIX']) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })

  it('sends X-Vault-Namespace: a namespaced role reads its namespace\'s secret', async () => {
    const sid = join(vault.dir, 'team-sid')
    writeFileSync(sid, 'sid-team', { mode: 0o600 })
    const s = session({ method: 'approle', mount: 'approle', roleId: 'role-team', secretIdFile: sid }, { namespace: 'team' })
    await s.start()
    assert.equal((await s.read('kv', 'app', 0)).data.get('token'), 'team-token-value')
    // The stand-in prints each request after answering it: wait for the line.
    const last = await waitFor('the stand-in\'s record of the read', () => vault.requests.filter(r => r.path === '/v1/kv/data/app').at(-1), 5000)
    assert.equal(last.namespace, 'team')
  })

  it('AppRole: renews the token before its 2 s TTL runs out, and logs in again at its 5 s max TTL', async () => {
    const s = session(approle())
    await s.start()
    const startLogins = s.status().logins
    // Reads keep succeeding across renewals and the max TTL: the token never lapses.
    await waitFor('renewals and a second login', async () => {
      await s.read('secret', 'agents/ingest', 0)
      const st = s.status()
      return st.renewals >= 2 && st.logins >= startLogins + 1 ? st : undefined
    }, 20_000, 200)
    const st = s.status()
    assert.ok(st.tokenTtlLeftMs !== null && st.tokenTtlLeftMs > 0 && st.tokenTtlLeftMs <= 2000, `TTL left ${String(st.tokenTtlLeftMs)}`)
    assert.ok(!JSON.stringify(st).includes('hvs.'), 'the status never shows the token')
  })

  it('token file: looks the token up, and reads the file again when the token is refused', async () => {
    const file = join(vault.dir, 'token')
    writeFileSync(file, 'hvs.not-a-token', { mode: 0o600 })
    const s = session({ method: 'token', tokenFile: file })
    await s.start()
    assert.equal(s.status().lastError?.code, VaultErrorCode.Auth)
    writeFileSync(file, 'hvs.static-token-for-agents\n')
    chmodSync(file, 0o600)
    assert.equal((await s.read('secret', 'agents/ingest', 0)).data.get('password'), 'pw-three')
    assert.equal(s.status().method, 'token')
    assert.ok(s.status().renewable)
  })

  it('cache: serves the copy in memory while Vault is stopped, up to maxStaleMs, then E_VAULT_STALE with Vault\'s error as cause', async () => {
    let now = 1_000_000
    const s = session(approle())
    await s.start()
    const cache = new SecretCache({ maxStaleMs: 10_000, refreshIntervalMs: 60_000, maxEntries: 8 }, { read: async (m, p, v, sig) => await s.read(m, p, v, sig), log, clock: () => now })
    const ref = { mount: 'secret', path: 'agents/ingest', version: 0 }
    assert.equal((await cache.read(ref)).fresh, true)
    await vault.stop()
    try {
      now += 9_000
      const served = await cache.read(ref)
      assert.equal(served.fresh, false)
      assert.equal(served.error?.code, VaultErrorCode.Unreachable)
      assert.equal(served.data.get('password'), 'pw-three')
      now += 2_000
      const stale = await cache.read(ref).then(() => assert.fail('served a stale copy'), (e: unknown) => e as VaultError)
      assert.equal(stale.code, VaultErrorCode.Stale)
      assert.equal((stale.cause as VaultError).code, VaultErrorCode.Unreachable)
      assert.equal(await code(cache.read({ mount: 'secret', path: 'agents/never-read', version: 0 })), VaultErrorCode.Unreachable)
    } finally {
      await vault.start()
    }
    await waitFor('the session reads again once Vault is back', async () => (await s.read('secret', 'agents/ingest', 0).catch(() => undefined)), 10_000, 100)
    cache.stop()
  })
})
