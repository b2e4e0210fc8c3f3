/**
 * Issue 11: inbound connections refused by the private network (pnet) were neither counted nor
 * logged; a host probed by something without the swarm key, or a supervisor with another key
 * retrying forever, was invisible. The real Mesh, in process, against bare libp2p nodes.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { generateKey } from '@libp2p/pnet'
import { multiaddr } from '@multiformats/multiaddr'
import { Mesh } from '../../node/daemon/mesh.js'
import type { RefusalReason } from '../../node/daemon/inbound-handshakes.js'
import { createRawNode, waitFor, type RawNode } from './harness.js'

function swarmKey (): Uint8Array {
  const k = new Uint8Array(95)
  generateKey(k)
  return k
}

describe('inbound connections refused before they become peers', { timeout: 60_000 }, () => {
  const key = swarmKey()
  const refused: Array<{ reason: RefusalReason, addr: string }> = []
  const nodes: RawNode[] = []
  let mesh: Mesh
  let addr: string

  before(async () => {
    mesh = new Mesh({
      hostId: 'h1', site: 's', privateKey: await generateKeyPair('Ed25519'), swarmKey: key,
      listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], maxConnections: 50, targetPeers: 8,
      redialIntervalMs: 1000, redialBackoffMaxMs: 10_000, dialTimeoutMs: 5000, dialSettleMs: 3000, maxParallelDials: 4, pingIntervalMs: 0,
      inboundConnectionsPerSecond: 50, ipColocationWhitelist: ['127.0.0.1'], gossipD: 3, gossipDlo: 2, gossipDhi: 6, maxTrackedSenders: 100, rebindQuietMs: 30_000,
    }, { 'connection:refused': (reason, a) => { refused.push({ reason, addr: a }) } }, Date.now)
    await mesh.start()
    addr = mesh.dialableAddrs()[0]
    assert.ok(addr.endsWith(`/p2p/${mesh.peerId}`), addr)
  })

  after(async () => {
    await Promise.all(nodes.map(async n => await n.stop().catch(() => {})))
    await mesh.stop()
  })

  const count = (reason: RefusalReason): number => refused.filter(r => r.reason === reason).length

  it('reports a peer with another swarm key as refused by pnet', async () => {
    const other = await createRawNode(swarmKey())
    nodes.push(other)
    await assert.rejects(other.dial(multiaddr(addr), { signal: AbortSignal.timeout(3000) }))
    await waitFor('the refusal to be reported', () => count('pnet') >= 1 || undefined, 15_000)
    assert.match(refused[0].addr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+$/)
  })

  it('reports a peer without any key, and a socket that closes during the nonce exchange', async () => {
    const before = count('pnet')
    const none = await createRawNode(undefined)
    nodes.push(none)
    await assert.rejects(none.dial(multiaddr(addr), { signal: AbortSignal.timeout(3000) }))
    await waitFor('the keyless peer to be reported', () => count('pnet') >= before + 1 || undefined, 15_000)
    const port = Number(/\/tcp\/(\d+)/.exec(addr)![1])
    const s = connect(port, '127.0.0.1', () => { s.end('short') })
    await waitFor('the short nonce to be reported', () => count('pnet') >= before + 2 || undefined, 15_000)
  })

  it('does not report a peer that has the key', async () => {
    const total = refused.length
    const good = await createRawNode(key)
    nodes.push(good)
    await good.dial(multiaddr(addr), { signal: AbortSignal.timeout(5000) })
    await waitFor('the peer to be connected', () => mesh.connectedPeers().has(good.peerId.toString()) || undefined, 5000)
    await good.stop()
    await waitFor('the peer to be gone', () => !mesh.connectedPeers().has(good.peerId.toString()) || undefined, 5000)
    assert.equal(refused.length, total, JSON.stringify(refused.slice(total)))
  })
})
