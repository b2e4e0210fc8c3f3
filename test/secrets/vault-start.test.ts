/**
 * A supervisor whose swarm key is in Vault cannot join the mesh without Vault: it keeps trying
 * for vault.startTimeoutMs, then exits 1 with Vault's error code (a restart may succeed; a bad
 * config exits 2). `--check` prints the effective config with the secrets' names, no values.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { stringify } from 'yaml'
import { CLI, freePort } from '../daemon/harness.js'

describe('supervise with secrets in Vault', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentmesh-vault-start-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  const config = async (vault: Record<string, unknown>): Promise<string> => {
    writeFileSync(join(dir, 'sid'), 'secret-id-value-never-printed', { mode: 0o600 })
    const file = join(dir, `c-${Math.random().toString(16).slice(2)}.yaml`)
    writeFileSync(file, stringify({
      site: 's', hostId: 'h', dataDir: join(dir, 'data'),
      network: { listen: [`/ip4/127.0.0.1/tcp/${await freePort()}`], swarmKeyVault: { path: 'agentmesh/mesh' } },
      http: { listen: `127.0.0.1:${await freePort()}` },
      vault: { auth: { roleId: 'role-1', secretIdFile: join(dir, 'sid') }, ...vault },
      services: [{ name: 'ingest', secrets: [{ path: 'agents/ingest', key: 'pw', env: 'PW' }] }],
    }))
    return file
  }

  it('exits 1 with E_VAULT_UNREACHABLE when Vault does not answer within vault.startTimeoutMs', async () => {
    const file = await config({ address: `http://127.0.0.1:${await freePort()}`, startTimeoutMs: 600, retryMsMin: 100, retryMsMax: 200 })
    const r = spawnSync(process.execPath, [CLI, 'supervise', '--config', file], { encoding: 'utf8', timeout: 20_000 })
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /E_VAULT_UNREACHABLE: swarm key from Vault \(secret\/agentmesh\/mesh, key swarm_key\)/)
    assert.doesNotMatch(r.stdout + r.stderr, /secret-id-value-never-printed/)
  })

  it('--check prints the Vault section and the secrets by name, never a value', async () => {
    const file = await config({ address: 'https://vault.example:8200' })
    const r = spawnSync(process.execPath, [CLI, 'supervise', '--config', file, '--check'], { encoding: 'utf8', timeout: 20_000 })
    assert.equal(r.status, 0, r.stderr)
    const printed = JSON.parse(r.stdout) as { vault: { address: string, auth: { method: string } }, secrets: Record<string, unknown[]> }
    assert.equal(printed.vault.address, 'https://vault.example:8200')
    assert.equal(printed.vault.auth.method, 'approle')
    assert.deepEqual(printed.secrets.ingest, [{ mount: 'secret', path: 'agents/ingest', version: 0, key: 'pw', restartOnChange: false, env: 'PW' }])
    assert.doesNotMatch(r.stdout, /secret-id-value-never-printed/)
  })
})
