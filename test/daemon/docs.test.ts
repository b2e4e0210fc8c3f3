/**
 * The reference names every error code a client or an operator can meet (docs/http-api.md the
 * API's, docs/operations.md the daemon's and Vault's) and every metric the daemon exports
 * (docs/metrics.md), so the two cannot drift apart (as undici's test/errors.js does for its errors).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DaemonErrorCode, HttpErrorCode } from '../../node/daemon/errors.js'
import { DaemonMetrics } from '../../node/daemon/metrics.js'
import { VaultErrorCode } from '../../node/secrets/vault-errors.js'
import { SimErrorCode } from '../../sim/errors.js'
import { PROTOCOL_LIMITS, ProtocolErrorCode } from '../../protocol/index.js'
import { readDoc } from '../docs/doc-files.js'

describe('the reference and the daemon agree', () => {
  it('names every HTTP error code in docs/http-api.md', () => {
    const doc = readDoc('http-api')
    for (const code of Object.values(HttpErrorCode)) assert.ok(doc.includes(`\`${code}\``), `docs/http-api.md lacks ${code}`)
  })

  it('names every daemon and Vault error code in docs/operations.md', () => {
    const doc = readDoc('operations')
    for (const code of [...Object.values(DaemonErrorCode), ...Object.values(VaultErrorCode)]) {
      assert.ok(doc.includes(`\`${code}\``), `docs/operations.md lacks ${code}`)
    }
  })

  it('lists every protocol limit with its value, and every protocol error code, in docs/architecture.md', () => {
    const doc = readDoc('architecture')
    const limits = new Map<string, string>()
    for (const line of doc.split('\n').filter(l => /^\| `max/.test(l))) {
      const [names, values] = line.slice(1, -1).split('|').map(c => c.trim())
      const ns = names.split(' / ').map(n => /^`(\w+)`/.exec(n)?.[1] ?? n)
      const vs = values.split(' / ')
      ns.forEach((n, i) => limits.set(n, vs[i]))
    }
    for (const [name, value] of Object.entries(PROTOCOL_LIMITS)) {
      assert.equal(limits.get(name), value.toLocaleString('en-US'), `docs/architecture.md: ${name}`)
    }
    for (const code of Object.values(ProtocolErrorCode)) assert.ok(doc.includes(`\`${code}\``), `docs/architecture.md lacks ${code}`)
  })

  it('names every simulator error code in docs/simulator.md', () => {
    const doc = readDoc('simulator')
    for (const code of Object.values(SimErrorCode)) assert.ok(doc.includes(`\`${code}\``), `docs/simulator.md lacks ${code}`)
  })

  it('lists every agentmesh_ metric in docs/metrics.md', async () => {
    const doc = readDoc('metrics')
    const names = (await new DaemonMetrics().registry.getMetricsAsJSON()).map(m => m.name).filter(n => n.startsWith('agentmesh_'))
    assert.ok(names.length > 30)
    for (const name of names) assert.ok(doc.includes(`\`${name}\``), `docs/metrics.md lacks metric ${name}`)
  })
})
