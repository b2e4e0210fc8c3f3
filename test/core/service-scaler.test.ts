/**
 * ServiceScaler: the HPA rule, its stabilisation windows and rate limits, KEDA's activation
 * threshold, the upstream cap and failing static. Expected counts are worked out by hand from
 * the HPA algorithm (pkg/controller/podautoscaler/horizontal.go) and written next to each case.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ServiceScaler } from '../../node/core/service-scaler.js'
import {
  DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, matchesSelector, serviceSpec,
  type ScalingPolicy, type ScalingRules, type ServiceSpec,
} from '../../node/core/service-spec.js'
import type { LoadReading, LoadStatus, UpstreamReading } from '../../node/core/load-reading.js'

const PLAN_INTERVAL_MS = 1000
const NUM_RUNS = 200

function fresh (total: number): LoadReading {
  return { status: 'fresh', total, reporters: 1, staleReporters: 0 }
}

function partial (total: number): LoadReading {
  return { status: 'partial', total, reporters: 2, staleReporters: 1 }
}

function missing (): LoadReading {
  return { status: 'missing', total: 0, reporters: 1, staleReporters: 1 }
}

/** Scale-down with no stabilisation and no practical rate limit, to test the rule alone. */
const DOWN_AT_ONCE: ScalingRules = { stabilizationMs: 0, policies: [{ type: 'percent', value: 100, periodMs: 15_000 }], selectPolicy: 'max' }

/** Decides once per plan interval from `fromMs` while `untilMs` is not reached; returns the last desired. */
function hold (scaler: ServiceScaler, reading: LoadReading, fromMs: number, untilMs: number): number {
  let desired = scaler.replicas
  for (let t = fromMs; t < untilMs; t += PLAN_INTERVAL_MS) desired = scaler.decide(reading, undefined, t).desired
  return desired
}

describe('serviceSpec', () => {
  it('fills in the HPA defaults and keeps given fields', () => {
    const spec = serviceSpec('ingest', { maxReplicas: 3 })
    assert.equal(spec.name, 'ingest')
    assert.equal(spec.maxReplicas, 3)
    assert.equal(spec.minReplicas, 0)
    assert.equal(spec.tolerance, 0.1)
    assert.equal(spec.activationThreshold, 0)
    assert.equal(spec.slotsPerReplica, 1)
    assert.deepEqual(spec.selector, {})
    assert.deepEqual(spec.scaleUp, DEFAULT_SCALE_UP)
    assert.deepEqual(spec.scaleDown, DEFAULT_SCALE_DOWN)
    assert.equal(spec.upstream, undefined)
  })

  it('defaults to the HPA behaviour: up max(100 %, 4 pods) per 15 s, down after 300 s', () => {
    assert.deepEqual(DEFAULT_SCALE_UP, {
      stabilizationMs: 0,
      policies: [{ type: 'percent', value: 100, periodMs: 15_000 }, { type: 'pods', value: 4, periodMs: 15_000 }],
      selectPolicy: 'max',
    })
    assert.deepEqual(DEFAULT_SCALE_DOWN, {
      stabilizationMs: 300_000,
      policies: [{ type: 'percent', value: 100, periodMs: 15_000 }],
      selectPolicy: 'max',
    })
  })

  it('matches a host only when every selector label is equal', () => {
    const labels = new Map([['location', 'edge'], ['hardware', 'gpu']])
    assert.equal(matchesSelector({}, labels), true)
    assert.equal(matchesSelector({ location: 'edge' }, labels), true)
    assert.equal(matchesSelector({ location: 'edge', hardware: 'gpu' }, labels), true)
    assert.equal(matchesSelector({ location: 'cloud' }, labels), false)
    assert.equal(matchesSelector({ location: 'edge', datacenter: 'x' }, labels), false)
    assert.equal(matchesSelector({ location: '' }, new Map()), false)
  })
})

describe('ServiceScaler: the replica rule', () => {
  it('asks for ceil(total / target) outside the tolerance band', () => {
    const spec = serviceSpec('s', { maxReplicas: 100, scaleDown: DOWN_AT_ONCE })
    for (const [total, want] of [[111, 12], [150, 15], [89, 9], [41, 5], [1, 1]] as const) {
      const scaler = new ServiceScaler(spec, 10, 0)
      const d = scaler.decide(fresh(total), undefined, PLAN_INTERVAL_MS)
      assert.equal(d.recommended, want, `total ${total}`)
      assert.equal(d.desired, want, `total ${total}`)
    }
  })

  it('keeps the count within ±0.1 of the target, edges included', () => {
    const spec = serviceSpec('s', { maxReplicas: 100, scaleDown: DOWN_AT_ONCE })
    for (const total of [90, 95, 100, 105, 110]) {
      const scaler = new ServiceScaler(spec, 10, 0)
      const d = scaler.decide(fresh(total), undefined, PLAN_INTERVAL_MS)
      assert.equal(d.desired, 10, `total ${total}`)
      assert.equal(d.recommended, 10, `total ${total}`)
    }
  })

  it('holds the band edge for other tolerances too (no floating-point drift)', () => {
    // 1.05, 0.95, 1.3 and 0.7 are not exact in binary; the band is inclusive all the same.
    for (const [tolerance, total] of [[0.05, 105], [0.05, 95], [0.3, 130], [0.3, 70], [0.2, 6]] as const) {
      const target = total === 6 ? 1 : 10
      const current = total === 6 ? 5 : 10
      const spec = serviceSpec('s', { maxReplicas: 100, tolerance, targetPerReplica: target, scaleDown: DOWN_AT_ONCE })
      const scaler = new ServiceScaler(spec, current, 0)
      assert.equal(scaler.decide(fresh(total), undefined, PLAN_INTERVAL_MS).desired, current, `tolerance ${tolerance}, total ${total}`)
    }
  })

  it('keeps desired within minReplicas and maxReplicas', () => {
    const spec = serviceSpec('s', { minReplicas: 2, maxReplicas: 6, scaleDown: DOWN_AT_ONCE })
    const high = new ServiceScaler(spec, 4, 0)
    assert.equal(high.decide(fresh(1000), undefined, PLAN_INTERVAL_MS).desired, 6)
    const low = new ServiceScaler(spec, 4, 0)
    assert.equal(low.decide(fresh(0), undefined, PLAN_INTERVAL_MS).desired, 2)
  })

  it('goes straight into the bounds when taking over a count outside them', () => {
    const spec = serviceSpec('s', { minReplicas: 3, maxReplicas: 5 })
    assert.equal(new ServiceScaler(spec, 0, 0).decide(fresh(0), undefined, 0).desired, 3)
    assert.equal(new ServiceScaler(spec, 9, 0).decide(fresh(1000), undefined, 0).desired, 5)
    assert.equal(new ServiceScaler(spec, 9, 0).decide(missing(), undefined, 0).desired, 5)
    assert.equal(new ServiceScaler(spec, 9, 0).decide(partial(1000), undefined, 0).desired, 5)
  })

  it('reports the count it now stands at as replicas', () => {
    const scaler = new ServiceScaler(serviceSpec('s'), 2, 0)
    assert.equal(scaler.replicas, 2)
    const d = scaler.decide(fresh(40), undefined, PLAN_INTERVAL_MS)
    assert.equal(d.desired, 4)
    assert.equal(scaler.replicas, 4)
  })
})

describe('ServiceScaler: activation threshold (scale from and to zero)', () => {
  const spec = serviceSpec('s', { minReplicas: 0, activationThreshold: 5, scaleDown: { ...DEFAULT_SCALE_DOWN, stabilizationMs: 60_000 } })

  it('starts the first replica as soon as load exceeds the threshold', () => {
    const scaler = new ServiceScaler(spec, 0, 0)
    assert.equal(hold(scaler, fresh(5), 0, 10_000), 0, 'load at the threshold needs no replica')
    const d = scaler.decide(fresh(6), undefined, 10_000)
    assert.equal(d.desired, 1)
  })

  it('starts from zero even on the takeover instant of a new leader', () => {
    const scaler = new ServiceScaler(spec, 0, 5000)
    assert.equal(scaler.decide(fresh(6), undefined, 5000).desired, 1)
  })

  it('starts from zero at up to 4 replicas at once (the pods policy), not 0 % of zero', () => {
    const scaler = new ServiceScaler(spec, 0, 0)
    assert.equal(scaler.decide(fresh(95), undefined, 1000).desired, 4)
  })

  it('scales to zero at or below the threshold, only after the scale-down window', () => {
    const scaler = new ServiceScaler(spec, 0, 0)
    assert.equal(scaler.decide(fresh(30), undefined, 0).desired, 3)
    // Last recommendation of 3 at 0 ms; it stays in the 60 s window while strictly younger than
    // 60 s (Kubernetes' timestamp.After(cutoff)), so through 59 000 ms, and has left it at 60 000 ms.
    assert.equal(hold(scaler, fresh(5), 1000, 60_000), 3)
    assert.equal(scaler.decide(fresh(5), undefined, 60_000).desired, 0)
  })

  it('does not go below minReplicas when load is under the threshold', () => {
    const floor = serviceSpec('s', { minReplicas: 1, activationThreshold: 5, scaleDown: DOWN_AT_ONCE })
    const scaler = new ServiceScaler(floor, 3, 0)
    assert.equal(scaler.decide(fresh(2), undefined, 1000).desired, 1)
  })
})

describe('ServiceScaler: scale-down stabilisation', () => {
  /** Steady at 5 replicas (load 50) until 0 ms, then no load: returns when it scaled down. */
  function scaleDownAtMs (spec: ServiceSpec): number {
    const scaler = new ServiceScaler(spec, 5, -100_000)
    hold(scaler, fresh(50), -100_000, 0)
    for (let t = 0; t < 1_000_000; t += PLAN_INTERVAL_MS) {
      const d = scaler.decide(fresh(0), undefined, t)
      if (d.desired < 5) {
        assert.equal(d.desired, 0, 'then at once to 0: 100 % per 15 s allows it')
        return t
      }
    }
    assert.fail('never scaled down')
  }

  it('waits the HPA default 300 s: the most recommendation in the window wins', () => {
    // The last recommendation of 5 was made at −1000 ms; at 299 000 ms it is exactly 300 s old,
    // which Kubernetes no longer counts (timestamp.After(cutoff)).
    assert.equal(scaleDownAtMs(serviceSpec('s')), 299_000)
  })

  it('waits a shortened window just as exactly', () => {
    const spec = serviceSpec('s', { scaleDown: { ...DEFAULT_SCALE_DOWN, stabilizationMs: 30_000 } })
    assert.equal(scaleDownAtMs(spec), 29_000)
  })

  it('comes down to the highest recommendation in the window, not the latest', () => {
    const spec = serviceSpec('s', { maxReplicas: 20, scaleDown: { ...DEFAULT_SCALE_DOWN, stabilizationMs: 10_000 } })
    const scaler = new ServiceScaler(spec, 10, 0)
    scaler.decide(fresh(100), undefined, 0)
    scaler.decide(fresh(70), undefined, 5000)
    scaler.decide(fresh(40), undefined, 8000)
    // At 12 000 ms the window (2000, 12 000] holds 7, 4 and 2: the most is 7.
    assert.equal(scaler.decide(fresh(20), undefined, 12_000).desired, 7)
    // At 16 000 ms it holds 4 and 2.
    assert.equal(scaler.decide(fresh(20), undefined, 16_000).desired, 4)
  })

  it('scales up at once while a scale-down is still being held', () => {
    const scaler = new ServiceScaler(serviceSpec('s'), 5, 0)
    hold(scaler, fresh(0), 0, 10_000)
    assert.equal(scaler.replicas, 5)
    assert.equal(scaler.decide(fresh(70), undefined, 10_000).desired, 7)
  })

  it('a new scaler taking over N (failover) does not scale down before a full window', () => {
    const scaler = new ServiceScaler(serviceSpec('s'), 8, 1000)
    // The window (now − 300 000, now] excludes its start, as Kubernetes' timestamp.After(cutoff):
    // the seed at 1000 ms holds through 300 000 ms and has left the window at 301 000 ms.
    assert.equal(hold(scaler, fresh(0), 1000, 301_000), 8)
    assert.equal(scaler.decide(fresh(0), undefined, 301_000).desired, 0)
  })

  it('a count held through a silence longer than the window still waits a window once data is back', () => {
    const scaler = new ServiceScaler(serviceSpec('s', { maxReplicas: 20 }), 10, 0)
    hold(scaler, fresh(100), 0, 10_000)
    hold(scaler, missing(), 10_000, 410_000)
    assert.equal(scaler.replicas, 10)
    const backAtMs = 410_000
    assert.equal(hold(scaler, fresh(0), backAtMs, backAtMs + 299_000), 10)
    assert.equal(scaler.decide(fresh(0), undefined, backAtMs + 299_000).desired, 0)
  })
})

describe('ServiceScaler: rate limits', () => {
  it('from 1 replica with huge load: 5, then 10, 20, 40, 80 every 15 s (max of 100 % and 4 pods)', () => {
    const scaler = new ServiceScaler(serviceSpec('s', { maxReplicas: 1000 }), 1, 0)
    const huge = fresh(1_000_000)
    // max(ceil(1 × 2), 1 + 4) = 5
    assert.equal(scaler.decide(huge, undefined, 1000).desired, 5)
    // Within the 15 s period the period started at 1: still 5.
    assert.equal(hold(scaler, huge, 2000, 16_000), 5)
    // The +4 at 1000 ms leaves the period after 16 000 ms: max(ceil(5 × 2), 5 + 4) = 10.
    assert.equal(scaler.decide(huge, undefined, 16_000).desired, 10)
    assert.equal(hold(scaler, huge, 17_000, 31_000), 10)
    assert.equal(scaler.decide(huge, undefined, 31_000).desired, 20)
    assert.equal(scaler.decide(huge, undefined, 46_000).desired, 40)
    assert.equal(scaler.decide(huge, undefined, 61_000).desired, 80)
  })

  it('from 2 replicas the pods policy still wins: 6', () => {
    const scaler = new ServiceScaler(serviceSpec('s', { maxReplicas: 1000 }), 2, 0)
    assert.equal(scaler.decide(fresh(1_000_000), undefined, 1000).desired, 6)
  })

  it('stops at maxReplicas even when the policy would allow more', () => {
    const scaler = new ServiceScaler(serviceSpec('s', { maxReplicas: 12 }), 10, 0)
    assert.equal(scaler.decide(fresh(1_000_000), undefined, 1000).desired, 12)
  })

  it('selectPolicy min takes the policy allowing the smaller change', () => {
    const up: ScalingRules = { ...DEFAULT_SCALE_UP, selectPolicy: 'min' }
    const scaler = new ServiceScaler(serviceSpec('s', { maxReplicas: 1000, scaleUp: up }), 1, 0)
    // min(ceil(1 × 2), 1 + 4) = 2
    assert.equal(scaler.decide(fresh(1_000_000), undefined, 1000).desired, 2)
    const ten = new ServiceScaler(serviceSpec('s', { maxReplicas: 1000, scaleUp: up }), 10, 0)
    // min(ceil(10 × 2), 10 + 4) = 14
    assert.equal(ten.decide(fresh(1_000_000), undefined, 1000).desired, 14)
  })

  it('selectPolicy min going down keeps the most replicas', () => {
    const down: ScalingRules = {
      stabilizationMs: 0,
      policies: [{ type: 'percent', value: 50, periodMs: 60_000 }, { type: 'pods', value: 2, periodMs: 60_000 }],
      selectPolicy: 'min',
    }
    const scaler = new ServiceScaler(serviceSpec('s', { scaleDown: down }), 10, 0)
    // max(trunc(10 × 0.5), 10 − 2) = 8
    assert.equal(scaler.decide(fresh(0), undefined, 1000).desired, 8)
    // Same period: it started at 10, so both limits stand where they were.
    assert.equal(scaler.decide(fresh(0), undefined, 2000).desired, 8)
  })

  it('selectPolicy max going down allows the biggest cut', () => {
    const down: ScalingRules = {
      stabilizationMs: 0,
      policies: [{ type: 'percent', value: 50, periodMs: 60_000 }, { type: 'pods', value: 2, periodMs: 60_000 }],
      selectPolicy: 'max',
    }
    const scaler = new ServiceScaler(serviceSpec('s', { scaleDown: down }), 10, 0)
    // min(trunc(10 × 0.5), 10 − 2) = 5
    assert.equal(scaler.decide(fresh(0), undefined, 1000).desired, 5)
  })

  it('a pods policy going down removes that many per period', () => {
    const down: ScalingRules = { stabilizationMs: 0, policies: [{ type: 'pods', value: 1, periodMs: 60_000 }], selectPolicy: 'max' }
    const scaler = new ServiceScaler(serviceSpec('s', { scaleDown: down }), 10, 0)
    assert.equal(scaler.decide(fresh(0), undefined, 1000).desired, 9)
    assert.equal(hold(scaler, fresh(0), 2000, 61_000), 9)
    assert.equal(scaler.decide(fresh(0), undefined, 61_000).desired, 8)
  })

  it('selectPolicy disabled never scales in that direction', () => {
    const spec = serviceSpec('s', {
      scaleUp: { ...DEFAULT_SCALE_UP, selectPolicy: 'disabled' },
      scaleDown: { ...DOWN_AT_ONCE, selectPolicy: 'disabled' },
    })
    const up = new ServiceScaler(spec, 3, 0)
    assert.equal(hold(up, fresh(1000), 1000, 60_000), 3)
    const down = new ServiceScaler(spec, 3, 0)
    assert.equal(hold(down, fresh(0), 1000, 60_000), 3)
    const zero = new ServiceScaler(spec, 0, 0)
    assert.equal(hold(zero, fresh(1000), 1000, 60_000), 0, 'not even the first replica')
  })

  it('counts scale-down in the period when limiting scale-up (period-start replicas)', () => {
    const up: ScalingRules = { stabilizationMs: 0, policies: [{ type: 'pods', value: 2, periodMs: 60_000 }], selectPolicy: 'max' }
    const scaler = new ServiceScaler(serviceSpec('s', { scaleUp: up, scaleDown: DOWN_AT_ONCE }), 6, 0)
    assert.equal(scaler.decide(fresh(20), undefined, 1000).desired, 2)
    // The period started at 6: up to 6 + 2 = 8 is allowed.
    assert.equal(scaler.decide(fresh(1000), undefined, 2000).desired, 8)
  })
})

describe('ServiceScaler: upstream cap', () => {
  const spec = serviceSpec('s', { maxReplicas: 20, upstream: { name: 'broker', saturatedAt: 0.9 }, scaleDown: DOWN_AT_ONCE })
  const saturated: UpstreamReading = { saturation: 0.9 }

  it('stops scale-up while the upstream is saturated', () => {
    const scaler = new ServiceScaler(spec, 4, 0)
    const d = scaler.decide(fresh(100), saturated, 1000)
    assert.equal(d.desired, 4)
    assert.equal(d.upstreamCapped, true)
  })

  it('allows scale-down while the upstream is saturated', () => {
    const scaler = new ServiceScaler(spec, 4, 0)
    const d = scaler.decide(fresh(10), saturated, 1000)
    assert.equal(d.desired, 1)
    assert.equal(d.upstreamCapped, false)
  })

  it('scales up again once saturation drops below the mark, or is unknown', () => {
    for (const upstream of [{ saturation: 0.89 }, { saturation: undefined }, undefined]) {
      const scaler = new ServiceScaler(spec, 4, 0)
      const d = scaler.decide(fresh(100), upstream, 1000)
      assert.equal(d.desired, 8)
      assert.equal(d.upstreamCapped, false)
    }
  })

  it('still lifts a count below minReplicas to it', () => {
    const floor = serviceSpec('s', { minReplicas: 3, maxReplicas: 20, upstream: { name: 'broker', saturatedAt: 0.9 } })
    const scaler = new ServiceScaler(floor, 1, 0)
    assert.equal(scaler.decide(fresh(100), saturated, 1000).desired, 3)
  })

  it('ignores upstream readings for a service that declares no upstream', () => {
    const scaler = new ServiceScaler(serviceSpec('s'), 4, 0)
    const d = scaler.decide(fresh(80), { saturation: 1 }, 1000)
    assert.equal(d.desired, 8)
    assert.equal(d.upstreamCapped, false)
  })
})

describe('ServiceScaler: failing static', () => {
  const spec = serviceSpec('s', { maxReplicas: 20, scaleDown: DOWN_AT_ONCE })

  it('keeps the count on a missing reading', () => {
    const scaler = new ServiceScaler(spec, 6, 0)
    const d = scaler.decide(missing(), undefined, 1000)
    assert.deepEqual(d, { desired: 6, failingStatic: true, upstreamCapped: false, recommended: 6, rule: 'hpa' })
  })

  it('never scales down on a partial reading, but scales up on it', () => {
    const scaler = new ServiceScaler(spec, 6, 0)
    const down = scaler.decide(partial(10), undefined, 1000)
    assert.equal(down.desired, 6)
    assert.equal(down.failingStatic, true)
    const up = scaler.decide(partial(100), undefined, 2000)
    assert.equal(up.desired, 10)
    assert.equal(up.failingStatic, false)
  })

  it('scales down on fresh data after stale data, once the window allows', () => {
    const scaler = new ServiceScaler(spec, 6, 0)
    scaler.decide(partial(10), undefined, 1000)
    assert.equal(scaler.decide(fresh(10), undefined, 2000).desired, 1)
  })
})

// ---- properties --------------------------------------------------------------------------

const policyArb: fc.Arbitrary<ScalingPolicy> = fc.record({
  type: fc.constantFrom('pods' as const, 'percent' as const),
  value: fc.integer({ min: 1, max: 200 }),
  periodMs: fc.constantFrom(5000, 15_000, 60_000),
})

const rulesArb: fc.Arbitrary<ScalingRules> = fc.record({
  stabilizationMs: fc.constantFrom(0, 3000, 30_000, 300_000),
  policies: fc.array(policyArb, { minLength: 1, maxLength: 3 }),
  selectPolicy: fc.constantFrom('max' as const, 'min' as const, 'disabled' as const),
})

const specArb: fc.Arbitrary<ServiceSpec> = fc.record({
  min: fc.integer({ min: 0, max: 5 }),
  extra: fc.integer({ min: 0, max: 15 }),
  target: fc.integer({ min: 1, max: 20 }),
  tolerance: fc.constantFrom(0, 0.1, 0.25),
  activation: fc.integer({ min: 0, max: 20 }),
  scaleUp: rulesArb,
  scaleDown: rulesArb,
  saturatedAt: fc.option(fc.constantFrom(0.5, 0.9), { nil: undefined }),
}).map(r => serviceSpec('s', {
  minReplicas: r.min,
  maxReplicas: r.min + r.extra,
  targetPerReplica: r.target,
  tolerance: r.tolerance,
  activationThreshold: r.activation,
  scaleUp: r.scaleUp,
  scaleDown: r.scaleDown,
  upstream: r.saturatedAt === undefined ? undefined : { name: 'up', saturatedAt: r.saturatedAt },
}))

interface Step { dtMs: number, status: LoadStatus, total: number, saturation: number | undefined }

const stepArb: fc.Arbitrary<Step> = fc.record({
  dtMs: fc.constantFrom(0, 500, 1000, 1000, 5000, 15_000, 100_000),
  status: fc.constantFrom('fresh' as const, 'fresh' as const, 'partial' as const, 'missing' as const),
  total: fc.integer({ min: 0, max: 500 }),
  saturation: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
})

function readingOf (step: Step): LoadReading {
  if (step.status === 'missing') return { status: 'missing', total: 0, reporters: 1, staleReporters: 1 }
  return { status: step.status, total: step.total, reporters: 2, staleReporters: step.status === 'partial' ? 1 : 0 }
}

/** Runs the steps; calls `check` with the count before and the decision after each one. */
function run (spec: ServiceSpec, initial: number, steps: Step[], check: (before: number, desired: number, step: Step, nowMs: number) => void): void {
  let nowMs = 0
  const scaler = new ServiceScaler(spec, initial, nowMs)
  for (const step of steps) {
    nowMs += step.dtMs
    const before = scaler.replicas
    const d = scaler.decide(readingOf(step), { saturation: step.saturation }, nowMs)
    assert.equal(scaler.replicas, d.desired)
    check(before, d.desired, step, nowMs)
  }
}

describe('ServiceScaler properties', () => {
  it('scale-down never happens on stale data (partial or missing), except down to maxReplicas', () => {
    fc.assert(fc.property(specArb, fc.integer({ min: 0, max: 25 }), fc.array(stepArb, { maxLength: 60 }), (spec, initial, steps) => {
      run(spec, initial, steps, (before, desired, step) => {
        if (step.status === 'fresh') return
        // Bounds beat failing static (as the HPA's do): a count above maxReplicas, which only a
        // takeover can bring, comes down to it. Nothing else comes down on stale data.
        assert.ok(desired >= Math.min(before, spec.maxReplicas), `${step.status}: ${before} -> ${desired}`)
        if (step.status === 'missing') assert.equal(desired, Math.min(Math.max(before, spec.minReplicas), spec.maxReplicas))
      })
    }), { numRuns: NUM_RUNS })
  })

  it('desired always stays within [minReplicas, maxReplicas], whatever count it took over', () => {
    fc.assert(fc.property(specArb, fc.integer({ min: 0, max: 25 }), fc.array(stepArb, { maxLength: 60 }), (spec, initial, steps) => {
      run(spec, initial, steps, (_before, desired) => {
        assert.ok(desired >= spec.minReplicas && desired <= spec.maxReplicas, `${desired} outside [${spec.minReplicas}, ${spec.maxReplicas}]`)
        assert.ok(Number.isInteger(desired))
      })
    }), { numRuns: NUM_RUNS })
  })

  it('a new scaler taking over N within bounds never goes below N within the scale-down window', () => {
    fc.assert(fc.property(specArb, fc.integer({ min: 0, max: 25 }), fc.array(stepArb, { maxLength: 60 }), (spec, n, steps) => {
      const initial = Math.min(Math.max(n, spec.minReplicas), spec.maxReplicas)
      run(spec, initial, steps, (_before, desired, _step, nowMs) => {
        if (nowMs < spec.scaleDown.stabilizationMs) assert.ok(desired >= initial, `${desired} < ${initial} at ${nowMs} ms`)
      })
    }), { numRuns: NUM_RUNS })
  })

  it('scale-up never adds more than a pods policy allows per period', () => {
    const caseArb = fc.record({
      value: fc.integer({ min: 1, max: 5 }),
      periodMs: fc.constantFrom(5000, 15_000),
      initial: fc.integer({ min: 0, max: 10 }),
      steps: fc.array(stepArb, { maxLength: 60 }),
    })
    fc.assert(fc.property(caseArb, ({ value, periodMs, initial, steps }) => {
      const spec = serviceSpec('s', {
        maxReplicas: 30,
        scaleUp: { stabilizationMs: 0, policies: [{ type: 'pods', value, periodMs }], selectPolicy: 'max' },
        scaleDown: DOWN_AT_ONCE,
      })
      const history: Array<{ atMs: number, count: number }> = [{ atMs: 0, count: initial }]
      run(spec, initial, steps, (before, desired, _step, nowMs) => {
        if (desired > before) {
          // The count the period started with: the last one decided at or before its start.
          let start = initial
          for (const h of history) if (h.atMs <= nowMs - periodMs) start = h.count
          const allowed = Math.max(start + value, before === 0 ? 1 : 0)
          assert.ok(desired <= allowed, `${before} -> ${desired} at ${nowMs} ms, period started at ${start}`)
        }
        history.push({ atMs: nowMs, count: desired })
      })
    }), { numRuns: NUM_RUNS })
  })
})
