/**
 * A real supervisor under the rate policy: a pushed backlog and a pushed arrival rate (two push
 * signals of one service told apart by `measures`) reach the leader as two readings, and the
 * replicas it plans are the rate policy's, ⌈(λ / utilization + backlog / drainWithin) / μ⌉, with
 * μ from the config; /v1/plan shows the policy and the drain rate. (minReplicas 1: from zero the
 * policy starts only once a backlog is above the activation threshold, and a pushed one stays.)
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { PlanView } from '../../node/daemon/api-schema.js'
import { Cluster, TEST_TOKEN, waitFor, type Supervisor } from './harness.js'

type Plan = typeof PlanView.static

describe('a supervisor under the rate policy', () => {
  let cluster: Cluster
  let sup: Supervisor

  before(async () => {
    cluster = await Cluster.create({
      hosts: [{ hostId: 'r1', site: 'R' }],
      common: {
        services: [{ name: 'api', minReplicas: 1, maxReplicas: 20, rate: { drainPerReplica: 10, utilization: 0.9, drainWithinMs: '30s', startLatencyMs: 0 } }],
        signals: [{ service: 'api', kind: 'push' }, { service: 'api', kind: 'push', measures: 'rate' }],
      },
    })
    sup = cluster.sups[0]
    sup.start()
    await waitFor('r1 leads', async () => (await sup.status()).role === 'leader' || undefined, 30_000)
  })
  after(async () => { await cluster?.stopAll() })

  const push = async (body: unknown): Promise<void> => {
    const res = await sup.post('/v1/signals', body, TEST_TOKEN)
    assert.equal(res.status, 200, await res.text())
  }
  const desired = async (n: number): Promise<Plan> => await waitFor(`api desired ${n}`, async () => {
    const plan = await sup.get<Plan>('/v1/plan')
    return plan.leader?.services.find(s => s.service === 'api')?.desired === n ? plan : undefined
  }, 15_000, 200)

  it('plans for the arrival rate: 45/s at 90 % of 10/s per replica is 5 replicas', async () => {
    await push({ signals: [{ service: 'api', value: 0, measures: 'backlog' }, { service: 'api', value: 45, measures: 'rate' }] })
    const plan = await desired(5)
    const api = plan.leader!.services.find(s => s.service === 'api')!
    assert.equal(api.drainPerReplica, 10)
    assert.equal(plan.scaling?.services.find(s => s.service === 'api')?.policy, 'rate')
  })

  it('adds what drains the backlog within drainWithin: 600 queued over 30 s is 2 more', async () => {
    await push({ service: 'api', value: 600, measures: 'backlog' })
    await push({ service: 'api', value: 45, measures: 'rate' })
    await desired(7)
  })

  it('refuses a measure the service has no push signal for, and an unknown measure', async () => {
    const none = await sup.post('/v1/signals', { service: 'api', value: 1, upstream: true, measures: 'rate' }, TEST_TOKEN)
    assert.equal(none.status, 404, await none.text())
    const bad = await sup.post('/v1/signals', { service: 'api', value: 1, measures: 'speed' }, TEST_TOKEN)
    assert.equal(bad.status, 400, await bad.text())
  })
})
