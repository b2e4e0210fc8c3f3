// Helpers shared by the runtime tests: waiting on events with a bound (never a fixed sleep),
// and a metrics sink that records what it is told.

import type { RuntimeMetricsSink } from '../../node/runtime/runtime-driver.js'
import type { ReconcileLoop, ReconcilePass } from './reconcile-loop.js'
import { OWNER_LABELS, type ObservedContainer } from '../../node/core/reconcile.js'

/** Resolves with the first pass for which `predicate` holds; rejects after `timeoutMs`. */
export function waitForPass (loop: ReconcileLoop, predicate: (p: ReconcilePass) => boolean, timeoutMs: number, what: string): Promise<ReconcilePass> {
  return new Promise((resolve, reject) => {
    let last: ReconcilePass | undefined
    const timer = setTimeout(() => {
      off()
      reject(new Error(`${what}: not within ${timeoutMs} ms; last pass: ${JSON.stringify(last === undefined ? null : summarise(last))}`))
    }, timeoutMs)
    const off = loop.onPass((p) => {
      last = p
      if (!predicate(p)) return
      clearTimeout(timer)
      off()
      resolve(p)
    })
    loop.request()
  })
}

/** Resolves once `subscribe`'s callback has been called `count` times; rejects after `timeoutMs`. */
export function waitForCalls (subscribe: (cb: () => void) => () => void, count: number, timeoutMs: number, what: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const times: number[] = []
    const timer = setTimeout(() => { off(); reject(new Error(`${what}: ${times.length} of ${count} calls within ${timeoutMs} ms`)) }, timeoutMs)
    const off = subscribe(() => {
      times.push(performance.now())
      if (times.length < count) return
      clearTimeout(timer)
      off()
      resolve(times)
    })
  })
}

function summarise (p: ReconcilePass): unknown {
  return {
    ok: p.observation.ok,
    containers: p.observation.containers.map(c => `${c.labels[OWNER_LABELS.service]}:${c.state}`),
    actions: p.actions.map(a => `${a.type}:${a.service}`),
    failed: p.failed.map(f => f.error.code),
  }
}

/** Running containers per service. */
export function runningByService (containers: readonly ObservedContainer[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const c of containers) {
    if (c.state !== 'running') continue
    const s = c.labels[OWNER_LABELS.service]
    out[s] = (out[s] ?? 0) + 1
  }
  return out
}

export class RecordingMetrics implements RuntimeMetricsSink {
  readonly latencies: Array<{ seconds: number, service: string }> = []
  readonly actions: Array<{ type: string, result: string }> = []
  readonly up: boolean[] = []
  readonly startFailures: string[] = []
  startLatency = (seconds: number, service: string): void => { this.latencies.push({ seconds, service }) }
  action = (type: string, result: string): void => { this.actions.push({ type, result }) }
  runtimeUp = (up: boolean): void => { this.up.push(up) }
  startFailed = (service: string): void => { this.startFailures.push(service) }
}

/** Equal counts per key, whatever the key order. */
export function sameCounts (a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  return [...keys].every(k => (a[k] ?? 0) === (b[k] ?? 0))
}
