import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Histogram, Registry } from 'prom-client'
import { daemonBuckets } from '../../bench/fidelity-suite.js'
import { quantile } from '../../bench/mesh-suite.js'
import { PROPAGATION_BUCKETS_S } from '../../node/daemon/metrics.js'
import { MsHistogram } from '../../sim/stats.js'
import { Rng } from '../../node/core/rng.js'

describe('the fidelity benchmark reads the simulator\'s propagation as the daemon\'s histogram counts it', () => {
  it('counts whole milliseconds in the daemon\'s buckets exactly as its prom-client histogram does', async () => {
    const rng = new Rng(7)
    const sim = new MsHistogram()
    const daemon = new Histogram({ name: 'p', help: 'p', buckets: PROPAGATION_BUCKETS_S, registers: [new Registry()] })
    // Values on every bucket bound, between them, and beyond the histogram's range.
    const values = [0, 1, 2, 3, 5, 7, 8, 10, 15, 20, 30, 50, 75, 100, 1000, 1500, 2000, 5000, 7000, 130_000]
    for (let i = 0; i < 500; i++) values.push(rng.int(120))
    for (const ms of values) { sim.add(ms); daemon.observe(ms / 1000) }
    const counted = (await daemon.get()).values.filter(v => v.metricName === 'p_bucket').map(v => [Number(v.labels.le === '+Inf' ? Infinity : v.labels.le), v.value])
    assert.deepEqual([...daemonBuckets(sim)], counted)
  })

  it('refuses a histogram too short for the daemon\'s last bucket', () => {
    assert.throws(() => daemonBuckets(new MsHistogram(1000)), /cannot be counted/)
  })

  it('gives the quantile Prometheus would: interpolated within the bucket', () => {
    const sim = new MsHistogram()
    for (let i = 0; i < 10; i++) sim.add(16)
    for (let i = 0; i < 10; i++) sim.add(22)
    const buckets = daemonBuckets(sim)
    // Half of the deliveries are ≤ 20 ms: the median is the top of the 15–20 ms bucket.
    assert.equal(quantile(buckets, 0.5), 0.02)
    // The 75th percentile lies halfway into the 20–30 ms bucket.
    assert.ok(Math.abs(quantile(buckets, 0.75) - 0.025) < 1e-12)
  })
})
