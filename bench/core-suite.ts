/**
 * Core benchmarks: one leader's plan tick at site scale, and heartbeat ingestion.
 */
import { performance } from 'node:perf_hooks'
import type { Message, SignalSample } from '../protocol/index.js'
import { PROTOCOL_MINOR } from '../protocol/index.js'
import { DEFAULT_TIMINGS } from '../node/core/config.js'
import { serviceSpec, type ServiceSpec } from '../node/core/service-spec.js'
import { SupervisorCore } from '../node/core/supervisor-core.js'
import { median, round, type Figure, type Suite } from './harness.js'

const HOSTS = 1000
const SERVICES = 20

function services (): ServiceSpec[] {
  return Array.from({ length: SERVICES }, (_, i) => serviceSpec(`svc-${String(i).padStart(2, '0')}`, {
    // The HPA rule with no stabilisation and no rate limit: every tick with new load rescales
    // and re-places. (The rate policy without rate signals decides by the same rule.)
    policy: 'hpa',
    targetPerReplica: 10, maxReplicas: 2000, selector: i % 4 === 0 ? { tier: 'gpu' } : {},
    scaleUp: { stabilizationMs: 0, policies: [{ type: 'pods', value: 10_000, periodMs: 1000 }], selectPolicy: 'max' },
    scaleDown: { stabilizationMs: 0, policies: [{ type: 'pods', value: 10_000, periodMs: 1000 }], selectPolicy: 'max' },
  }))
}

/** A member's heartbeat; after the election it follows the leader (else the leader, not followed by a majority, steps down). */
function heartbeatFrom (peer: number, seq: number, nowMs: number, load: number, following?: { term: number, leaderId: string }): Message {
  const signals: SignalSample[] = []
  // Every host reports a share of two services' backlog, so the site aggregates 2,000 samples.
  for (const s of [peer % SERVICES, (peer * 7 + 3) % SERVICES]) {
    signals.push({ service: `svc-${String(s).padStart(2, '0')}`, value: load, ageMs: 10, upstream: false })
  }
  return {
    minor: PROTOCOL_MINOR, sender: `host-${String(peer).padStart(4, '0')}`, site: 'bench', incarnation: 1, seq, sentAtMs: nowMs,
    body: {
      kind: 'heartbeat',
      heartbeat: {
        labels: new Map([['tier', peer % 3 === 0 ? 'gpu' : 'cpu'], ['zone', `z${peer % 5}`]]),
        capacity: { slots: 16, cpuMillis: 16_000, memoryMib: 32_768 }, priority: 0, running: [], signals, addrs: [],
        term: following?.term ?? 0, leaderId: following?.leaderId ?? '', planVersion: 0, runtimeOk: true,
      },
    },
  }
}

function newCore (nowMs: number): SupervisorCore {
  return new SupervisorCore({
    hostId: 'host-self', site: 'bench', incarnation: 1, labels: new Map([['tier', 'gpu']]), priority: 0,
    capacity: { slots: 16, cpuMillis: 16_000, memoryMib: 32_768 }, services: services(),
    // A rise in load would start a round as the heartbeats carrying it arrive (riseGapMs); at
    // planIntervalMs rounds run on the tick alone, which is what this measures.
    timings: { ...DEFAULT_TIMINGS, riseGapMs: DEFAULT_TIMINGS.planIntervalMs }, seed: 1, startMs: nowMs,
  })
}

/** Makes `core` the leader of a site of HOSTS by feeding it the votes it asks for. */
function electLeader (core: SupervisorCore, nowMs: number): number {
  let t = nowMs
  let seq = 1000
  let request: Message | undefined
  const findRequest = (): void => {
    for (const out of core.drainOutputs()) {
      if (out.type === 'publish' && out.message.body.kind === 'voteRequest') request = out.message
    }
  }
  while (request === undefined) {
    t += 50
    for (let p = 1; p < HOSTS; p++) core.handle({ type: 'message', message: heartbeatFrom(p, ++seq, t, 1) }, t)
    core.handle({ type: 'tick' }, t)
    findRequest()
  }
  // Grant the pre-vote, then the vote it leads to, from a bare majority.
  for (let round = 0; round < 2 && request !== undefined; round++) {
    const vr = request.body.kind === 'voteRequest' ? request.body.voteRequest : undefined
    request = undefined
    for (let p = 1; p <= HOSTS / 2; p++) {
      const vote: Message = {
        minor: PROTOCOL_MINOR, sender: `host-${String(p).padStart(4, '0')}`, site: 'bench', incarnation: 1, seq: ++seq, sentAtMs: t,
        body: { kind: 'vote', vote: { term: vr!.term, candidateId: 'host-self', granted: true, preVote: vr!.preVote } },
      }
      core.handle({ type: 'message', message: vote }, t)
    }
    findRequest()
  }
  if (core.currentRole !== 'leader') throw new Error('benchmark setup: the core did not become leader')
  return t
}

function benchTick (log: (line: string) => void): number {
  const core = newCore(0)
  let t = electLeader(core, 0)
  let seq = 1_000_000
  const samples: number[] = []
  for (let i = 0; i < 60; i++) {
    // Load moves every round, so each tick rescales and re-places: the expensive path.
    const load = 5 + (i % 10) * 3
    const following = { term: core.currentTerm, leaderId: 'host-self' }
    for (let p = 1; p < HOSTS; p++) core.handle({ type: 'message', message: heartbeatFrom(p, ++seq, t, load, following) }, t)
    core.drainOutputs()
    t += DEFAULT_TIMINGS.planIntervalMs
    const start = performance.now()
    core.handle({ type: 'tick' }, t)
    samples.push(performance.now() - start)
    core.drainOutputs()
  }
  if (core.currentRole !== 'leader') throw new Error('benchmark: the core stopped leading, so no tick planned')
  const plan = core.plan?.plan
  const replicas = plan?.decisions.reduce((n, d) => n + d.desired, 0)
  log(`core tick: ${HOSTS} hosts, ${SERVICES} services, plan v${plan?.version}: ${replicas} replicas on ${plan?.hosts.length} hosts`)
  return median(samples.slice(10))
}

function benchHeartbeats (): number {
  const core = newCore(0)
  const count = 400_000
  const messages: Message[] = []
  for (let i = 0; i < count; i++) messages.push(heartbeatFrom(1 + (i % (HOSTS - 1)), 10 + i, 0, 3))
  // Warm up, then measure; time advances 1 ms per 1,000 heartbeats (a busy 1,000-host site).
  for (let i = 0; i < 50_000; i++) core.handle({ type: 'message', message: messages[i] }, 0)
  core.drainOutputs()
  const start = performance.now()
  for (let i = 50_000; i < count; i++) {
    core.handle({ type: 'message', message: messages[i] }, Math.floor(i / 1000))
    if ((i & 1023) === 0) core.drainOutputs()
  }
  const seconds = (performance.now() - start) / 1000
  return (count - 50_000) / seconds
}

export const coreSuite: Suite = {
  name: 'core',
  description: 'pure core: leader tick at 1,000 hosts × 20 services, heartbeat ingestion rate',
  async run (log) {
    const tickMs = benchTick(log)
    const heartbeatsPerS = benchHeartbeats()
    const figures: Figure[] = [
      { metric: 'core.tick_ms', value: round(tickMs), unit: 'ms', target: '< 5' },
      { metric: 'core.heartbeats_per_s', value: Math.round(heartbeatsPerS), unit: 'heartbeats/s', target: '> 200000' },
    ]
    return figures
  },
}
