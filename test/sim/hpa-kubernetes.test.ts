/**
 * Kubernetes' own table tests of the HPA rule (kubernetes/kubernetes,
 * pkg/controller/podautoscaler/horizontal_test.go), translated case by case to the rule the core
 * and the baselines share (node/core/service-scaler.ts) and to the legacy path of an HPA without
 * `behavior` (sim/hpa-legacy.ts). Times are ms before "now"; Go's time.Minute is 60 000 here.
 *
 * Translating them found two deviations (issue 18): a recommendation exactly one window old still
 * counted (Kubernetes keeps only those `After(cutoff)`), fixed in the core; and an HPA created
 * without `behavior` takes the legacy scale-up limit, max(2 × current, 4) per sync, which the
 * hpa and keda baselines model with `baseline.hpaBehavior: legacy`.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ServiceScaler, stabilizeRecommendation, type Recommendation } from '../../node/core/service-scaler.js'
import { serviceSpec, type ScalingRules } from '../../node/core/service-spec.js'
import { convertDesiredReplicasWithRules, legacyScaleUpLimit, legacyStabilize } from '../../sim/hpa-legacy.js'

const MIN = 60_000
const NOW = 10 * 60 * MIN

function recs (...list: [number, number][]): Recommendation[] {
  return list.map(([value, agoMs]) => ({ value, atMs: NOW - agoMs, downOnly: false }))
}

describe('TestNormalizeDesiredReplicasWithBehavior (stabilizeRecommendationWithBehaviors)', () => {
  // name, recommendations [value, ago], current, prenormalized, up window s, down window s, expected
  const cases: [string, Recommendation[], number, number, number, number, number][] = [
    ['empty recommendations for scaling down', recs(), 100, 5, 0, 0, 5],
    ['simple scale down stabilization', recs([4, 2 * MIN], [5, MIN]), 100, 3, 0, 180, 5],
    ['simple scale up stabilization', recs([4, 2 * MIN], [5, MIN]), 1, 7, 300, 0, 4],
    ['no scale down stabilization', recs([1, 2 * MIN], [2, MIN]), 100, 3, 300, 0, 3],
    ['no scale up stabilization', recs([4, 2 * MIN], [5, MIN]), 1, 3, 0, 300, 3],
    ['no scale down stabilization, reuse recommendation element', recs([10, 10 * MIN], [9, 9 * MIN]), 100, 3, 0, 0, 3],
    ['no scale up stabilization, reuse recommendation element', recs([10, 10 * MIN], [9, 9 * MIN]), 1, 100, 0, 0, 100],
    ['scale down stabilization, reuse one of obsolete recommendation element', recs([10, 10 * MIN], [4, MIN], [5, 2 * MIN], [9, 9 * MIN]), 100, 3, 0, 180, 5],
    ['scale up stabilization, reuse one of obsolete recommendation element', recs([10, 100 * MIN], [6, MIN], [5, 2 * MIN], [9, 3 * MIN]), 1, 100, 300, 0, 5],
  ]
  for (const [name, history, current, prenormalized, upS, downS, expected] of cases) {
    it(name, () => {
      assert.equal(stabilizeRecommendation(history, current, prenormalized, NOW, upS * 1000, downS * 1000), expected)
    })
  }

  it('a recommendation exactly one window old has left it (timestamp.After(cutoff)); one a millisecond younger has not', () => {
    assert.equal(stabilizeRecommendation(recs([9, 5 * MIN]), 10, 3, NOW, 0, 300_000), 3)
    assert.equal(stabilizeRecommendation(recs([9, 5 * MIN - 1]), 10, 3, NOW, 0, 300_000), 9)
    assert.equal(stabilizeRecommendation(recs([4, 5 * MIN]), 1, 9, NOW, 300_000, 0), 9)
    assert.equal(stabilizeRecommendation(recs([4, 5 * MIN - 1]), 1, 9, NOW, 300_000, 0), 4)
  })

  it('so a ServiceScaler deciding every 15 s scales down on the sync a full window after the last high recommendation', () => {
    const scaler = new ServiceScaler(serviceSpec('s', { targetPerReplica: 1, maxReplicas: 100 }), 10, 0)
    const fresh = (total: number): { status: 'fresh', total: number, reporters: number, staleReporters: number } => ({ status: 'fresh', total, reporters: 1, staleReporters: 0 })
    scaler.decide(fresh(10), undefined, 15_000)
    let downAt = -1
    for (let t = 30_000; t <= 400_000 && downAt < 0; t += 15_000) if (scaler.decide(fresh(1), undefined, t).desired < 10) downAt = t
    assert.equal(downAt, 315_000, 'the 10 of 15 s is out of the window at 315 s, not 330 s')
  })
})

describe('TestScalingWithRules (rate limits, no earlier scale events)', () => {
  function rules (podsValue: number, podsPeriodS: number, percentValue: number, percentPeriodS: number): ScalingRules {
    const policies = []
    if (podsValue > 0) policies.push({ type: 'pods' as const, value: podsValue, periodMs: podsPeriodS * 1000 })
    if (percentValue > 0) policies.push({ type: 'percent' as const, value: percentValue, periodMs: percentPeriodS * 1000 })
    return { stabilizationMs: 0, policies, selectPolicy: 'max' }
  }
  // name, min, max, scaleUp rules (undefined: the defaults), current, prenormalized, expected
  const cases: [string, number, number, ScalingRules | undefined, number, number, number][] = [
    ['prenormalized desired replicas within range', 3, 8, undefined, 5, 7, 7],
    ['prenormalized desired replicas > maxReplicas', 1, 10, undefined, 20, 1000, 10],
    ['desired replica count is more than the maximum replica count', 100, 150, undefined, 100, 1000, 150],
    ['scaleUp with default behavior', 1, 1000, undefined, 10, 50, 20],
    ['scaleUp with pods policy larger than percent policy', 1, 1000, rules(100, 60, 100, 60), 10, 500, 110],
    ['scaleUp with percent policy larger than pods policy', 1, 1000, rules(2, 60, 100, 60), 10, 500, 20],
  ]
  for (const [name, min, max, up, current, prenormalized, expected] of cases) {
    it(name, () => {
      const spec = serviceSpec('s', { targetPerReplica: 1, minReplicas: min, maxReplicas: max, ...(up !== undefined ? { scaleUp: up } : {}) })
      const scaler = new ServiceScaler(spec, current, 0)
      assert.equal(scaler.decide({ status: 'fresh', total: prenormalized, reporters: 1, staleReporters: 0 }, undefined, 1000).desired, expected)
    })
  }
})

describe('TestConvertDesiredReplicasWithRules (the legacy path)', () => {
  // current, prenormalized, min, max, expected. Kubernetes' test sets scaleUpLimitFactor to 8
  // in init(); the controller's factor is 2, used here.
  const cases: [string, number, number, number, number, number][] = [
    ['prenormalized desired replicas within range', 5, 7, 3, 8, 7],
    ['prenormalized desired replicas < minReplicas', 3, 1, 2, 8, 2],
    ['maxReplicas is the limit because maxReplicas < scaleUpLimit', 20, 1000, 1, 10, 10],
    ['scaleUpLimit is the limit because scaleUpLimit < maxReplicas', 3, 1000, 1, 2000, legacyScaleUpLimit(3)],
  ]
  for (const [name, current, desired, min, max, expected] of cases) {
    it(name, () => assert.equal(convertDesiredReplicasWithRules(current, desired, min, max), expected))
  }

  it('calculateScaleUpLimit is max(2 × current, 4)', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map(legacyScaleUpLimit), [4, 4, 4, 6, 20])
  })
})

describe('TestNormalizeDesiredReplicas (the legacy stabilisation, a 5 min downscale window)', () => {
  const cases: [string, [number, number][], number, number][] = [
    ['empty log', [], 5, 5],
    ['stabilize', [[4, 2 * MIN], [5, MIN]], 3, 5],
    ['no stabilize', [[1, 2 * MIN], [2, MIN]], 3, 3],
    ['no stabilize - old recommendations', [[10, 10 * MIN], [9, 9 * MIN]], 3, 3],
    ['stabilize - old recommendations', [[10, 10 * MIN], [4, MIN], [5, 2 * MIN], [9, 9 * MIN]], 3, 5],
  ]
  for (const [name, history, prenormalized, expected] of cases) {
    it(name, () => assert.equal(legacyStabilize(recs(...history), prenormalized, NOW, 5 * MIN), expected))
  }

  it('counts a recommendation exactly one window old (it is not Before(cutoff)), unlike the behavior path', () => {
    assert.equal(legacyStabilize(recs([9, 5 * MIN]), 3, NOW, 5 * MIN), 9)
    assert.equal(legacyStabilize(recs([9, 5 * MIN + 1]), 3, NOW, 5 * MIN), 3)
  })
})
