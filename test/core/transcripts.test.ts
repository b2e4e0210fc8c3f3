import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_TIMINGS } from '../../node/core/config.js'
import { OWNER_LABELS } from '../../node/core/reconcile.js'
import { serviceSpec } from '../../node/core/service-spec.js'
import type { CoreInit } from '../../node/core/supervisor-core.js'
import { Transcript } from './transcript.js'

const CAPACITY = { slots: 4, cpuMillis: 4000, memoryMib: 4096 }

function init (fields: Partial<CoreInit> = {}): CoreInit {
  return {
    hostId: 'h1', site: 'a', incarnation: 1, labels: new Map(), priority: 0, capacity: CAPACITY,
    services: [], timings: DEFAULT_TIMINGS, seed: 42, startMs: 0, ...fields,
  }
}

describe('golden transcripts of one core', () => {
  it('stands after the leader timeout, wins the pre-vote and the vote, and leads', () => {
    const t = new Transcript(init())
    t.note('two peers heartbeat; no leader speaks')
    t.heartbeat('h0', 100)
    t.heartbeat('h2', 120)
    t.tickUntil(1000)
    t.heartbeat('h0', 1100)
    t.heartbeat('h2', 1120)
    t.tickUntil(1400)
    t.note('h0 grants the pre-vote: two of three is a majority')
    t.from('h0', 1410, { kind: 'vote', vote: { term: 1, candidateId: 'h1', granted: true, preVote: true } })
    t.note('h2 grants the vote at term 1')
    t.from('h2', 1420, { kind: 'vote', vote: { term: 1, candidateId: 'h1', granted: true, preVote: false } })
    t.note('the leader publishes its digest, not a heartbeat; its first plan waits for both members\' heartbeats (sent to it alone)')
    t.heartbeat('h0', 1430, { term: 1, leaderId: 'h1' })
    t.heartbeat('h2', 1440, { term: 1, leaderId: 'h1' })
    t.tickUntil(2100)
    t.check('election-win')
    assert.equal(t.core.currentRole, 'leader')
  })

  it('refuses votes while its leader is live, grants once it is silent, and only once per term', () => {
    const t = new Transcript(init())
    t.note('h0 says it leads term 3: h1 takes the term but does not follow on one member\'s word')
    t.heartbeat('h0', 100, { term: 3, leaderId: 'h0' })
    t.note('h2 follows h0 too: 2 of 3 back it, a majority, so h1 follows')
    t.heartbeat('h2', 120, { term: 3, leaderId: 'h0' })
    t.note('h2 asks while h0 leads: refused, silently (a refusal is published only to a candidate behind our term)')
    t.from('h2', 200, { kind: 'voteRequest', voteRequest: { term: 4, priority: 0, electorate: 3, preVote: true } })
    t.note('the transport reports h0 gone: h2 asks again and gets the pre-vote and the vote')
    t.input(300, { type: 'disconnected', hostId: 'h0' })
    t.from('h2', 310, { kind: 'voteRequest', voteRequest: { term: 4, priority: 0, electorate: 3, preVote: true } })
    t.from('h2', 320, { kind: 'voteRequest', voteRequest: { term: 4, priority: 0, electorate: 3, preVote: false } })
    t.note('a second candidate in the same term is refused, silently')
    t.heartbeat('h3', 330, { term: 3 })
    t.from('h3', 340, { kind: 'voteRequest', voteRequest: { term: 4, priority: 0, electorate: 4, preVote: false } })
    t.note('a candidate behind our term is refused out loud, with our term, so it catches up')
    t.heartbeat('h4', 350, { term: 2 })
    t.from('h4', 360, { kind: 'voteRequest', voteRequest: { term: 3, priority: 0, electorate: 5, preVote: true } })
    t.check('vote-once-per-term')
  })

  it('backs one pre-vote candidate per election round', () => {
    const t = new Transcript(init())
    t.heartbeat('h0', 100)
    t.heartbeat('h2', 110)
    t.heartbeat('h3', 120)
    t.note('no leader: h2 asks for a pre-vote and gets it')
    t.from('h2', 200, { kind: 'voteRequest', voteRequest: { term: 1, priority: 0, electorate: 4, preVote: true } })
    t.note('h3 asks in the same round: refused, silently (one pre-vote per round, like a vote)')
    t.from('h3', 300, { kind: 'voteRequest', voteRequest: { term: 1, priority: 0, electorate: 4, preVote: true } })
    t.note('h2 asks again, as after a lost message: granted again')
    t.from('h2', 400, { kind: 'voteRequest', voteRequest: { term: 1, priority: 0, electorate: 4, preVote: true } })
    t.note('a round (electionRoundMs, 500) after the last grant, h3 may have it')
    t.from('h3', 950, { kind: 'voteRequest', voteRequest: { term: 1, priority: 0, electorate: 4, preVote: true } })
    t.check('one-pre-vote-per-round')
  })

  it('ignores a plan from an older term and keeps its containers', () => {
    const t = new Transcript(init({ services: [serviceSpec('ingest')], persisted: { term: 7, votedFor: '', members: ['h0', 'h2'] } }))
    const own = { id: 'c1', state: 'running' as const, createdAt: 1, labels: { [OWNER_LABELS.service]: 'ingest', [OWNER_LABELS.site]: 'a', [OWNER_LABELS.host]: 'h1', [OWNER_LABELS.term]: '6' } }
    t.input(10, { type: 'observed', containers: [own], runtimeOk: true })
    t.heartbeat('h0', 100, { term: 6, leaderId: 'h0' })
    t.from('h0', 110, { kind: 'plan', plan: { term: 6, version: 3, services: ['ingest'], hosts: [], decisions: [{ service: 'ingest', desired: 0, failingStatic: false }] } })
    t.input(120, { type: 'observed', containers: [own], runtimeOk: true })
    t.check('stale-plan')
  })

  it('as a single-host site, elects itself and scales a service on its own samples', () => {
    const spec = serviceSpec('ingest', {
      targetPerReplica: 10, maxReplicas: 4,
      scaleDown: { stabilizationMs: 3000, policies: [{ type: 'percent', value: 100, periodMs: 1000 }], selectPolicy: 'max' },
    })
    const t = new Transcript(init({ services: [spec] }))
    t.input(0, { type: 'observed', containers: [], runtimeOk: true })
    t.input(0, { type: 'samples', signals: [{ service: 'ingest', value: 25, ageMs: 0, upstream: false }], capacity: CAPACITY })
    t.tickUntil(1500)
    t.note('the runtime started what the plan asked for')
    const running = [1, 2, 3].map(i => ({ id: `c${i}`, state: 'running' as const, createdAt: i, labels: { [OWNER_LABELS.service]: 'ingest', [OWNER_LABELS.site]: 'a', [OWNER_LABELS.host]: 'h1', [OWNER_LABELS.term]: '1' } }))
    t.input(1500, { type: 'observed', containers: running, runtimeOk: true })
    t.input(2000, { type: 'samples', signals: [{ service: 'ingest', value: 8, ageMs: 0, upstream: false }], capacity: CAPACITY })
    t.tickUntil(6000)
    t.check('single-host-scaling')
  })

  it('as a new leader, takes over the plan in force: same desired counts, same hosts, then a summary', () => {
    const spec = serviceSpec('ingest', { targetPerReplica: 10, maxReplicas: 6 })
    const t = new Transcript(init({ services: [spec] }))
    t.note('h0 leads term 1 (h2 backs it); its plan wants 3 ingest: 2 on h0, 1 on h1')
    t.heartbeat('h0', 100, { term: 1, leaderId: 'h0' })
    t.heartbeat('h2', 110, { term: 1, leaderId: 'h0' })
    t.from('h0', 120, { kind: 'plan', plan: { term: 1, version: 4, services: ['ingest'], hosts: [{ hostId: 'h0', replicas: [2] }, { hostId: 'h1', replicas: [1] }], decisions: [{ service: 'ingest', desired: 3, failingStatic: false }] } })
    t.input(130, { type: 'observed', containers: [{ id: 'c1', state: 'running', createdAt: 1, labels: { [OWNER_LABELS.service]: 'ingest', [OWNER_LABELS.site]: 'a', [OWNER_LABELS.host]: 'h1', [OWNER_LABELS.term]: '1' } }], runtimeOk: true })
    t.input(140, { type: 'samples', signals: [{ service: 'ingest', value: 30, ageMs: 0, upstream: false }], capacity: CAPACITY })
    t.note('h0 goes silent; h2 grants h1 the pre-vote and the vote: h1 leads term 2')
    t.heartbeat('h2', 600, { term: 1, leaderId: 'h0' })
    t.input(700, { type: 'disconnected', hostId: 'h0' })
    t.tickUntil(1000)
    t.from('h2', 1010, { kind: 'vote', vote: { term: 2, candidateId: 'h1', granted: true, preVote: true } })
    t.from('h2', 1020, { kind: 'vote', vote: { term: 2, candidateId: 'h1', granted: true, preVote: false } })
    t.note('h2 reports to its new leader: the first round keeps 3 desired and h0\'s assignment while h0 is only suspect, publishes v5 and the summary')
    t.heartbeat('h2', 1030, { term: 2, leaderId: 'h1' })
    t.tickUntil(1100)
    t.check('leader-take-over')
    assert.equal(t.core.currentRole, 'leader')
  })

  it('keeps the replicas of a host that said goodbye where they run for deadAfterMs, then moves them', () => {
    const spec = serviceSpec('ingest', { targetPerReplica: 10, maxReplicas: 6 })
    const t = new Transcript(init({ services: [spec] }))
    t.note('h0 leads term 1 (h2 backs it); its plan wants 3 ingest: 2 on h0, 1 on h1')
    t.heartbeat('h0', 100, { term: 1, leaderId: 'h0', running: [{ service: 'ingest', replicas: 2 }] })
    t.heartbeat('h2', 110, { term: 1, leaderId: 'h0' })
    t.from('h0', 120, { kind: 'plan', plan: { term: 1, version: 4, services: ['ingest'], hosts: [{ hostId: 'h0', replicas: [2] }, { hostId: 'h1', replicas: [1] }], decisions: [{ service: 'ingest', desired: 3, failingStatic: false }] } })
    t.input(130, { type: 'samples', signals: [{ service: 'ingest', value: 30, ageMs: 0, upstream: false }], capacity: CAPACITY })
    t.note('h0 stops gracefully (its two containers keep running, for its restart) and says goodbye')
    t.from('h0', 600, { kind: 'leave' })
    t.tickUntil(1000)
    t.from('h2', 1010, { kind: 'vote', vote: { term: 2, candidateId: 'h1', granted: true, preVote: true } })
    t.note('h1 leads term 2: its first plan keeps h0\'s two replicas on h0, counted as held')
    t.from('h2', 1020, { kind: 'vote', vote: { term: 2, candidateId: 'h1', granted: true, preVote: false } })
    for (let at = 1100; at < 6600; at += 500) {
      if (at === 5100) t.note('deadAfterMs after the goodbye, h0 has not come back: its replicas go to h1 and h2')
      t.heartbeat('h2', at, { term: 2, leaderId: 'h1' })
      t.tickUntil(at + 490)
    }
    t.check('leave-keeps-replicas')
  })

  it('follows only a leader a majority backs, caps its part of a plan, and refuses term and incarnation jumps', () => {
    const t = new Transcript(init({ services: [serviceSpec('ingest', { maxReplicas: 6 })] }))
    t.heartbeat('h0', 100)
    t.heartbeat('h2', 110)
    t.note('h2 sends a plan of term 5 for itself, without an election: ignored; h1 follows nobody')
    t.from('h2', 200, { kind: 'plan', plan: { term: 5, version: 1, services: ['ingest'], hosts: [{ hostId: 'h1', replicas: [2] }], decisions: [{ service: 'ingest', desired: 2, failingStatic: false }] } })
    t.note('a vote request at term 2^53 - 1: dropped, nothing persisted, no vote')
    t.from('h2', 300, { kind: 'voteRequest', voteRequest: { term: Number.MAX_SAFE_INTEGER, priority: 0, electorate: 3, preVote: false } })
    t.note('a heartbeat claiming h0 restarted 5000 times at once: dropped')
    t.from('h0', 350, { kind: 'heartbeat', heartbeat: { labels: new Map(), capacity: CAPACITY, priority: 0, running: [], signals: [], addrs: [], term: 0, leaderId: '', planVersion: 0, runtimeOk: true } }, 5001)
    t.note('h0 stands at term 6 (pre-vote, then vote) and h1 grants: h0 asked and h1 voted, 2 of 3, so h1 follows')
    t.from('h0', 400, { kind: 'voteRequest', voteRequest: { term: 6, priority: 0, electorate: 3, preVote: true } })
    t.from('h0', 410, { kind: 'voteRequest', voteRequest: { term: 6, priority: 0, electorate: 3, preVote: false } })
    t.note('h0\'s plan asks h1 for 100000 ingest and 3 of a service h1 does not run, on 4 slots: cut to 4 ingest')
    t.from('h0', 420, { kind: 'plan', plan: { term: 6, version: 1, services: ['ingest', 'miner'], hosts: [{ hostId: 'h1', replicas: [100_000, 3] }], decisions: [{ service: 'ingest', desired: 100_000, failingStatic: false }, { service: 'miner', desired: 3, failingStatic: false }] } })
    t.input(430, { type: 'observed', containers: [], runtimeOk: true })
    t.check('bounded-trust')
    assert.equal(t.core.currentLeaderId, 'h0')
    assert.deepEqual([...t.core.plan!.wanted], [['ingest', 4]])
  })

  it('as a leader that a majority does not follow, steps down after the lease', () => {
    const t = new Transcript(init())
    t.heartbeat('h0', 100)
    t.heartbeat('h2', 120)
    t.tickUntil(1000)
    t.heartbeat('h0', 1100)
    t.heartbeat('h2', 1120)
    t.tickUntil(1400)
    t.from('h0', 1410, { kind: 'vote', vote: { term: 1, candidateId: 'h1', granted: true, preVote: true } })
    t.from('h2', 1420, { kind: 'vote', vote: { term: 1, candidateId: 'h1', granted: true, preVote: false } })
    t.note('h1 leads term 1; h0 and h2 are heard but their heartbeats name no leader (they never saw h1 win)')
    for (let at = 1500; at <= 4000; at += 500) {
      t.heartbeat('h0', at, { term: 1 })
      t.heartbeat('h2', at + 10, { term: 1 })
      t.tickUntil(at + 400)
    }
    t.check('leader-not-followed')
    assert.equal(t.core.currentRole, 'follower')
  })

  it('as a follower, sends its heartbeat to the leader alone, takes the digest for membership, and elects from the last digest when it goes silent', () => {
    const t = new Transcript(init())
    t.note('h0 stands at term 1 and h1 grants; h2 grants too (seen): a majority of 3 backs h0, so h1 follows')
    t.heartbeat('h0', 100)
    t.heartbeat('h2', 110)
    t.from('h0', 200, { kind: 'voteRequest', voteRequest: { term: 1, priority: 0, electorate: 3, preVote: false } })
    t.from('h2', 210, { kind: 'vote', vote: { term: 1, candidateId: 'h0', granted: true, preVote: false } })
    t.note('h0\'s digest lists h3 and h4, whom h1 never heard: they join its electorate, h4 as suspect (heard 2 s ago)')
    t.digest('h0', 300, 1, [['h0', 0], ['h1', 90], ['h2', 100], ['h3', 50], ['h4', 2000]])
    t.tickUntil(790)
    t.note('digests keep the members alive here; no heartbeat of theirs reaches h1')
    t.digest('h0', 800, 1, [['h0', 0], ['h1', 100], ['h2', 90], ['h3', 40], ['h4', 2500]])
    t.tickUntil(1290)
    t.digest('h0', 1300, 1, [['h0', 0], ['h1', 100], ['h2', 90], ['h3', 40], ['h4', 3000]])
    t.tickUntil(2300)
    t.note('h0 went silent after 1300: at leaderTimeoutMs h1 gives up on it, broadcasts its heartbeat and stands, counting the digest\'s 5 members')
    t.tickUntil(3000)
    t.check('follower-takes-digest')
    assert.equal(t.core.members.size, 4)
  })

  it('as a new host, follows a leader only once members that follow it answer its broadcast heartbeat', () => {
    const t = new Transcript(init())
    t.note('h0\'s digest says it leads term 4 with h2 and h3: h1 takes the term, but not the leader nor the member list, on h0\'s word')
    t.digest('h0', 100, 4, [['h0', 0], ['h2', 100], ['h3', 200]])
    t.tickUntil(500)
    t.note('h1 broadcasts its heartbeat (it follows no leader); h2 answers with its own: 2 of the 3 h1 knows back h0, so h1 follows')
    t.heartbeat('h2', 520, { term: 4, leaderId: 'h0' })
    t.note('the next digest is taken: h3 joins; heartbeats now go to the leader alone')
    t.digest('h0', 600, 4, [['h0', 0], ['h1', 80], ['h2', 100], ['h3', 200]])
    t.tickUntil(1100)
    t.note('a digest from h2 claiming term 5 for itself: h1 takes the term, follows nobody, ignores the list')
    t.digest('h2', 1200, 5, [['h1', 0], ['h2', 0], ['h9', 0]])
    t.check('joiner-proves-leader')
    assert.equal(t.core.members.get('h9'), undefined)
    assert.equal(t.core.currentLeaderId, '')
  })

  it('as a follower, answers members that follow no leader with one broadcast heartbeat per gap, and refuses an older protocol minor', () => {
    const t = new Transcript(init())
    t.heartbeat('h0', 100, { term: 2, leaderId: 'h0' })
    t.heartbeat('h2', 110, { term: 2, leaderId: 'h0' })
    t.note('h3 and h4 join and broadcast heartbeats that name no leader: h1 answers the first only (one answer per 4 heartbeat intervals)')
    t.heartbeat('h3', 200, { term: 2 })
    t.heartbeat('h4', 300, { term: 2 })
    t.digest('h0', 600, 2, [['h0', 0], ['h1', 100], ['h2', 90], ['h3', 400], ['h4', 300]])
    t.note('a heartbeat naming h1\'s leader asks for nothing')
    t.heartbeat('h2', 1050, { term: 2, leaderId: 'h0' })
    t.digest('h0', 1100, 2, [['h0', 0], ['h1', 100], ['h2', 50], ['h3', 900], ['h4', 800]])
    t.note('within the gap, a member still without a leader is not answered')
    t.heartbeat('h3', 1250, { term: 2 })
    t.digest('h0', 1600, 2, [['h0', 0], ['h1', 100], ['h2', 50], ['h3', 350], ['h4', 1300]])
    t.digest('h0', 2100, 2, [['h0', 0], ['h1', 100], ['h2', 50], ['h3', 850], ['h4', 1800]])
    t.note('after the gap it is answered again')
    t.heartbeat('h3', 2250, { term: 2 })
    t.note('a supervisor of minor 0 (heartbeats to everyone, no digest) is refused')
    t.input(2300, { type: 'message', message: { minor: 0, sender: 'h5', site: 'a', incarnation: 1, seq: 1, sentAtMs: 2300, body: { kind: 'heartbeat', heartbeat: { labels: new Map(), capacity: CAPACITY, priority: 0, running: [], signals: [], addrs: [], term: 2, leaderId: '', planVersion: 0, runtimeOk: true } } } })
    t.check('attest-once-per-gap')
    assert.equal(t.core.members.get('h5'), undefined)
  })
})
