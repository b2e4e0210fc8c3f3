import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { firstDifference, pathOfDifference, sameDecoded } from '../../sim/simulation.js'

// What the codec-round-trip check compares: a message and its decoded copy. sameDecoded answers
// "equal?" without building a path for every field; it must agree with the walk that builds them.
const leaf = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom('a', 'b', ''), fc.boolean(), fc.constant(undefined), fc.constant(null), fc.bigInt({ min: -2n, max: 2n }), fc.constant(NaN))
const { value } = fc.letrec(tie => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('object'), tie('array'), tie('map'), tie('bytes')),
  object: fc.dictionary(fc.constantFrom('x', 'y', 'z', 'w'), tie('value'), { maxKeys: 4 }),
  array: fc.array(tie('value'), { maxLength: 3 }),
  map: fc.array(fc.tuple(fc.constantFrom('p', 'q', 'r'), tie('value')), { maxLength: 3 }).map(entries => new Map(entries)),
  bytes: fc.uint8Array({ maxLength: 3 }),
}))

/** A copy that may differ: a leaf changed, a key added or set to undefined, bytes changed. */
function copy (v: unknown, rng: () => number): unknown {
  if (v instanceof Uint8Array) { const c = Uint8Array.from(v); if (c.length > 0 && rng() < 0.1) c[0] ^= 1; return c }
  if (v instanceof Map) { const c = new Map<unknown, unknown>(); for (const [k, x] of v) c.set(k, copy(x, rng)); if (rng() < 0.05) c.set('s', 1); return c }
  if (Array.isArray(v)) { const c = v.map(x => copy(x, rng)); if (rng() < 0.05) c.push(0); return c }
  if (typeof v === 'object' && v !== null) {
    const c: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) c[k] = copy(x, rng)
    if (rng() < 0.1) c.u = undefined
    if (rng() < 0.05) c.n = 1
    return c
  }
  return rng() < 0.05 ? (typeof v === 'number' ? v + 1 : 7) : v
}

describe('comparing a message with its decoded copy', () => {
  it('finds a difference exactly when the path walk does, and gives its path', () => {
    fc.assert(fc.property(value, fc.integer({ min: 1, max: 2 ** 31 - 1 }), (a, seed) => {
      let s = seed
      const rng = (): number => { s = (s * 48271) % 0x7fffffff; return s / 0x7fffffff }
      const b = copy(a, rng)
      const path = pathOfDifference(a, b, 'm')
      assert.equal(sameDecoded(a, b), path === undefined)
      assert.equal(firstDifference(a, b, 'm'), path)
    }), { numRuns: 2000 })
  })

  it('takes a key set to undefined as absent, and tells bytes and maps apart', () => {
    assert.equal(firstDifference({ a: 1, b: undefined }, { a: 1 }, 'm'), undefined)
    assert.equal(firstDifference({ a: 1 }, { a: 1, c: 2 }, 'm'), 'm.c (undefined ≠ 2)')
    assert.equal(firstDifference({ a: new Uint8Array([1]) }, { a: new Uint8Array([2]) }, 'm'), 'm.a (bytes differ)')
    assert.equal(firstDifference(new Map([['k', 1]]), new Map([['k', 2]]), 'm'), 'm[k] (1 ≠ 2)')
    assert.equal(firstDifference([1], { 0: 1 }, 'm'), 'm (array ≠ object)')
  })
})
