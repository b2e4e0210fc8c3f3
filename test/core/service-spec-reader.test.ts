import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readDurationMs, readServiceSpec, type Where } from '../../node/core/service-spec-reader.js'
import { DEFAULT_SCALE_DOWN, serviceSpec } from '../../node/core/service-spec.js'

function read (raw: unknown, extraKeys: string[] = []): { spec: ReturnType<typeof readServiceSpec>, problems: string[] } {
  const problems: string[] = []
  const where: Where = (path, message) => { problems.push(`${path.join('.')}: ${message}`); return undefined }
  return { spec: readServiceSpec(raw, ['services', 0], where, extraKeys), problems }
}

describe('the service block reader (one vocabulary for configs and scenarios)', () => {
  it('fills the defaults of the core\'s ServiceSpec', () => {
    assert.deepEqual(read({ name: 'ingest' }), { spec: serviceSpec('ingest'), problems: [] })
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
      'services.0.target: unknown field; known: name, targetPerReplica, minReplicas, maxReplicas, tolerance, activationThreshold, selector, slotsPerReplica, upstream, scaleUp, scaleDown',
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
