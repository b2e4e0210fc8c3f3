/**
 * RateScaler: the rate policy. Expected counts are worked out by hand from the rule written at
 * the top of node/core/rate-scaler.ts, replicas = ceil((λ / utilization + backlog / drainWithin) / μ),
 * and written next to each case.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { LoadReading } from '../../node/core/load-reading.js'
import { RateScaler } from '../../node/core/rate-scaler.js'
import { scalerFor } from '../../node/core/scaling-policy.js'
import { ServiceScaler } from '../../node/core/service-scaler.js'
import { DEFAULT_RATE_RULES, serviceSpec, type RateRules, type ServiceSpec } from '../../node/core/service-spec.js'

const ROUND_MS = 1000

function fresh (total: number): LoadReading {
  return { status: 'fresh', total, reporters: 1, staleReporters: 0 }
}

function partial (total: number): LoadReading {
  return { status: 'partial', total, reporters: 2, staleReporters: 1 }
}

const MISSING: LoadReading = { status: 'missing', total: 0, reporters: 1, staleReporters: 1 }

/** μ 10/s, utilization 0.5, drain within 10 s, no lookahead, a 30 s hold: round numbers by hand. */
function spec (rate: Partial<RateRules> = {}, fields: Partial<ServiceSpec> = {}): ServiceSpec {
  return serviceSpec('s', {
    maxReplicas: 100,
    rate: { ...DEFAULT_RATE_RULES, drainPerReplica: 10, utilization: 0.5, drainWithinMs: 10_000, startLatencyMs: 0, scaleDownHoldMs: 30_000, ...rate },
    ...fields,
  })
}

describe('RateScaler: the replicas the rate and the backlog need', () => {
  it('asks for ceil((λ / utilization + backlog / drainWithin) / μ)', () => {
    // (λ / 0.5 + B / 10) / 10
    for (const [rate, backlog, want] of [[50, 0, 10], [50, 100, 11], [51, 0, 11], [0, 300, 3], [5, 0, 1], [100, 1000, 30]] as const) {
      const s = new RateScaler(spec(), 1, 0)
      const d = s.decide(fresh(backlog), undefined, ROUND_MS, { rate: fresh(rate), ready: 1 })
      assert.equal(d.recommended, want, `rate ${rate}, backlog ${backlog}`)
      assert.equal(d.desired, want, `rate ${rate}, backlog ${backlog}`)
      assert.equal(d.rule, 'rate')
      assert.equal(d.arrivalRate, rate)
    }
  })

  it('scales up at once, without the HPA rule\'s rate limit, bounded by maxReplicas', () => {
    const s = new RateScaler(spec({}, { maxReplicas: 40 }), 2, 0)
    assert.equal(s.decide(fresh(0), undefined, ROUND_MS, { rate: fresh(150), ready: 2 }).desired, 30)
    assert.equal(s.decide(fresh(0), undefined, 2 * ROUND_MS, { rate: fresh(1000), ready: 2 }).desired, 40)
  })

  it('projects a rising rate startLatencyMs ahead along its fitted trend', () => {
    // λ rises 1/s per second: at t = 20 s it is 20; 10 s ahead it will be 30: 30 / 0.5 / 10 = 6.
    const ahead = new RateScaler(spec({ startLatencyMs: 10_000, trendWindowMs: 20_000 }), 1, 0)
    const flat = new RateScaler(spec({ startLatencyMs: 0, trendWindowMs: 20_000 }), 1, 0)
    let a = 0
    let f = 0
    for (let t = 1; t <= 20; t++) {
      a = ahead.decide(fresh(0), undefined, t * ROUND_MS, { rate: fresh(t), ready: 1 }).desired
      f = flat.decide(fresh(0), undefined, t * ROUND_MS, { rate: fresh(t), ready: 1 }).desired
    }
    assert.equal(f, 4)
    assert.equal(a, 6)
  })

  it('never projects a falling rate: it plans for the rate now', () => {
    const s = new RateScaler(spec({ startLatencyMs: 10_000, trendWindowMs: 20_000 }), 1, 0)
    let d = 0
    for (let t = 1; t <= 20; t++) d = s.decide(fresh(0), undefined, t * ROUND_MS, { rate: fresh(100 - 2 * t), ready: 1 }).desired
    // λ = 60 at t = 20: 12; the hold keeps the most needed over the last 30 s (λ 98 at t = 1: 20).
    assert.equal(d, 20)
  })
})

describe('RateScaler: scale-down with hysteresis', () => {
  it('comes down to the most needed over the hold, once the need has fallen', () => {
    const s = new RateScaler(spec(), 1, 0)
    assert.equal(s.decide(fresh(0), undefined, 1000, { rate: fresh(100), ready: 1 }).desired, 20)
    // The rate falls to 20 (need 4) at 2 s: held at 20 while the need of 20 at 1 s is in the 30 s
    // hold; a need exactly a hold old has left it (as the HPA's windows: horizontal.go, After(cutoff)).
    let t = 2000
    for (; t < 31_000; t += ROUND_MS) assert.equal(s.decide(fresh(0), undefined, t, { rate: fresh(20), ready: 20 }).desired, 20, `t ${t}`)
    assert.equal(s.decide(fresh(0), undefined, t, { rate: fresh(20), ready: 20 }).desired, 4)
  })

  it('never goes below what the current rate and backlog need', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ rate: fc.integer({ min: 0, max: 500 }), backlog: fc.integer({ min: 0, max: 2000 }) }), { minLength: 1, maxLength: 80 }),
      (steps) => {
        const s = new RateScaler(spec({ scaleDownHoldMs: 5_000 }), 0, 0)
        steps.forEach((x, i) => {
          const d = s.decide(fresh(x.backlog), undefined, (i + 1) * ROUND_MS, { rate: fresh(x.rate), ready: s.replicas })
          const need = Math.min(100, Math.ceil((x.rate / 0.5 + x.backlog / 10) / 10 - 1e-9))
          if (!(s.replicas === 0 && x.backlog === 0)) assert.ok(d.desired >= need, `step ${i}: ${d.desired} < ${need}`)
        })
      }), { numRuns: 200 })
  })

  it('does not scale down on a partial reading of the backlog or of the rate', () => {
    const s = new RateScaler(spec({ scaleDownHoldMs: 0 }), 20, 0)
    const d1 = s.decide(partial(0), undefined, 1000, { rate: fresh(10), ready: 20 })
    assert.deepEqual([d1.desired, d1.failingStatic], [20, true])
    const d2 = s.decide(fresh(0), undefined, 2000, { rate: partial(10), ready: 20 })
    assert.deepEqual([d2.desired, d2.failingStatic], [20, true])
    // A partial reading is a lower bound: good enough to scale up on.
    assert.equal(s.decide(partial(0), undefined, 3000, { rate: fresh(200), ready: 20 }).desired, 40)
  })

  it('holds what runs while the backlog reading is missing (fail static)', () => {
    const s = new RateScaler(spec({ scaleDownHoldMs: 0 }), 7, 0)
    const d = s.decide(MISSING, undefined, 1000, { rate: fresh(0), ready: 7 })
    assert.deepEqual([d.desired, d.failingStatic], [7, true])
  })

  it('waits a full hold after taking over before scaling down (failover never shortens it)', () => {
    const s = new RateScaler(spec(), 12, 0)
    for (let t = 1000; t < 30_000; t += ROUND_MS) assert.equal(s.decide(fresh(0), undefined, t, { rate: fresh(10), ready: 12 }).desired, 12)
    assert.equal(s.decide(fresh(0), undefined, 30_000, { rate: fresh(10), ready: 12 }).desired, 2)
  })
})

describe('RateScaler: zero, activation, upstream', () => {
  it('starts from zero only above the activation threshold and goes to zero only when nothing arrives', () => {
    const s = new RateScaler(spec({ scaleDownHoldMs: 0 }, { activationThreshold: 5 }), 0, 0)
    assert.equal(s.decide(fresh(5), undefined, 1000, { rate: fresh(1), ready: 0 }).desired, 0)
    assert.equal(s.decide(fresh(6), undefined, 2000, { rate: fresh(1), ready: 0 }).desired, 1)
    assert.equal(s.decide(fresh(0), undefined, 3000, { rate: fresh(1), ready: 1 }).desired, 1)
    assert.equal(s.decide(fresh(3), undefined, 4000, { rate: fresh(0), ready: 1 }).desired, 0)
  })

  it('adds no replica at a saturated upstream and at most its headroom below saturation', () => {
    const up = { name: 'broker', saturatedAt: 0.9 }
    const s = new RateScaler(spec({}, { upstream: up }), 4, 0)
    const full = s.decide(fresh(0), { saturation: 0.95 }, 1000, { rate: fresh(200), ready: 4 })
    assert.deepEqual([full.desired, full.upstreamCapped], [4, true])
    // At 0.3 the broker has room for 3× the traffic: 4 ready × 0.9 / 0.3 = 12 replicas, not 40.
    const room = s.decide(fresh(0), { saturation: 0.3 }, 2000, { rate: fresh(200), ready: 4 })
    assert.deepEqual([room.desired, room.upstreamCapped], [12, true])
  })
})

describe('RateScaler: the drain rate', () => {
  it('decides by the HPA rule until it knows μ, then learns μ from a busy window', () => {
    // True μ 10/s, not configured. 4 ready replicas, 60/s arriving: the backlog grows 20/s.
    const s = new RateScaler(spec({ drainPerReplica: undefined }, { targetPerReplica: 100, scaleUp: { stabilizationMs: 0, policies: [], selectPolicy: 'disabled' } }), 4, 0)
    const hpa = new ServiceScaler(s.spec, 4, 0)
    let backlog = 500
    for (let t = 1000; t <= 11_000; t += ROUND_MS) {
      const d = s.decide(fresh(backlog), undefined, t, { rate: fresh(60), ready: 4 })
      if (t < 11_000) {
        assert.equal(d.rule, 'hpa', `t ${t}`)
        assert.equal(d.desired, hpa.decide(fresh(backlog), undefined, t).desired)
      } else {
        assert.equal(d.rule, 'rate')
        assert.ok(Math.abs(d.drainPerReplica! - 10) < 1e-9, `μ ${d.drainPerReplica}`)
      }
      backlog += 20
    }
  })

  it('learns nothing from a window in which the ready count changed or the backlog emptied', () => {
    const s = new RateScaler(spec({ drainPerReplica: undefined }), 4, 0)
    let backlog = 100
    for (let t = 1000; t <= 30_000; t += ROUND_MS) {
      // The ready count changes every 5 s: no window of 10 s with the same count.
      s.decide(fresh(backlog), undefined, t, { rate: fresh(60), ready: 4 + Math.floor(t / 5000) })
      backlog += 5
    }
    assert.equal(s.drainPerReplica, undefined)
    const t2 = new RateScaler(spec({ drainPerReplica: undefined }), 4, 0)
    for (let t = 1000; t <= 30_000; t += ROUND_MS) t2.decide(fresh(t % 4000 === 0 ? 0 : 50), undefined, t, { rate: fresh(60), ready: 4 })
    assert.equal(t2.drainPerReplica, undefined)
  })

  it('infers λ from the backlog\'s slope without a rate signal, and probes down once it is empty', () => {
    const s = new RateScaler(spec({ idleHalfLifeMs: 10_000, scaleDownHoldMs: 0 }), 5, 0)
    // 5 ready × 10/s drain, the backlog grows 50/s: λ = 100/s, need (200 + B / 10) / 10.
    s.decide(fresh(1000), undefined, 1000, {})
    const d = s.decide(fresh(1050), undefined, 2000, { ready: 5 })
    assert.equal(d.arrivalRate, 100)
    assert.equal(d.desired, Math.ceil((200 + 105) / 10))
    // Empty from now: λ is at most what runs (31 × 10), halving every 10 s.
    let last = d.desired
    for (let t = 3000; t <= 60_000; t += ROUND_MS) last = s.decide(fresh(0), undefined, t, { ready: last }).desired
    assert.ok(last < 5, `probed down to ${last}`)
  })
})

describe('scalerFor', () => {
  it('builds the rule the service names; the rate policy is the default', () => {
    assert.equal(serviceSpec('s').policy, 'rate')
    assert.ok(scalerFor(serviceSpec('s'), 1, 0) instanceof RateScaler)
    assert.ok(scalerFor(serviceSpec('s', { policy: 'hpa' }), 1, 0) instanceof ServiceScaler)
  })
})
