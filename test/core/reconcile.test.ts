import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  OWNER_LABELS, isOwnedBy, reconcile,
  type ContainerAction, type ContainerState, type ObservedContainer, type ReconcileInput,
} from '../../node/core/reconcile.js'

const HOST = 'h1'
const SITE = 'edge'
const TERM = 7

function owned (id: string, service: string, state: ContainerState = 'running', createdAt = 0): ObservedContainer {
  return {
    id, state, createdAt,
    labels: { [OWNER_LABELS.service]: service, [OWNER_LABELS.site]: SITE, [OWNER_LABELS.host]: HOST, [OWNER_LABELS.term]: '1' },
  }
}

function input (wanted: Record<string, number>, observed: ObservedContainer[]): ReconcileInput {
  return { hostId: HOST, site: SITE, term: TERM, wanted: new Map(Object.entries(wanted)), observed }
}

describe('reconcile', () => {
  it('starts the wanted replicas, stamped with the plan\'s term', () => {
    assert.deepEqual(reconcile(input({ a: 2, b: 1 }, [])), [
      { type: 'start', service: 'a', term: TERM },
      { type: 'start', service: 'a', term: TERM },
      { type: 'start', service: 'b', term: TERM },
    ])
  })

  it('adopts its own containers from an earlier run: no start when the count already matches', () => {
    assert.deepEqual(reconcile(input({ a: 2 }, [owned('c1', 'a'), owned('c2', 'a', 'starting')])), [])
  })

  it('removes exited own containers and replaces them', () => {
    assert.deepEqual(reconcile(input({ a: 2 }, [owned('c1', 'a'), owned('c2', 'a', 'exited')])), [
      { type: 'remove', service: 'a', containerId: 'c2' },
      { type: 'start', service: 'a', term: TERM },
    ])
  })

  it('stops the newest surplus containers first, ties broken by id', () => {
    const observed = [owned('c1', 'a', 'running', 10), owned('c2', 'a', 'running', 30), owned('c3', 'a', 'running', 20), owned('c4', 'a', 'running', 30)]
    assert.deepEqual(reconcile(input({ a: 1 }, observed)), [
      { type: 'stop', service: 'a', containerId: 'c4' },
      { type: 'stop', service: 'a', containerId: 'c2' },
      { type: 'stop', service: 'a', containerId: 'c3' },
    ])
  })

  it('stops every container of a service the plan no longer wants', () => {
    assert.deepEqual(reconcile(input({}, [owned('c1', 'gone')])), [{ type: 'stop', service: 'gone', containerId: 'c1' }])
  })

  it('never touches unlabelled containers or those of another host or site', () => {
    const foreign: ObservedContainer[] = [
      { id: 'x1', state: 'exited', createdAt: 0, labels: {} },
      { id: 'x2', state: 'running', createdAt: 0, labels: { ...owned('x', 'a').labels, [OWNER_LABELS.host]: 'h2' } },
      { id: 'x3', state: 'exited', createdAt: 0, labels: { ...owned('x', 'a').labels, [OWNER_LABELS.site]: 'cloud' } },
      { id: 'x4', state: 'running', createdAt: 0, labels: { ...owned('x', 'a').labels, [OWNER_LABELS.service]: '' } },
      { id: 'x5', state: 'running', createdAt: 0, labels: { [OWNER_LABELS.host]: HOST, [OWNER_LABELS.site]: SITE } },
    ]
    for (const c of foreign) assert.equal(isOwnedBy(c, HOST, SITE), false, c.id)
    assert.deepEqual(reconcile(input({}, foreign)), [])
    assert.deepEqual(reconcile(input({ a: 1 }, foreign)), [{ type: 'start', service: 'a', term: TERM }])
  })

  it('lists services in name order, whatever order the runtime reported', () => {
    const actions = reconcile(input({ b: 1, a: 1 }, [owned('c9', 'z')]))
    assert.deepEqual(actions.map(a => a.service), ['a', 'b', 'z'])
  })
})

// ---- property ----------------------------------------------------------------------------

const containerArb: fc.Arbitrary<Omit<ObservedContainer, 'id'>> = fc.record({
  service: fc.constantFrom('a', 'b', 'c', ''),
  host: fc.constantFrom(HOST, HOST, 'h2', undefined),
  site: fc.constantFrom(SITE, SITE, 'cloud', undefined),
  state: fc.constantFrom<ContainerState>('starting', 'running', 'running', 'exited'),
  createdAt: fc.integer({ min: 0, max: 5 }),
}).map(c => {
  const labels: Record<string, string> = { [OWNER_LABELS.service]: c.service }
  if (c.host !== undefined) labels[OWNER_LABELS.host] = c.host
  if (c.site !== undefined) labels[OWNER_LABELS.site] = c.site
  return { labels, state: c.state, createdAt: c.createdAt }
})

const caseArb = fc.record({
  observed: fc.array(containerArb, { maxLength: 12 }).map(cs => cs.map((c, i) => ({ ...c, id: `c${i}` }))),
  wanted: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 0, max: 4 })),
})

/** What the runtime shows after the actions: started ones run, stopped and removed ones are gone. */
function apply (observed: readonly ObservedContainer[], actions: readonly ContainerAction[]): ObservedContainer[] {
  const gone = new Set(actions.flatMap(a => a.type === 'start' ? [] : [a.containerId]))
  const after = observed.filter(c => !gone.has(c.id))
  actions.forEach((a, i) => {
    if (a.type !== 'start') return
    after.push({
      id: `new${i}`, state: 'running', createdAt: 100 + i,
      labels: { [OWNER_LABELS.service]: a.service, [OWNER_LABELS.site]: SITE, [OWNER_LABELS.host]: HOST, [OWNER_LABELS.term]: String(a.term) },
    })
  })
  return after
}

describe('reconcile properties', () => {
  it('is idempotent: applying its actions and reconciling again yields no action', () => {
    fc.assert(fc.property(caseArb, ({ observed, wanted }) => {
      const first = input(wanted, observed)
      const actions = reconcile(first)
      assert.deepEqual(reconcile({ ...first, observed: apply(observed, actions) }), [])
    }), { numRuns: 200 })
  })

  it('acts only on its own containers, and leaves exactly the wanted count of each service', () => {
    fc.assert(fc.property(caseArb, ({ observed, wanted }) => {
      const actions = reconcile(input(wanted, observed))
      const byId = new Map(observed.map(c => [c.id, c]))
      for (const a of actions) {
        if (a.type === 'start') continue
        const c = byId.get(a.containerId)!
        assert.ok(isOwnedBy(c, HOST, SITE), `${a.type} ${c.id} is not ours`)
        assert.equal(a.service, c.labels[OWNER_LABELS.service])
        assert.equal(a.type === 'remove', c.state === 'exited', `${a.type} on a ${c.state} container`)
      }
      const after = apply(observed, actions).filter(c => isOwnedBy(c, HOST, SITE))
      assert.ok(after.every(c => c.state !== 'exited'))
      for (const service of ['a', 'b', 'c', 'd']) {
        assert.equal(after.filter(c => c.labels[OWNER_LABELS.service] === service).length, wanted[service] ?? 0, service)
      }
      // A container that stays is never restarted: no start while a live one of the service is stopped.
      for (const service of ['a', 'b', 'c', 'd']) {
        const mine = actions.filter(a => a.service === service)
        assert.ok(!(mine.some(a => a.type === 'start') && mine.some(a => a.type === 'stop')), service)
      }
    }), { numRuns: 200 })
  })
})
