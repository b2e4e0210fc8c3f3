/**
 * A leader's site summary on the global topic: every summaryIntervalMs, or, in a fleet of more
 * sites than summariesPerSecondMax × that interval, once per (known sites ÷ summariesPerSecondMax)
 * seconds, so that what a leader hears of the global topic stays flat however many sites there are.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { PROTOCOL_MINOR } from '../../protocol/index.js'
import { DEFAULT_TIMINGS } from '../../node/core/config.js'
import { SupervisorCore } from '../../node/core/supervisor-core.js'

const CAPACITY = { slots: 4, cpuMillis: 4000, memoryMib: 4096 }

/** The times a single-host site's leader sends its summary between fromMs and toMs, with `others` other sites heard from. */
function summaryTimes (others: number, fromMs: number, toMs: number): number[] {
  const core = new SupervisorCore({ hostId: 'h1', site: 'a', incarnation: 1, labels: new Map(), priority: 0, capacity: CAPACITY, services: [], timings: DEFAULT_TIMINGS, seed: 42, startMs: 0 })
  const sent: number[] = []
  let seq = 0
  const step = (atMs: number, input: Parameters<SupervisorCore['handle']>[0]): void => {
    core.handle(input, atMs)
    for (const out of core.drainOutputs()) {
      if (out.type === 'publish' && out.topic === 'global' && out.message.body.kind === 'siteSummary' && atMs >= fromMs) sent.push(atMs)
    }
  }
  step(0, { type: 'observed', containers: [], runtimeOk: true })
  for (let t = 0; t <= toMs;) {
    // Every other site's leader is heard once a second.
    if (t % 1000 === 0) {
      for (let s = 0; s < others; s++) {
        const summary = { term: 1, hostsAlive: 1, slotsTotal: 4, slotsFree: 4, services: [] }
        step(t, { type: 'message', message: { minor: PROTOCOL_MINOR, sender: `x${s}`, site: `s${s}`, incarnation: 1, seq: ++seq, sentAtMs: t, body: { kind: 'siteSummary', siteSummary: summary } } })
      }
    }
    const next = Math.min(core.nextDeadlineMs(), (Math.floor(t / 1000) + 1) * 1000)
    t = Math.max(next, t + 1)
    if (t <= toMs) step(t, { type: 'tick' })
  }
  return sent
}

describe('the site summary\'s pace', () => {
  it('is summaryIntervalMs in a fleet of few sites', () => {
    const times = summaryTimes(9, 10_000, 30_000)
    assert.equal(DEFAULT_TIMINGS.summaryIntervalMs, 2000)
    const gaps = times.slice(1).map((t, i) => t - times[i])
    assert.ok(gaps.length >= 8, `${times.length} summaries`)
    for (const gap of gaps) assert.ok(gap >= 2000 && gap < 2100, `gap ${gap} ms`)
  })

  it('stretches to known sites ÷ summariesPerSecondMax seconds in a large fleet', () => {
    const others = 200
    const times = summaryTimes(others, 20_000, 60_000)
    const expectedMs = others * 1000 / DEFAULT_TIMINGS.summariesPerSecondMax
    const gaps = times.slice(1).map((t, i) => t - times[i])
    assert.ok(gaps.length >= 3, `${times.length} summaries`)
    for (const gap of gaps) assert.ok(gap >= expectedMs && gap < expectedMs + 100, `gap ${gap} ms, expected ${expectedMs}`)
    // So a leader of any of these 201 sites hears about summariesPerSecondMax summaries a second.
    assert.ok(others / (expectedMs / 1000) <= DEFAULT_TIMINGS.summariesPerSecondMax)
  })
})
