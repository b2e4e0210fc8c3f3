import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readDurationMs, readServiceSpec, type Where } from '../../node/core/service-spec-reader.js'
import { DEFAULT_RATE_RULES, DEFAULT_SCALE_DOWN, serviceSpec } from '../../node/core/service-spec.js'

function read (raw: unknown, extraKeys: string[] = []): { spec: ReturnType<typeof readServiceSpec>, problems: string[] } {
  const problems: string[] = []
  const where: Where = (path, message) => { problems.push(`${path.join('.')}: ${message}`); return undefined }
  return { spec: readServiceSpec(raw, ['services', 0], where, extraKeys), problems }
}

describe('the service block reader (one vocabulary for configs and scenarios)', () => {
  it('fills the defaults of the core\'s ServiceSpec', () => {
    assert.deepEqual(read({ name: 'ingest' }), { spec: serviceSpec('ingest'), problems: [] })
  })

  it('reads the policy and the rate policy\'s settings, durations as ms or with a unit', () => {
    const { spec, problems } = read({
      name: 'ingest', policy: 'rate',
      rate: { drainPerReplica: 12.5, drainWithinMs: '45s', utilization: 0.8, startLatencyMs: 3000, scaleDownHoldMs: '2m', trendWindowMs: '20s', idleHalfLifeMs: '30s' },
    })
    assert.deepEqual(problems, [])
    assert.equal(spec?.policy, 'rate')
    assert.deepEqual(spec?.rate, { drainPerReplica: 12.5, drainWithinMs: 45_000, utilization: 0.8, startLatencyMs: 3000, scaleDownHoldMs: 120_000, trendWindowMs: 20_000, idleHalfLifeMs: 30_000 })
    assert.equal(read({ name: 'ingest', policy: 'hpa' }).spec?.policy, 'hpa')
    assert.deepEqual(read({ name: 'ingest', rate: { utilization: 0.5 } }).spec?.rate, { ...DEFAULT_RATE_RULES, utilization: 0.5 })
  })

  it('refuses a policy or rate setting out of range, naming it', () => {
    const { problems } = read({ name: 'ingest', policy: 'pid', rate: { drainPerReplica: 0, utilization: 1.5, drainWithinMs: 0, idleHalfLifeMs: '0s', scaleDownHoldMs: 'soon', speed: 1 } })
    assert.deepEqual(problems, [
      'services.0.policy: must be rate or hpa, got "pid"',
      'services.0.rate.speed: unknown field; known: drainPerReplica, drainWithinMs, utilization, startLatencyMs, scaleDownHoldMs, trendWindowMs, idleHalfLifeMs',
      'services.0.rate.drainPerReplica: must be a number above 0 (work per second), got 0',
      'services.0.rate.utilization: must be a number above 0 and at most 1, got 1.5',
      'services.0.rate.drainWithinMs: must be whole ms > 0 or a duration such as 30s, at most a week, got 0',
      'services.0.rate.scaleDownHoldMs: must be whole ms ≥ 0 or a duration such as 30s, at most a week, got "soon"',
      'services.0.rate.idleHalfLifeMs: must be whole ms > 0 or a duration such as 30s, at most a week, got "0s"',
    ])
  })

  it('reads every field, durations as ms or with a unit', () => {
    const { spec, problems } = read({
      name: 'ingest', targetPerReplica: 50, minReplicas: 1, maxReplicas: 8, tolerance: 0.2, activationThreshold: 5,
      selector: { hardware: 'x86', gpu: true }, slotsPerReplica: 2, upstream: { name: 'broker', saturatedAt: 0.8 },
      scaleUp: { stabilizationMs: 0, policies: [{ type: 'pods', value: 4, periodMs: '15s' }], selectPolicy: 'max' },
      scaleDown: { stabilizationMs: '5m', policies: [{ type: 'percent', value: 50, periodMs: 30000 }] },
    })
    assert.deepEqual(problems, [])
    assert.equal(spec?.targetPerReplica, 50)
    assert.deepEqual(spec?.selector, { hardware: 'x86', gpu: 'true' })
    assert.deepEqual(spec?.upstream, { name: 'broker', saturatedAt: 0.8 })
    assert.deepEqual(spec?.scaleUp, { stabilizationMs: 0, policies: [{ type: 'pods', value: 4, periodMs: 15_000 }], selectPolicy: 'max' })
    assert.deepEqual(spec?.scaleDown, { ...DEFAULT_SCALE_DOWN, stabilizationMs: 300_000, policies: [{ type: 'percent', value: 50, periodMs: 30_000 }] })
  })

  it('reports every problem at once, naming the field, and refuses unknown fields', () => {
    const { problems } = read({ name: 'x', target: 10, minReplicas: 5, maxReplicas: 2, tolerance: 3, scaleDown: { stabilization: '5m', policies: [{ type: 'pods', value: 0, periodMs: '1y' }] } })
    assert.deepEqual(problems, [
      'services.0.target: unknown field; known: name, policy, targetPerReplica, minReplicas, maxReplicas, tolerance, activationThreshold, selector, slotsPerReplica, upstream, scaleUp, scaleDown, rate, forecast, spill',
      'services.0.tolerance: must be a number from 0 to 1, got 3',
      'services.0.scaleDown.stabilization: unknown field; known: stabilizationMs, policies, selectPolicy',
      'services.0.scaleDown.policies.0.value: must be a number > 0, got 0',
      'services.0.minReplicas: must not exceed maxReplicas (2)',
    ])
  })

  it('leaves a shell\'s own fields to the shell that names them', () => {
    assert.deepEqual(read({ name: 'x', agent: { image: 'a' }, drainPerReplica: 5 }, ['agent', 'drainPerReplica']).problems, [])
    assert.equal(read({ name: 'x', agent: {} }).problems.length, 1)
  })

  it('reads durations: whole ms, or a number with a unit', () => {
    assert.equal(readDurationMs(1500), 1500)
    assert.equal(readDurationMs('90s'), 90_000)
    assert.equal(readDurationMs('1.5m'), 90_000)
    assert.equal(readDurationMs('250ms'), 250)
    for (const bad of [-1, 1.5, '5', '5 years', null, {}]) assert.equal(readDurationMs(bad), undefined, String(bad))
  })
})
