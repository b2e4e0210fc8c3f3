/**
 * Letting time pass in each shell, for the contract suites: the simulator runs its event
 * queue (simulated milliseconds, no wall time); a real shell waits for its change events,
 * re-checking at least every CHECK_EVERY_MS, never past a bound.
 */
import type { ContainerRuntime, RuntimeObservation } from '../../node/core/ports.js'

/** A real shell re-checks at least this often even without a change event (Docker's events may lag). */
const CHECK_EVERY_MS = 100

/** `eventually` for a real runtime: observe, and wait for onChange (or CHECK_EVERY_MS) until `done` holds. */
export function realRuntimeEventually (runtime: ContainerRuntime, boundMs: number): (what: string, done: (o: RuntimeObservation) => boolean) => Promise<RuntimeObservation> {
  let wake: (() => void) | undefined
  runtime.onChange?.(() => { const w = wake; wake = undefined; w?.() })
  const signal = new AbortController().signal
  return async (what, done) => {
    const deadline = performance.now() + boundMs
    for (;;) {
      const changed = new Promise<void>(resolve => {
        const timer = setTimeout(resolve, CHECK_EVERY_MS)
        wake = () => { clearTimeout(timer); resolve() }
      })
      const o = await runtime.observe(signal)
      if (done(o)) return o
      if (performance.now() > deadline) throw new Error(`${what}: not within ${boundMs} ms; last seen: ${JSON.stringify(o.containers.map(c => [c.id, c.state]))}`)
      await changed
    }
  }
}

/** `eventually` for a real transport: wait until `done` holds, re-checking every CHECK_EVERY_MS, within the bound. */
export async function realEventually (what: string, done: () => boolean, boundMs: number): Promise<void> {
  const deadline = performance.now() + boundMs
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${boundMs} ms`)
    await new Promise(resolve => setTimeout(resolve, CHECK_EVERY_MS))
  }
}

/** `eventually` in simulated time: run the simulation `stepMs` at a time until `done` holds, within `boundMs` simulated. */
export function simulatedEventually (nowMs: () => number, runUntil: (tMs: number) => void, boundMs: number, stepMs = 10): (what: string, done: () => boolean) => Promise<void> {
  return async (what, done) => {
    const end = nowMs() + boundMs
    while (!done()) {
      if (nowMs() >= end) throw new Error(`${what}: not within ${boundMs} simulated ms`)
      runUntil(nowMs() + stepMs)
    }
  }
}
