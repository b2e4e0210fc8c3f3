/**
 * The README (and the pages of docs/ beside it) name every error code a client or an operator can meet and every metric the
 * daemon exports, so the two cannot drift apart (as undici's test/errors.js does for its errors).
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DaemonErrorCode, HttpErrorCode } from '../../node/daemon/errors.js'
import { DaemonMetrics } from '../../node/daemon/metrics.js'
import { VaultErrorCode } from '../../node/secrets/vault-errors.js'
import { REPO_ROOT } from './harness.js'

const docsDir = join(REPO_ROOT, 'docs')
const docPages = existsSync(docsDir) ? readdirSync(docsDir).filter(f => f.endsWith('.md')).sort().map(f => readFileSync(join(docsDir, f), 'utf8')) : []
const readme = [readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), ...docPages].join('\n')

describe('the README and the daemon agree', () => {
  it('names every HTTP, daemon and Vault error code', () => {
    for (const code of [...Object.values(HttpErrorCode), ...Object.values(DaemonErrorCode), ...Object.values(VaultErrorCode)]) {
      assert.ok(readme.includes(`\`${code}\``), `README lacks ${code}`)
    }
  })

  it('lists every agentmesh_ metric', async () => {
    const names = (await new DaemonMetrics().registry.getMetricsAsJSON()).map(m => m.name).filter(n => n.startsWith('agentmesh_'))
    assert.ok(names.length > 30)
    for (const name of names) assert.ok(readme.includes(`\`${name}\``), `README lacks metric ${name}`)
  })
})
