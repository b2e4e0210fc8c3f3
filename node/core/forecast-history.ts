/**
 * The history a forecast model reads: a service's site arrival rate averaged over steps of
 * `stepMs` (a step is closed when the first observation of a later step arrives), the last
 * `window` steps kept. A step with no observation at all (this host was not leading, or the
 * rate signal was stale) breaks the series: the history restarts rather than pretend the
 * missing step away, so the model never reads a window with a hole shifted into it.
 */
import { assert } from './errors.js'

export class RateHistory {
  private readonly steps: number[] = []
  private stepIndex = -1
  private sum = 0
  private count = 0

  constructor (readonly stepMs: number, readonly window: number) {
    assert(Number.isSafeInteger(stepMs) && stepMs > 0 && Number.isSafeInteger(window) && window > 0, 'history step and window are positive integers')
  }

  /** Records one observation; true when it closed a step and a full window is now available. */
  observe (ratePerS: number, nowMs: number): boolean {
    assert(Number.isFinite(ratePerS) && ratePerS >= 0, 'an observed rate is finite and not negative')
    const index = Math.floor(nowMs / this.stepMs)
    assert(index >= this.stepIndex, 'time never runs backwards into the rate history')
    if (index === this.stepIndex) {
      this.sum += ratePerS
      this.count++
      return false
    }
    let closed = false
    if (this.stepIndex >= 0) {
      if (index === this.stepIndex + 1) {
        this.steps.push(this.sum / this.count)
        if (this.steps.length > this.window) this.steps.shift()
        closed = true
      } else {
        this.steps.length = 0
      }
    }
    this.stepIndex = index
    this.sum = ratePerS
    this.count = 1
    return closed && this.steps.length === this.window
  }

  get ready (): boolean { return this.steps.length === this.window }
  /** Closed steps held (up to window). */
  get length (): number { return this.steps.length }
  /** Start of the step after the last closed one, in ms (the forecast's step). */
  get forecastStepStartMs (): number { return this.stepIndex * this.stepMs }

  /** The window, oldest first (only when ready). */
  values (): readonly number[] {
    assert(this.ready, 'the window is read only when full')
    return this.steps
  }

  peak (): number {
    let p = 0
    for (const v of this.steps) if (v > p) p = v
    return p
  }
}
