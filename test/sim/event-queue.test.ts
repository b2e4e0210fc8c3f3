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

describe('the event queue, window by window', () => {
  // The sharded run's use: a small wheel, events from other sites put in front (pushFront), the
  // clock moved to each window's start (advanceTo), events spawned while running (some in the
  // same millisecond). Checked against a plain list sorted as the queue promises: at one time,
  // front events by their order, then every push() in the order pushed. Front orders come in
  // any order (a record from a site with a lower index can be learnt of later), and front events
  // land within the wheel and beyond it, where the heap holds push()es of the same time.
  it('runs every event in (time, front order, insertion) order, against a sorted list', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(32, 64, 256), fc.integer({ min: 1, max: 40 }), (seed, wheelMs, windowMs) => {
      const rng = new Rng(seed)
      interface Ev { at: number, front: boolean, key: number, spawn: number }
      const q = new EventQueue<Ev>(wheelMs)
      const expected: Ev[] = []
      let seq = 0
      let order = 0
      const push = (at: number, spawn: number): void => { const e = { at, front: false, key: seq++, spawn }; expected.push(e); q.push(at, e) }
      const front = (at: number): void => { const e = { at, front: true, key: rng.int(8) * 2 ** 32 + order++, spawn: 0 }; expected.push(e); q.pushFront(at, e.key, e) }
      for (let i = 0; i < 60; i++) push(rng.int(3 * wheelMs + 50), rng.int(3))
      const ran: Ev[] = []
      const endMs = 4 * wheelMs + 400
      for (let start = 0; start <= endMs; start += windowMs) {
        q.advanceTo(start)
        // What another site sent: to arrive after this window starts, at least a window ahead.
        for (let k = rng.int(3); k > 0; k--) front(start + windowMs + rng.int(2 * wheelMs))
        q.runUntil(Math.min(endMs, start + windowMs - 1), (e, now) => {
          assert.equal(now, e.at)
          ran.push(e)
          if (e.spawn > 0) push(now + rng.int(Math.min(60, 2 * wheelMs)), e.spawn - 1)
        }, () => false)
      }
      const inOrder = expected.filter(e => e.at <= endMs).sort((a, b) => a.at - b.at || (a.front === b.front ? a.key - b.key : a.front ? -1 : 1))
      assert.deepEqual(ran, inOrder)
      assert.equal(q.size, expected.length - inOrder.length)
    }), { numRuns: 200 })
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
