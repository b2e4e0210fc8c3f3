import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { PROTOCOL_MINOR } from '../../protocol/index.js'
import { DEFAULT_TIMINGS } from '../../node/core/config.js'
import { OWNER_LABELS } from '../../node/core/reconcile.js'
import { serviceSpec, type ServiceSpec } from '../../node/core/service-spec.js'
import { SupervisorCore } from '../../node/core/supervisor-core.js'
import { SiteSim, capacity, siteHosts } from '../../sim/site-sim.js'

const FAST_DOWN = { stabilizationMs: 10_000, policies: [{ type: 'percent' as const, value: 100, periodMs: 1000 }], selectPolicy: 'max' as const }
const FAST_UP = { stabilizationMs: 0, policies: [{ type: 'pods' as const, value: 100, periodMs: 1000 }], selectPolicy: 'max' as const }

function ingest (opts: Partial<ServiceSpec> = {}): ServiceSpec {
  return serviceSpec('ingest', { targetPerReplica: 10, maxReplicas: 20, scaleUp: FAST_UP, scaleDown: FAST_DOWN, ...opts })
}

function running (c: SiteSim, service: string): number {
  let n = 0
  for (const h of c.hosts.values()) {
    if (h.up) n += h.containers.filter(x => x.labels[OWNER_LABELS.service] === service && x.state === 'running').length
  }
  return n
}

function settle (c: SiteSim): string {
  c.runUntilTrue(() => c.agreedLeader('a') !== undefined, 5000)
  return c.agreedLeader('a')!
}

describe('scaling a site end to end through the core', () => {
  it('starts containers for backlog on matching hosts, spread, and removes them when backlog falls', () => {
    const hosts = siteHosts('a', 4, { slots: 4 })
    hosts[0].labels = { gpu: 'no' }
    for (const h of hosts.slice(1)) h.labels = { gpu: 'yes' }
    const c = new SiteSim({ seed: 3, hosts, services: [ingest({ selector: { gpu: 'yes' } })] })
    settle(c)
    c.setSignal('a-h0', 'ingest', 60)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 6, 10_000) !== undefined, 'six replicas for a backlog of 60')
    assert.equal(c.host('a-h0').containers.length, 0, 'nothing on the host that does not match')
    for (const id of ['a-h1', 'a-h2', 'a-h3']) assert.equal(c.host(id).containers.length, 2, `${id} holds its share`)
    c.setSignal('a-h0', 'ingest', 5)
    c.runFor(5000)
    assert.equal(running(c, 'ingest'), 6, 'no scale-down inside the stabilisation window')
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 1, 15_000) !== undefined, 'scaled down after the window')
  })

  it('never places more replicas on a host than its slots, and reports the rest unplaced', () => {
    const c = new SiteSim({ seed: 4, hosts: siteHosts('a', 3, { slots: 2 }), services: [ingest()] })
    const leader = settle(c)
    c.setSignal('a-h1', 'ingest', 150)
    c.runFor(5000)
    for (const h of c.hosts.values()) assert.ok(h.containers.length <= 2)
    assert.equal(running(c, 'ingest'), 6)
    assert.equal(c.host(leader).core.leaderView?.unplaced.get('ingest'), 9)
  })

  it('keeps what runs when the only signal source goes silent (fails static)', () => {
    const c = new SiteSim({ seed: 5, hosts: siteHosts('a', 3), services: [ingest()] })
    const leader = settle(c)
    const source = [...c.hosts.keys()].find(id => id !== leader)!
    c.setSignal(source, 'ingest', 40)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 4, 10_000) !== undefined)
    c.crash(source)
    c.runFor(60_000)
    assert.equal(running(c, 'ingest'), 4, 'the survivors keep the count, taking over the dead host\'s share')
    const decision = c.host(leader).core.plan?.plan.decisions.find(d => d.service === 'ingest')
    assert.equal(decision?.desired, 4, 'desired held at 4 with no data')
    assert.equal(decision?.failingStatic, true)
  })

  it('holds scale-up while the declared upstream is saturated', () => {
    const svc = ingest({ upstream: { name: 'broker-a', saturatedAt: 0.9 } })
    const c = new SiteSim({ seed: 6, hosts: siteHosts('a', 3), services: [svc] })
    settle(c)
    c.setSignal('a-h2', 'ingest', 20)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 2, 10_000) !== undefined)
    c.setSignal('a-h2', 'broker-a', 0.95, true)
    c.setSignal('a-h2', 'ingest', 80)
    c.runFor(5000)
    assert.equal(running(c, 'ingest'), 2, 'no scale-up while saturated')
    c.setSignal('a-h2', 'broker-a', 0.5, true)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 8, 10_000) !== undefined, 'scales up once the upstream recovers')
  })

  it('scales from zero and back to zero with an activation threshold', () => {
    const c = new SiteSim({ seed: 7, hosts: siteHosts('a', 3), services: [ingest({ activationThreshold: 2 })] })
    settle(c)
    c.setSignal('a-h0', 'ingest', 1)
    c.runFor(5000)
    assert.equal(running(c, 'ingest'), 0, 'load under the activation threshold starts nothing')
    c.setSignal('a-h0', 'ingest', 3)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 1, 5000) !== undefined, 'one replica once above it')
    c.setSignal('a-h0', 'ingest', 0)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 0, 20_000) !== undefined, 'back to zero after the window')
  })

  it('replaces a crashed container and adopts its own containers after a restart', () => {
    const c = new SiteSim({ seed: 8, hosts: siteHosts('a', 3), services: [ingest()] })
    settle(c)
    c.setSignal('a-h0', 'ingest', 30)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 3, 10_000) !== undefined)
    const h1 = c.host('a-h1')
    const before = h1.containers.map(x => x.id)
    c.exitContainers('a-h1')
    c.setSignal('a-h0', 'ingest', 30)
    c.runFor(3000)
    assert.equal(running(c, 'ingest'), 3, 'the exited container is replaced')
    assert.ok(h1.containers.every(x => !before.includes(x.id)))
    const kept = c.host('a-h2').containers.map(x => x.id)
    c.crash('a-h2', true)
    c.start('a-h2')
    c.runFor(5000)
    assert.deepEqual(c.host('a-h2').containers.map(x => x.id), kept, 'the restarted host adopted its containers as they were')
  })

  it('never executes a plan from an older term', () => {
    const core = new SupervisorCore({
      hostId: 'h1', site: 'a', incarnation: 1, labels: new Map(), priority: 0, capacity: capacity(4),
      services: [ingest()], timings: DEFAULT_TIMINGS, seed: 1, startMs: 0,
      persisted: { term: 5, votedFor: '', members: ['h0', 'h1'] },
    })
    const heartbeat = { labels: new Map(), capacity: capacity(4), priority: 0, running: [], signals: [], addrs: [], term: 4, leaderId: 'h0', planVersion: 0, runtimeOk: true }
    core.handle({ type: 'message', message: { minor: PROTOCOL_MINOR, sender: 'h0', site: 'a', incarnation: 1, seq: 1, sentAtMs: 0, body: { kind: 'heartbeat', heartbeat } } }, 10)
    const plan = { term: 4, version: 9, services: ['ingest'], hosts: [{ hostId: 'h1', replicas: [3] }], decisions: [{ service: 'ingest', desired: 3, failingStatic: false }] }
    core.handle({ type: 'message', message: { minor: PROTOCOL_MINOR, sender: 'h0', site: 'a', incarnation: 1, seq: 2, sentAtMs: 0, body: { kind: 'plan', plan } } }, 20)
    core.handle({ type: 'observed', containers: [], runtimeOk: true }, 30)
    const outputs = core.drainOutputs()
    assert.ok(outputs.some(o => o.type === 'event' && o.event.kind === 'plan-ignored' && o.event.reason === 'stale-term'))
    assert.ok(!outputs.some(o => o.type === 'action'), 'no container action from a stale plan')
    assert.equal(core.plan, undefined)
  })
})

describe('a host that cannot start a service (unavailable, e.g. its secrets cannot be read)', () => {
  const fixed = (): ServiceSpec => serviceSpec('ingest', { minReplicas: 3, maxReplicas: 3 })
  const on = (c: SiteSim, hostId: string): number => c.host(hostId).containers.filter(x => x.labels[OWNER_LABELS.service] === 'ingest').length

  it('says so in its heartbeats to the leader; the leader places its missing replicas on hosts that can start them, and what it runs stays', () => {
    const c = new SiteSim({ seed: 11, hosts: siteHosts('a', 3, { slots: 3 }), services: [fixed()] })
    const leader = settle(c)
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 3, 10_000) !== undefined, 'three replicas, one a host')
    for (const id of ['a-h0', 'a-h1', 'a-h2']) assert.equal(on(c, id), 1)
    // A member (not the leader) can no longer start ingest; what it runs keeps running.
    const victim = ['a-h0', 'a-h1', 'a-h2'].find(id => id !== leader)!
    const others = ['a-h0', 'a-h1', 'a-h2'].filter(id => id !== victim)
    c.setUnavailable(victim, ['ingest'])
    c.runFor(3000)
    assert.equal(on(c, victim), 1, 'a running replica is not moved')
    // Heartbeats go to the leader alone (docs/membership.md): the leader is the one that knows.
    assert.deepEqual(c.host(leader).core.members.get(victim)?.unavailable, ['ingest'], `the leader ${leader} heard that ${victim} cannot start ingest`)
    // Its replica dies: the leader places the replacement elsewhere, not back on it.
    c.loseContainer(victim, 'ingest')
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 3, 10_000) !== undefined, 'three replicas again')
    assert.equal(on(c, victim), 0)
    assert.equal(on(c, others[0]) + on(c, others[1]), 3)
    // Available again: nothing moves (fewest moves), and it may be given replicas again.
    c.setUnavailable(victim, [])
    c.runFor(3000)
    assert.equal(running(c, 'ingest'), 3)
    assert.deepEqual(c.host(leader).core.members.get(victim)?.unavailable, [])
  })

  it('leaves replicas no host can start unplaced, and places them once a host can', () => {
    const c = new SiteSim({ seed: 12, hosts: siteHosts('a', 2, { slots: 3 }), services: [fixed()] })
    for (const id of ['a-h0', 'a-h1']) c.setUnavailable(id, ['ingest'])
    const leader = settle(c)
    c.runFor(3000)
    assert.equal(running(c, 'ingest'), 0)
    assert.equal(c.host(leader).core.leaderView?.unplaced.get('ingest'), 3)
    c.setUnavailable('a-h0', [])
    assert.ok(c.runUntilTrue(() => running(c, 'ingest') === 3, 10_000) !== undefined, 'all three on the host that can start them')
    assert.equal(on(c, 'a-h0'), 3)
  })
})
