/**
 * Issue 11: the swarm key and the token files were read whatever their permissions (only the
 * host key was checked). Every secret file is now refused, naming the file and the fix, when
 * other users can read it; at config validation (every problem at once) and where it is read.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { parseConfig } from '../../node/daemon/config.js'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { loadOrCreateHostKey, loadSwarmKey, loadToken } from '../../node/daemon/identity.js'
import { writeSwarmKey } from './harness.js'

const dir = mkdtempSync(join(tmpdir(), 'agentmesh-secret-'))
const TOKEN = 'a-token-of-enough-length'
const ROOT = process.getuid?.() === 0

function file (name: string, mode: number, text?: string): string {
  const f = join(dir, name)
  if (text === undefined) writeSwarmKey(f)
  else writeFileSync(f, text)
  chmodSync(f, mode)
  return f
}

function refusedWith (fn: () => unknown, f: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DaemonError, String(err))
    assert.equal(err.code, DaemonErrorCode.KeyInvalid)
    assert.ok(err.message.includes(f) && err.message.includes(`chmod 600 ${f}`), err.message)
    return true
  })
}

function configProblems (text: string): string[] {
  try {
    parseConfig(text, { file: join(dir, 'agentmesh.yaml'), env: {} })
  } catch (err) {
    assert.ok(err instanceof DaemonError && err.code === DaemonErrorCode.ConfigInvalid, String(err))
    return [...err.problems]
  }
  return []
}

describe('secret files readable by others', () => {
  it('refuses a swarm key other users can read or write, and takes it at 0600', () => {
    for (const mode of [0o644, 0o604, 0o606, 0o660]) refusedWith(() => loadSwarmKey(file(`swarm-${mode.toString(8)}.key`, mode)), join(dir, `swarm-${mode.toString(8)}.key`))
    assert.equal(loadSwarmKey(file('swarm-600.key', 0o600)).byteLength, 95)
  })

  it('takes a group-readable key only when root owns it (the systemd layout: root:agentmesh 0640)', () => {
    const f = file('swarm-640.key', 0o640)
    if (ROOT) assert.equal(loadSwarmKey(f).byteLength, 95)
    else refusedWith(() => loadSwarmKey(f), f)
  })

  it('refuses a token file other users can read', () => {
    const f = file('token-644', 0o644, TOKEN)
    refusedWith(() => loadToken(f), f)
    assert.equal(loadToken(file('token-600', 0o600, TOKEN)), TOKEN)
  })

  it('refuses a host key other users can read, as before', async () => {
    const f = join(dir, 'host.key')
    writeFileSync(f, privateKeyToProtobuf(await generateKeyPair('Ed25519')), { mode: 0o604 })
    await assert.rejects(loadOrCreateHostKey(f), (err: unknown) => err instanceof DaemonError && err.code === DaemonErrorCode.KeyInvalid && err.message.includes(`chmod 600 ${f}`))
  })

  it('reports the swarm key, the token file and a signal password file at once when validating the config', () => {
    const swarm = file('cfg-swarm.key', 0o644)
    const token = file('cfg-token', 0o604, TOKEN)
    const pw = file('cfg-mqtt.pw', 0o644, 'secret')
    const p = configProblems([
      'site: a', 'hostId: h',
      `network: {swarmKeyFile: ${swarm}}`,
      `http: {tokenFile: ${token}}`,
      'services: [{name: s}]',
      `signals: [{service: s, kind: mqtt-rate, url: "mqtt://x", topic: t, passwordFile: ${pw}}]`,
      '',
    ].join('\n'))
    for (const [field, f] of [['network.swarmKeyFile', swarm], ['http.tokenFile', token], ['signals[0].passwordFile', pw]]) {
      assert.ok(p.some(x => x.includes(` ${field}: `) && x.includes(`chmod 600 ${f}`)), `no problem names ${field} with the fix:\n${p.join('\n')}`)
    }
    chmodSync(swarm, 0o600); chmodSync(token, 0o600); chmodSync(pw, 0o600)
    assert.deepEqual(configProblems(`site: a\nhostId: h\nnetwork: {swarmKeyFile: ${swarm}}\nhttp: {tokenFile: ${token}}\n`), [])
  })
})
