/**
 * The re-dial loop's budget (mesh.ts, newDialsAllowed): half of targetPeers at once, the rest
 * one at a time once no connection has come for dialSettleMs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { newDialsAllowed } from '../../node/daemon/mesh.js'

const c = { targetPeers: 8, dialSettleMs: 3000 }

describe('newDialsAllowed', () => {
  it('dials half of targetPeers at once, whatever the quiet time', () => {
    assert.equal(newDialsAllowed(0, 0, c, 0), 4)
    assert.equal(newDialsAllowed(1, 2, c, 0), 1)
    assert.equal(newDialsAllowed(0, 0, { targetPeers: 5, dialSettleMs: 3000 }, 0), 3)
  })

  it('beyond half, dials one more only after dialSettleMs without a new connection', () => {
    assert.equal(newDialsAllowed(4, 0, c, 2999), 0)
    assert.equal(newDialsAllowed(4, 0, c, 3000), 1)
    assert.equal(newDialsAllowed(7, 0, c, 10_000), 1)
  })

  it('beyond half, never while a dial runs', () => {
    assert.equal(newDialsAllowed(4, 1, c, 10_000), 0)
  })

  it('dials nothing at targetPeers or above', () => {
    assert.equal(newDialsAllowed(8, 0, c, 10_000), 0)
    assert.equal(newDialsAllowed(30, 0, c, 10_000), 0)
    assert.equal(newDialsAllowed(7, 1, c, 10_000), 0)
  })

  it('with no settle wait, still one at a time beyond half', () => {
    assert.equal(newDialsAllowed(4, 0, { targetPeers: 8, dialSettleMs: 0 }, 0), 1)
  })
})
