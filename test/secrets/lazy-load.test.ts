/**
 * node-vault (and axios under it) is loaded only when a `vault` section is configured, as
 * dockerode is only with the Docker runtime: a supervisor without Vault never pays for it. Checked
 * in a fresh process: the daemon's modules load without it; making a Vault client loads it.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const DIST = fileURLToPath(new URL('../../', import.meta.url))

describe('loading node-vault', () => {
  it('happens only when a Vault client is made', () => {
    const script = `
      import { createRequire } from 'node:module'
      const require = createRequire(import.meta.url)
      const loaded = () => Object.keys(require.cache).filter(k => /node_modules\\/(node-vault|axios)\\//.test(k)).length
      await import(${JSON.stringify(`${DIST}node/daemon/daemon.js`)})
      await import(${JSON.stringify(`${DIST}cli/commands/supervise.js`)})
      const before = loaded()
      const { createVaultClient } = await import(${JSON.stringify(`${DIST}node/secrets/vault-client.js`)})
      await createVaultClient({ address: 'http://127.0.0.1:1', namespace: '', requestTimeoutMs: 100, maxSecretBytes: 16 })
      console.log(JSON.stringify({ before, after: loaded() }))`
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { before: number, after: number }
    assert.equal(out.before, 0, 'the daemon\'s modules load without node-vault or axios')
    assert.ok(out.after > 0, 'a Vault client loads node-vault')
  })
})
