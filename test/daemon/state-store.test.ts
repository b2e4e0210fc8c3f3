import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { loadOrCreateHostKey, loadSwarmKey } from '../../node/daemon/identity.js'
import { StateStore, STATE_FILE } from '../../node/daemon/state-store.js'
import { writeSwarmKey } from './harness.js'

describe('state store and key files', () => {
  it('increments the incarnation on every open and keeps the election state', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-state-'))
    const a = StateStore.openAndBumpIncarnation(dir)
    assert.equal(a.incarnation, 1)
    a.saveCore({ term: 7, votedFor: 'h2', members: ['h2', 'h3'] })
    const b = StateStore.openAndBumpIncarnation(dir)
    assert.equal(b.incarnation, 2)
    assert.deepEqual(b.core, { term: 7, votedFor: 'h2', members: ['h2', 'h3'] })
    assert.deepEqual(readdirSync(dir), [STATE_FILE], 'no temporary file is left behind')
    assert.equal(statSync(join(dir, STATE_FILE)).mode & 0o777, 0o600)
  })

  it('writes a change of the member list alone off the event loop, the newest of several', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-state-'))
    const a = StateStore.openAndBumpIncarnation(dir)
    a.saveCore({ term: 2, votedFor: 'h2', members: ['h2'] })
    a.saveCore({ term: 2, votedFor: 'h2', members: ['h2', 'h3'] }, true)
    a.saveCore({ term: 2, votedFor: 'h2', members: ['h2', 'h3', 'h4'] }, true)
    await a.settle()
    assert.deepEqual(StateStore.openAndBumpIncarnation(dir).core, { term: 2, votedFor: 'h2', members: ['h2', 'h3', 'h4'] })
    assert.deepEqual(readdirSync(dir), [STATE_FILE], 'no temporary file is left behind')
  })

  it('never replaces a term or vote written meanwhile with an older member-only write', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-state-'))
    const a = StateStore.openAndBumpIncarnation(dir)
    a.saveCore({ term: 2, votedFor: 'h2', members: ['h2', 'h3'] }, true)
    // The vote is written at once, while the member-only write is still in flight.
    a.saveCore({ term: 3, votedFor: 'h3', members: ['h2', 'h3'] })
    assert.deepEqual(StateStore.openAndBumpIncarnation(dir).core, { term: 3, votedFor: 'h3', members: ['h2', 'h3'] })
    await a.settle()
    assert.deepEqual(StateStore.openAndBumpIncarnation(dir).core, { term: 3, votedFor: 'h3', members: ['h2', 'h3'] })
    assert.deepEqual(readdirSync(dir), [STATE_FILE], 'no temporary file is left behind')
  })

  it('refuses to start on a corrupt state file rather than forget a vote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-state-'))
    writeFileSync(join(dir, STATE_FILE), '{"version":1,"incarnation":3,"core":{"term":"x"}}')
    assert.throws(() => StateStore.openAndBumpIncarnation(dir), (e: unknown) => e instanceof DaemonError && e.code === DaemonErrorCode.StateIo)
  })

  it('creates the host key with mode 0600 once and loads the same identity after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-key-'))
    const file = join(dir, 'sub', 'host.key')
    const first = await loadOrCreateHostKey(file)
    assert.equal(first.created, true)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const again = await loadOrCreateHostKey(file)
    assert.equal(again.created, false)
    assert.equal(again.key.publicKey.toString(), first.key.publicKey.toString())
  })

  it('refuses a malformed swarm key with E_KEY_INVALID', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-key-'))
    writeSwarmKey(join(dir, 'good.key'))
    assert.equal(loadSwarmKey(join(dir, 'good.key')).length, 95)
    writeFileSync(join(dir, 'bad.key'), '/key/swarm/psk/1.0.0/\n/base16/\nzz\n', { mode: 0o600 })
    assert.throws(() => loadSwarmKey(join(dir, 'bad.key')), (e: unknown) => e instanceof DaemonError && e.code === DaemonErrorCode.KeyInvalid)
  })
})
