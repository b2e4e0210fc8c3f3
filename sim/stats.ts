/** Figures the summary reports: exact percentiles of small samples, a histogram for big ones. */
import { simAssert } from './errors.js'

/** Nearest-rank percentile (p in 0–100) of the values; null when there are none. */
export function percentileOf (values: readonly number[], p: number): number | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]
}

/**
 * Integer-millisecond histogram: one counter per ms up to `maxMs`, one overflow counter.
 * Adding is an array increment, so every gossip delivery of a 10,000-host hour can be counted.
 */
export class MsHistogram {
  private readonly counts: Float64Array
  private overflow = 0
  private overflowMax = 0
  count = 0

  constructor (private readonly maxMs = 120_000) {
    this.counts = new Float64Array(maxMs + 1)
  }

  add (ms: number): void {
    this.count++
    if (ms <= this.maxMs) this.counts[ms]++
    else { this.overflow++; if (ms > this.overflowMax) this.overflowMax = ms }
  }

  /** Adds every count of `other` (a sharded run's histograms, one per worker). */
  merge (other: MsHistogram): void {
    simAssert(other.maxMs === this.maxMs, 'histograms of one shape')
    for (let ms = 0; ms <= this.maxMs; ms++) this.counts[ms] += other.counts[ms]
    this.count += other.count
    this.overflow += other.overflow
    this.overflowMax = Math.max(this.overflowMax, other.overflowMax)
  }

  /** The counts as plain data (to cross a worker boundary), and back. */
  toJSON (): { maxMs: number, counts: Float64Array, overflow: number, overflowMax: number, count: number } {
    return { maxMs: this.maxMs, counts: this.counts, overflow: this.overflow, overflowMax: this.overflowMax, count: this.count }
  }

  static from (data: ReturnType<MsHistogram['toJSON']>): MsHistogram {
    const h = new MsHistogram(data.maxMs)
    h.counts.set(data.counts)
    h.overflow = data.overflow
    h.overflowMax = data.overflowMax
    h.count = data.count
    return h
  }

  percentile (p: number): number | null {
    if (this.count === 0) return null
    const rank = Math.max(1, Math.ceil(p / 100 * this.count))
    let seen = 0
    for (let ms = 0; ms <= this.maxMs; ms++) {
      seen += this.counts[ms]
      if (seen >= rank) return ms
    }
    return this.overflowMax
  }
}

export function round3 (n: number): number {
  return Math.round(n * 1000) / 1000
}
