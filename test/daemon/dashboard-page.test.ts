/**
 * The dashboard's pure parts, in Node: the reason a scaling decision is given in words, the
 * timeline's reading of events, a follower's decisions from successive plans, the bounded
 * history, and the page itself (one inline script that imports nothing, allowed by its hash).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import type { PlanResponse, StatusResponse } from '../../node/daemon/api-schema.js'
import { DASHBOARD_CSP, DASHBOARD_HTML, DASHBOARD_LIMITS } from '../../node/daemon/dashboard.js'
import { backlogOf, describeEvent, explainScaling, niceCeil, planChanges, recordPoint, siteRunning, type Point } from '../../node/daemon/dashboard-page.js'
import type { ScaledEventData } from '../../node/daemon/driver.js'

const UP_ONE_PER_5S = { stabilizationMs: 0, policies: [{ type: 'pods' as const, value: 1, periodMs: 5000 }], selectPolicy: 'max' as const }
const DOWN_DEFAULT = { stabilizationMs: 300_000, policies: [{ type: 'percent' as const, value: 100, periodMs: 15_000 }], selectPolicy: 'max' as const }

function scaled (fields: Partial<ScaledEventData>): ScaledEventData {
  return {
    kind: 'scaled', service: 'ingest', from: 1, to: 2, recommended: 2, failingStatic: false, upstreamCapped: false, rule: 'hpa',
    load: 20, targetPerReplica: 10, minReplicas: 1, maxReplicas: 4, tolerance: 0.1, activationThreshold: 0, rules: UP_ONE_PER_5S,
    ...fields,
  }
}

describe('a scaling decision in words', () => {
  it('names the load and the rule, and says the count was applied as recommended', () => {
    assert.equal(explainScaling(scaled({})), 'load 20 ÷ 10 per replica → 2 recommended; applied: 1 → 2')
  })

  it('says the rate limit held it when the direction has no stabilisation window', () => {
    assert.equal(explainScaling(scaled({ load: 35, recommended: 4 })),
      'load 35 ÷ 10 per replica → 4 recommended; held at 2 (4 recommended) by the scale-up rate limit (1 replica per 5 s)')
  })

  it('names both the window and the rate limit when either could have held it, and says the core does not tell', () => {
    const text = explainScaling(scaled({ from: 4, to: 3, load: 5, recommended: 1, rules: DOWN_DEFAULT }))
    assert.match(text, /held at 3 \(1 recommended\) by the scale-down stabilisation window \(5 min: the highest recommendation in it wins\) or the scale-down rate limit \(100 % per 15 s\); the core does not say which/)
  })

  it('names the window alone when the direction has no rate limit', () => {
    const text = explainScaling(scaled({ from: 4, to: 3, load: 5, recommended: 1, rules: { stabilizationMs: 60_000, policies: [], selectPolicy: 'max' } }))
    assert.match(text, /held at 3 \(1 recommended\) by the scale-down stabilisation window \(1 min/)
    assert.doesNotMatch(text, /rate limit/)
  })

  it('says when maxReplicas capped the rule', () => {
    assert.match(explainScaling(scaled({ from: 3, to: 4, load: 90, recommended: 4 })), /load 90 ÷ 10 per replica → 9, capped at maxReplicas 4 recommended/)
  })

  it('explains failing static without a reading: the count kept, pulled into the bounds', () => {
    assert.equal(explainScaling(scaled({ from: 0, to: 1, load: 0, recommended: 1, failingStatic: true })),
      'no load reading: 1 kept; fail static: no fresh signal, so the count is kept and only pulled into the bounds (min 1, max 4); applied: 0 → 1')
  })

  it('explains the rate policy by its arrivals, drain rate and backlog, and its scale-down hold', () => {
    const rate = { drainWithinMs: 30_000, utilization: 0.9, startLatencyMs: 5000, scaleDownHoldMs: 60_000, trendWindowMs: 30_000, idleHalfLifeMs: 60_000 }
    assert.equal(explainScaling(scaled({ rule: 'rate', arrivalRate: 45, drainPerReplica: 10, rate, load: 60, from: 2, to: 6, recommended: 6 })),
      'rate policy: arrivals 45/s at 90 % of 10/s per replica + backlog 60 drained within 30 s → 6 recommended; applied: 2 → 6')
    assert.equal(explainScaling(scaled({ rule: 'rate', arrivalRate: 9, drainPerReplica: 10, rate, load: 0, from: 8, to: 5, recommended: 2 })),
      'rate policy: arrivals 9/s at 90 % of 10/s per replica + backlog 0 drained within 30 s → 2 recommended; held at 5 (2 recommended) by the scale-down hold (1 min: the most needed in it wins)')
  })

  it('explains an upstream cap with the upstream and its threshold', () => {
    assert.match(explainScaling(scaled({ upstreamCapped: true, upstream: { name: 'broker', saturatedAt: 0.9 } })), /upstream broker saturated \(at or above 0.9\): scale-up stopped/)
  })

  it('falls back to the numbers when the leader view was gone', () => {
    assert.equal(explainScaling({ kind: 'scaled', service: 's', from: 1, to: 2, recommended: 3, failingStatic: false, upstreamCapped: false, rule: 'hpa' }),
      'the rule recommended 3; applied 2 instead of 3 (the scale-up rules held it)')
  })
})

describe('the timeline of faults and elections', () => {
  it('reads elections, leaders, step-downs, peers, fault injection and capped plans', () => {
    assert.deepEqual(describeEvent('election', { term: 3 }), { kind: 'election', text: 'election started for term 3' })
    assert.deepEqual(describeEvent('leader', { term: 3, leaderId: 'a', votes: 2, electorate: 3 }), { kind: 'election', text: 'a elected leader of term 3 (2 of 3 votes)' })
    assert.deepEqual(describeEvent('leader', { term: 4, leaderId: '', steppedDown: 'lost-majority' }), { kind: 'election', text: 'stepped down as leader in term 4 (lost-majority)' })
    assert.deepEqual(describeEvent('peer', { hostId: 'b', from: 'alive', to: 'suspect' }), { kind: 'fault', text: 'host b: alive → suspect' })
    assert.deepEqual(describeEvent('peer', { hostId: 'b', from: 'alive', to: 'reaped' }), { kind: 'peer', text: 'host b: alive → reaped' })
    assert.deepEqual(describeEvent('fault', { fault: 'partition', on: true }), { kind: 'fault', text: 'fault injection: partition on' })
    assert.deepEqual(describeEvent('plan', { version: 7, capped: 'slots', service: 's', wanted: 3, kept: 2 }), { kind: 'fault', text: 'plan v7 cut on this host: s 2 of 3 (slots)' })
  })

  it('leaves ordinary plans and scaling to their own lists', () => {
    assert.equal(describeEvent('plan', { term: 1, version: 2 }), undefined)
    assert.equal(describeEvent('scaled', { service: 's' }), undefined)
  })
})

type Adopted = NonNullable<PlanResponse['plan']>
const plan = (decisions: Adopted['decisions']): Adopted => ({ term: 1, version: 1, leaderId: 'a', services: decisions.map(d => d.service), hosts: [], decisions, wantedHere: {} })

describe("a follower's decisions", () => {
  it('are the services whose desired count changed between two plans', () => {
    const before = plan([{ service: 'a', desired: 1, failingStatic: false }, { service: 'b', desired: 2, failingStatic: false }])
    const after = plan([{ service: 'a', desired: 3, failingStatic: false }, { service: 'b', desired: 2, failingStatic: false }, { service: 'c', desired: 1, failingStatic: false }])
    assert.deepEqual(planChanges(before, after), [{ service: 'a', from: 1, to: 3, failingStatic: false }])
    assert.deepEqual(planChanges(null, after), [])
  })
})

describe('the history', () => {
  it('drops points older than historyMs and beyond historyPointsMax, oldest first', () => {
    const h = new Map<string, Point[]>()
    for (let t = 0; t <= 10_000; t += 1000) recordPoint(h, 'k', t, t, { historyMs: 5000, historyPointsMax: 100 })
    assert.deepEqual(h.get('k')!.map(p => p[0]), [5000, 6000, 7000, 8000, 9000, 10_000])
    for (let t = 10_001; t <= 10_010; t++) recordPoint(h, 'k', t, t, { historyMs: 5000, historyPointsMax: 4 })
    assert.deepEqual(h.get('k')!.map(p => p[0]), [10_007, 10_008, 10_009, 10_010])
  })
})

describe('what the charts read', () => {
  const status = {
    runtime: { running: { s: 1 } },
    peers: [{ state: 'alive', running: { s: 2 } }, { state: 'dead', running: { s: 5 } }],
    signals: { signals: [{ service: 's', upstream: false, value: 7 }, { service: 's', upstream: true, value: 0.5 }] },
  } as unknown as StatusResponse

  it('counts replicas running over the site, leaving out dead hosts', () => {
    assert.equal(siteRunning(status).get('s'), 3)
  })

  it("takes the backlog from the leader's round, else its summary, else this host's signals", () => {
    const leader = { leader: { services: [{ service: 's', desired: 1, load: 30, unplaced: 0 }] } } as unknown as PlanResponse
    const follower = { leader: null } as unknown as PlanResponse
    const summary = { sites: [{ local: true, services: [{ service: 's', desired: 1, running: 1, load: 25, unplaced: 0 }] }] } as unknown as Parameters<typeof backlogOf>[3]
    assert.deepEqual(backlogOf('s', status, leader, summary), { value: 30, source: 'leader' })
    assert.deepEqual(backlogOf('s', status, follower, summary), { value: 25, source: 'summary' })
    assert.deepEqual(backlogOf('s', status, follower, undefined), { value: 7, source: 'here' })
    assert.equal(backlogOf('other', status, follower, undefined), undefined)
  })

  it('rounds axes up to 1, 2, 2.5 or 5 × a power of ten', () => {
    assert.deepEqual([0, 0.3, 1, 3, 4.2, 36.75, 120].map(niceCeil), [1, 0.5, 1, 5, 5, 50, 200])
  })
})

describe('the page', () => {
  it('has one inline script that imports nothing, allowed by its hash, and one style, allowed by its hash', () => {
    const scripts = [...DASHBOARD_HTML.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map(m => m[1])
    assert.equal(scripts.length, 1)
    assert.equal((DASHBOARD_HTML.match(/<script/g) ?? []).length, 1)
    assert.doesNotMatch(scripts[0], /^\s*import\s/m, 'a value import in dashboard-page.ts cannot load in the page')
    assert.match(scripts[0], /dashboardMain\(\{"pollIntervalMs":1000/)
    const hash = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`
    assert.ok(DASHBOARD_CSP.includes(`script-src ${hash(scripts[0])}`), DASHBOARD_CSP)
    const style = /<style>([\s\S]*?)<\/style>/.exec(DASHBOARD_HTML)![1]
    assert.ok(DASHBOARD_CSP.includes(`style-src ${hash(style)}`), DASHBOARD_CSP)
    assert.match(DASHBOARD_CSP, /default-src 'none'/)
    assert.match(DASHBOARD_CSP, /connect-src 'self'/)
  })

  it('keeps its history for every view it offers', () => {
    assert.ok(DASHBOARD_LIMITS.viewsMs.every(v => v <= DASHBOARD_LIMITS.historyMs))
    assert.ok(DASHBOARD_LIMITS.historyPointsMax * DASHBOARD_LIMITS.pollIntervalMs >= DASHBOARD_LIMITS.historyMs)
  })
})
