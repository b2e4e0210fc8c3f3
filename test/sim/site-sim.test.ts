import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { serviceSpec } from '../../node/core/service-spec.js'
import { SiteSim, siteHosts } from '../../sim/site-sim.js'

/** Everything a run reports, host by host: the transcript two runs of one seed must share. */
function transcript (seed: number): string {
  const c = new SiteSim({ seed, hosts: siteHosts('a', 5), services: [serviceSpec('ingest', { targetPerReplica: 10, maxReplicas: 6 })], delayMs: [0, 80], lossRate: 0.1 })
  c.runFor(3000)
  c.setSignal('a-h1', 'ingest', 35)
  c.crash('a-h2', true)
  c.partition([['a-h3']])
  c.runFor(5000)
  c.heal()
  c.start('a-h2')
  c.runFor(5000)
  const hosts = [...c.hosts.values()].map(h => ({ id: h.spec.hostId, events: h.events, containers: h.containers.map(x => [x.id, x.state, x.createdAt]) }))
  return JSON.stringify({ elections: c.elections, hosts, now: c.nowMs })
}

describe('the site sim (sim/site-sim.ts)', () => {
  it('gives the same run, event for event, for the same seed', () => {
    const a = transcript(42)
    assert.equal(transcript(42), a)
    assert.notEqual(transcript(43), a, 'and another run for another seed')
  })

  it('runs the containers the plan asks for through its runtime port, with owner labels of the current term', () => {
    const c = new SiteSim({ seed: 5, hosts: siteHosts('a', 3), services: [serviceSpec('ingest', { targetPerReplica: 10, maxReplicas: 6 })], startLatencyMs: 200 })
    c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
    c.setSignal('a-h0', 'ingest', 30)
    const running = (): number => [...c.hosts.values()].reduce((n, h) => n + h.runtime.observe().containers.filter(x => x.state === 'running').length, 0)
    assert.ok(c.runUntilTrue(() => running() === 3, 10_000) !== undefined, 'three replicas running')
    for (const h of c.hosts.values()) {
      for (const x of h.containers) {
        assert.equal(x.labels['agentmesh.host'], h.spec.hostId)
        assert.equal(x.labels['agentmesh.term'], String(h.core.currentTerm))
      }
    }
    assert.deepEqual(c.violations, [])
  })
})
