import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { countReceivedCopies } from '../../node/daemon/gossip-copies.js'

// That the pinned gossipsub has the handler, and that the daemon counts with it, is checked on
// real daemons: test/daemon/mesh.test.ts (copies cover every message accepted or refused).
describe('counting the gossip copies a host receives', () => {
  it('counts each RPC\'s messages and still hands the RPC to gossipsub, on its own instance', async () => {
    const handled: unknown[] = []
    class FakePubsub {
      readonly name = 'fake'
      async handleReceivedRpc (from: unknown, rpc: { messages?: unknown[] }): Promise<void> { handled.push([this.name, from, rpc]) }
    }
    const pubsub = new FakePubsub()
    const counted: number[] = []
    assert.equal(countReceivedCopies(pubsub, n => counted.push(n)), true)
    const rpc = { messages: [1, 2, 3] }
    await pubsub.handleReceivedRpc('peer-a', rpc)
    await pubsub.handleReceivedRpc('peer-b', { messages: [] })
    await pubsub.handleReceivedRpc('peer-c', {})
    assert.deepEqual(counted, [3], 'an RPC of control messages only counts nothing')
    assert.deepEqual(handled, [['fake', 'peer-a', rpc], ['fake', 'peer-b', { messages: [] }], ['fake', 'peer-c', {}]])
    assert.equal(typeof FakePubsub.prototype.handleReceivedRpc, 'function')
    const other = new FakePubsub()
    await other.handleReceivedRpc('peer-d', { messages: [1] })
    assert.deepEqual(counted, [3], 'another instance is not wrapped')
  })

  it('wraps nothing, and says so, when gossipsub has no such handler', () => {
    assert.equal(countReceivedCopies({}, () => {}), false)
  })
})
