/**
 * Cross-site overflow, the pure parts (node/core/spill.ts): names, the choice of site, the
 * lease; and a host's cut of a plan that carries another site's overflow.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { SiteSummary } from '../../protocol/index.js'
import { chooseSpillSite, overflowName, parseOverflowName, SpillHosting, type KnownSite } from '../../node/core/spill.js'

function site (slotsFree: number, services: Array<[string, number]>, receivedAtMs = 0): KnownSite {
  const summary: SiteSummary = { term: 1, hostsAlive: 3, slotsTotal: 20, slotsFree, services: services.map(([service, unplaced]) => ({ service, desired: 1, running: 1, load: 0, unplaced })) }
  return { summary, receivedAtMs }
}

describe('overflow service names', () => {
  it('are service@origin, and ordinary names are not overflow', () => {
    assert.equal(overflowName('web', 'plant'), 'web@plant')
    assert.deepEqual(parseOverflowName('web@plant'), { service: 'web', origin: 'plant' })
    assert.equal(parseOverflowName('web'), undefined)
    assert.equal(parseOverflowName('@plant'), undefined)
    assert.equal(parseOverflowName('web@'), undefined)
  })
})

describe('the site asked to run overflow', () => {
  it('is the one with the most free slots that runs the service with nothing unplaced, on a recent summary', () => {
    const sites = new Map<string, KnownSite>([
      ['a', site(5, [['web', 0]])],
      ['b', site(9, [['web', 0]])],
      ['c', site(30, [['api', 0]])], // does not run web
      ['d', site(40, [['web', 2]])], // short itself
      ['e', site(50, [['web', 0]], -10_000)], // summary too old
      ['own', site(99, [['web', 0]])],
    ])
    assert.equal(chooseSpillSite(sites, 'own', 'web', 1000, 6000), 'b')
    assert.equal(chooseSpillSite(sites, 'own', 'db', 1000, 6000), undefined)
  })

  it('breaks ties by the lowest name and never picks a site without free slots', () => {
    const sites = new Map<string, KnownSite>([['z', site(4, [['web', 0]])], ['m', site(4, [['web', 0]])], ['full', site(0, [['web', 0]])]])
    assert.equal(chooseSpillSite(sites, 'own', 'web', 0, 6000), 'm')
    assert.equal(chooseSpillSite(new Map([['full', site(0, [['web', 0]])]]), 'own', 'web', 0, 6000), undefined)
  })
})

describe('overflow hosted for another site', () => {
  it('runs for the lease after the last request, a new request replacing the count, and none once asked for none', () => {
    const h = new SpillHosting()
    h.accept('plant', 'web', 5, 20_000)
    assert.deepEqual(h.active(0).map(x => [x.name, x.replicas]), [['web@plant', 5]])
    h.accept('plant', 'web', 3, 30_000)
    assert.deepEqual(h.active(25_000).map(x => [x.name, x.replicas]), [['web@plant', 3]])
    assert.deepEqual(h.active(30_000), [])
    h.accept('lab', 'web', 2, 10_000)
    h.accept('lab', 'web', 0, 10_000)
    assert.deepEqual(h.active(0), [])
  })
})
