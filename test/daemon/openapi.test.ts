/**
 * The local API's OpenAPI document against live supervisors: `/v1/openapi.json` is served and
 * holds the schemas the code types its responses by (api-schema.ts), and every answer of a
 * running daemon (status, sites, plan, health, readiness, a refusal) matches its schema. The
 * schemas are closed: a field added to a response and not to its schema fails here.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ErrorBody, Health, PlanView, Ready, Sites, Status } from '../../node/daemon/api-schema.js'
import { Cluster, TEST_TOKEN, waitFor, type Supervisor } from './harness.js'

function problems (schema: TSchema, value: unknown): string[] {
  return [...Value.Errors(schema, value)].slice(0, 10).map(e => `${e.path}: ${e.message} (got ${JSON.stringify(e.value)})`)
}

describe('the OpenAPI document of the local API', { timeout: 90_000 }, () => {
  let cluster: Cluster
  let leader: Supervisor
  let follower: Supervisor

  before(async () => {
    cluster = await Cluster.create({
      hosts: [{ hostId: 'o1', site: 'O', priority: 1 }, { hostId: 'o2', site: 'O' }],
      common: {
        services: [{ name: 'svc', targetPerReplica: 10, minReplicas: 1, maxReplicas: 3, upstream: { name: 'broker' } }],
        signals: [{ service: 'svc', kind: 'push', scope: 'site' }, { upstream: 'broker', kind: 'push' }],
      },
    })
    cluster.startAll()
    const agreed = await waitFor('site O agrees on a leader', async () => await cluster.siteAgreement('O').catch(() => undefined), 30_000)
    leader = cluster.byId(agreed.leaderId)
    follower = cluster.sups.find(s => s.hostId !== agreed.leaderId)!
    const res = await leader.post('/v1/signals', { signals: [{ service: 'svc', value: 12 }, { service: 'broker', value: 0.3, upstream: true }] }, TEST_TOKEN)
    assert.equal(res.status, 200)
    await waitFor('the plan reaches the follower', async () => (await follower.get<{ plan: unknown }>('/v1/plan')).plan !== null || undefined, 15_000)
  })
  after(async () => { await cluster?.stopAll() })

  it('is served at /v1/openapi.json with the schemas the daemon is typed by', async () => {
    const doc = await leader.get<{ openapi: string, info: { version: string }, paths: Record<string, unknown>, components: { schemas: Record<string, unknown> } }>('/v1/openapi.json')
    assert.equal(doc.openapi, '3.1.0')
    for (const path of ['/healthz', '/readyz', '/v1/status', '/v1/sites', '/v1/plan', '/v1/events', '/v1/signals', '/metrics', '/v1/openapi.json']) assert.ok(path in doc.paths, path)
    const expected = { Error: ErrorBody, Health, Ready, Status, Sites, Plan: PlanView }
    for (const [name, schema] of Object.entries(expected)) assert.deepEqual(doc.components.schemas[name], JSON.parse(JSON.stringify(schema)), name)
  })

  it('describes every answer of a leader and a follower', async () => {
    for (const sup of [leader, follower]) {
      const found: string[] = []
      found.push(...problems(Status, await sup.get('/v1/status')).map(p => `status ${p}`))
      found.push(...problems(Sites, await sup.get('/v1/sites')).map(p => `sites ${p}`))
      found.push(...problems(PlanView, await sup.get('/v1/plan')).map(p => `plan ${p}`))
      found.push(...problems(Health, await sup.get('/healthz')).map(p => `healthz ${p}`))
      found.push(...problems(Ready, await sup.get('/readyz')).map(p => `readyz ${p}`))
      const missing = await fetch(`${sup.url}/v1/nothing`)
      assert.equal(missing.status, 404)
      found.push(...problems(ErrorBody, await missing.json()).map(p => `404 ${p}`))
      assert.deepEqual(found, [], sup.hostId)
    }
  })
})
