/**
 * Core fixes the simulator found, tested where the simulator owns its tests (node/core's own
 * test folder belongs to another engineer).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ServiceScaler } from '../../node/core/service-scaler.js'
import { serviceSpec } from '../../node/core/service-spec.js'

describe('ServiceScaler bounds (found by the simulator: a new leader planned 4 replicas of a service with minReplicas 6)', () => {
  it('goes straight to minReplicas from below, whatever the scale-up rate limit', () => {
    const spec = serviceSpec('ingest', { minReplicas: 6, maxReplicas: 6, targetPerReplica: 10 })
    const scaler = new ServiceScaler(spec, 0, 0)
    const d = scaler.decide({ status: 'fresh', total: 10, reporters: 1, staleReporters: 0 }, undefined, 1000)
    assert.equal(d.desired, 6)
  })

  it('goes straight to maxReplicas from above, whatever the scale-down rate limit', () => {
    const spec = serviceSpec('ingest', {
      minReplicas: 0, maxReplicas: 3, targetPerReplica: 10,
      scaleDown: { stabilizationMs: 0, policies: [{ type: 'pods', value: 1, periodMs: 60_000 }], selectPolicy: 'max' },
    })
    const scaler = new ServiceScaler(spec, 10, 0)
    const d = scaler.decide({ status: 'fresh', total: 0, reporters: 1, staleReporters: 0 }, undefined, 1000)
    assert.equal(d.desired, 3)
  })
})
