// The runtime port's rules (spec validation, labels, codes) and the RuntimeDriver's bookkeeping,
// on a small in-memory runtime (a stand-in, so the driver's logic is checked without timing).

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { ContainerRuntime } from '../../node/core/ports.js'
import type { ObservedContainer } from '../../node/core/reconcile.js'
import {
  RuntimeError, RuntimeErrorCode, ownerLabels, validateAgentSpec,
  type AgentRuntime, type AgentSpec,
} from '../../node/runtime/container-runtime.js'
import { RuntimeDriver } from '../../node/runtime/runtime-driver.js'
import { RecordingMetrics } from './helpers.js'

const SPEC: AgentSpec = { service: 'ingest', image: 'img', env: {}, restartPolicy: 'no', networkMode: 'host', stopTimeoutMs: 1_000 }

/** IN-MEMORY RUNTIME (a stand-in for tests of the driver's bookkeeping only). */
class MemoryRuntime implements AgentRuntime {
  readonly kind = 'memory'
  containers: ObservedContainer[] = []
  down = false
  stops: Array<[string, number]> = []
  private n = 0
  async start (): Promise<void> {}
  async stop (): Promise<void> {}
  onChange (): () => void { return () => {} }
  async observe (): Promise<ObservedContainer[]> {
    if (this.down) throw new RuntimeError(RuntimeErrorCode.Unavailable, 'down')
    return this.containers.map(c => ({ ...c }))
  }

  async startAgent (spec: AgentSpec, labels: Readonly<Record<string, string>>): Promise<string> {
    if (this.down) throw new RuntimeError(RuntimeErrorCode.Unavailable, 'down')
    validateAgentSpec(spec, labels)
    const id = `c${++this.n}`
    this.containers.push({ id, labels, state: 'starting', createdAt: this.n })
    return id
  }

  async stopAgent (id: string, timeoutMs: number): Promise<void> { this.stops.push([id, timeoutMs]); await this.removeAgent(id) }
  async removeAgent (id: string): Promise<void> { this.containers = this.containers.filter(c => c.id !== id) }
}

describe('runtime port and driver', () => {
  it('a spec is refused with every problem named, never a bridge network', () => {
    const labels = ownerLabels({ service: 'other', site: 's', hostId: 'h', term: 1 })
    assert.throws(() => validateAgentSpec({ ...SPEC, networkMode: 'bridge' as 'host', cpuMillis: -1, memoryMib: 1, stopTimeoutMs: -5, command: [], env: { 'A=B': 'x' } }, labels),
      (err: RuntimeError) => {
        assert.equal(err.code, RuntimeErrorCode.SpecInvalid)
        for (const word of ['agentmesh.service', 'networkMode', 'cpuMillis', 'memoryMib', 'stopTimeoutMs', 'command', 'env name']) assert.ok(err.message.includes(word), word)
        return true
      })
  })

  it('error codes are E_RUNTIME_ strings and unique', () => {
    const codes = Object.values(RuntimeErrorCode)
    assert.ok(codes.every(c => /^E_RUNTIME_[A-Z_]+$/.test(c)))
    assert.equal(new Set(codes).size, codes.length)
  })

  it('implements the daemon\'s port: starts with owner labels and the term, stops with the spec\'s grace, measures start latency', async () => {
    let now = 0
    const runtime = new MemoryRuntime()
    const metrics = new RecordingMetrics()
    const driver = new RuntimeDriver({ hostId: 'h1', site: 's1', specFor: s => s === 'ingest' ? SPEC : undefined, extraLabels: { team: 'x' } }, { runtime, metrics, clock: () => now })
    const port: ContainerRuntime = driver
    assert.equal(port.name, 'memory')
    await port.apply({ type: 'start', service: 'ingest', term: 5 }, new AbortController().signal)
    assert.deepEqual(runtime.containers[0].labels, { team: 'x', 'agentmesh.service': 'ingest', 'agentmesh.site': 's1', 'agentmesh.host': 'h1', 'agentmesh.term': '5' })
    now = 100
    await port.observe(new AbortController().signal)
    assert.deepEqual(metrics.latencies, [], 'not running yet')
    runtime.containers[0] = { ...runtime.containers[0], state: 'running' }
    now = 250
    await port.observe(new AbortController().signal)
    assert.deepEqual(metrics.latencies, [{ seconds: 0.25, service: 'ingest' }])
    await port.apply({ type: 'stop', service: 'ingest', containerId: 'c1' }, new AbortController().signal)
    assert.deepEqual(runtime.stops, [['c1', 1_000]])
    await assert.rejects(async () => await port.apply({ type: 'start', service: 'nope', term: 5 }, new AbortController().signal), (e: RuntimeError) => e.code === RuntimeErrorCode.UnknownService)
    assert.deepEqual(metrics.actions, [{ type: 'start', result: 'ok' }, { type: 'stop', result: 'ok' }, { type: 'start', result: 'failed' }])
  })

  it('an unavailable runtime yields ok false with the last list, then ok again with nothing lost', async () => {
    const runtime = new MemoryRuntime()
    const driver = new RuntimeDriver({ hostId: 'h1', site: 's1', specFor: () => SPEC, retryMsMin: 60_000 }, { runtime })
    await driver.apply({ type: 'start', service: 'ingest', term: 1 })
    const first = await driver.observe()
    runtime.down = true
    const during = await driver.observe()
    assert.equal(during.ok, false)
    assert.deepEqual(during.containers, first.containers)
    assert.equal(driver.status().lastError?.code, RuntimeErrorCode.Unavailable)
    runtime.down = false
    const back = await driver.observe()
    assert.equal(back.ok, true)
    assert.deepEqual(back.containers.map(c => c.id), first.containers.map(c => c.id))
    assert.equal(driver.status().consecutiveFailures, 0)
    await driver.stop()
  })
})
