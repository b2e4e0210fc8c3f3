/**
 * The process-wide policy for an error nobody caught: the supervisor logs it with its context,
 * leaves the site gracefully and exits 1. The error is injected from outside the daemon's code:
 * a preload module (node --import) throws from an event-loop callback when the process gets
 * SIGUSR2, as a library bug would.
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Cluster, waitFor } from './harness.js'

/** Well under reapAfterMs (30 s): only a goodbye removes a member this fast. */
const LEAVE_SEEN_MS = 10_000

describe('an unexpected error in a supervisor', { timeout: 2 * 60_000 }, () => {
  let cluster: Cluster

  before(async () => {
    cluster = await Cluster.create({ hosts: [{ hostId: 'x1', site: 'X', priority: 1 }, { hostId: 'x2', site: 'X' }] })
    const preload = join(cluster.dir, 'throw-on-sigusr2.mjs')
    writeFileSync(preload, "process.on('SIGUSR2', () => { setImmediate(() => { throw new Error('injected by the test') }) })\n")
    cluster.byId('x1').start()
    cluster.byId('x2').start({}, ['--import', preload])
    await waitFor('site X agrees on a leader', async () => await cluster.siteAgreement('X').catch(() => undefined), 30_000)
  })

  after(async () => { await cluster?.stopAll() })

  it('is logged with its context, the site hears a goodbye, and the exit status is 1', async () => {
    const x1 = cluster.byId('x1')
    const x2 = cluster.byId('x2')
    await waitFor('x1 knows x2', async () => (await x1.status()).peers.some(p => p.hostId === 'x2' && p.state === 'alive') || undefined, 10_000)
    x2.proc!.kill('SIGUSR2')
    const code = await Promise.race([x2.exited, new Promise(resolve => setTimeout(() => resolve('timeout'), 15_000))])
    assert.equal(code, 1)
    const fatal = x2.lines.map(l => { try { return JSON.parse(l) as Record<string, unknown> } catch { return undefined } })
      .find(l => l?.msg === 'unexpected error; leaving the site and exiting')
    assert.ok(fatal !== undefined, 'the fatal line is logged')
    assert.equal((fatal.err as { message: string }).message, 'injected by the test')
    assert.equal(fatal.kind, 'uncaughtException')
    assert.equal(fatal.hostId, 'x2', 'the line carries the host context')
    assert.ok(x2.lines.some(l => l.includes('"supervisor stopped"')), 'the daemon stopped gracefully')
    await waitFor('x1 drops x2 on its goodbye', async () => (await x1.status()).peers.every(p => p.hostId !== 'x2') || undefined, LEAVE_SEEN_MS)
  })
})
