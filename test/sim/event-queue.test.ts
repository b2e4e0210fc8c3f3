import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { EventQueue, WHEEL_MS } from '../../sim/event-queue.js'
import { SiteMesh } from '../../sim/gossip-mesh.js'
import { Rng } from '../../node/core/rng.js'
import { defaultGossip } from '../../sim/defaults.js'

describe('the event queue', () => {
  it('runs events in (time, insertion) order, near and far, including ones scheduled while running', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * WHEEL_MS }), fc.integer({ min: 0, max: 3 })), { maxLength: 200 }), (items) => {
      const q = new EventQueue<{ at: number, id: number, spawn: number }>()
      const expected: { at: number, id: number }[] = []
      let id = 0
      for (const [at, spawn] of items) { q.push(at, { at, id: id++, spawn }); expected.push({ at, id: id - 1 }) }
      const ran: { at: number, id: number }[] = []
      q.runUntil(10 * WHEEL_MS, (e, now) => {
        assert.equal(now, e.at)
        ran.push({ at: e.at, id: e.id })
        if (e.spawn > 0) {
          const at = now + e.spawn * 1000
          expected.push({ at, id })
          q.push(at, { at, id: id++, spawn: e.spawn - 1 })
        }
      }, () => false)
      expected.sort((a, b) => a.at - b.at || a.id - b.id)
      assert.deepEqual(ran, expected)
    }))
  })
})

describe('the gossip mesh', () => {
  it('keeps every node within [D_lo, D_hi] and reaches every node after maintenance', () => {
    const up = new Array(40).fill(true)
    const g = defaultGossip()
    const mesh = new SiteMesh(40, g, new Rng(3), i => up[i], () => true)
    mesh.build()
    mesh.maintain()
    for (let i = 0; i < 40; i++) assert.ok(mesh.degree(i) >= g.Dlo && mesh.degree(i) <= g.Dhi, `node ${i}: ${mesh.degree(i)}`)
    assert.equal(mesh.route(0).order.length, 39)
    for (let i = 0; i < 10; i++) up[i] = false
    mesh.maintain()
    const r = mesh.route(20)
    assert.equal(r.order.length + r.unreached.length, 29, 'every running node gets it, by mesh or by repair')
  })

  it('does not deliver across a partition', () => {
    const side = (i: number): number => i < 5 ? 0 : 1
    const mesh = new SiteMesh(12, defaultGossip(), new Rng(1), () => true, (a, b) => side(a) === side(b))
    mesh.build()
    const r = mesh.route(0)
    for (const v of [...r.order, ...r.unreached]) assert.equal(side(v), 0)
  })
})
