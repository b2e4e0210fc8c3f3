/**
 * Arrival rates over time, per load entry. Each shape is a pure function of simulated time;
 * nothing random is drawn here, so every policy of a run sees exactly the same load.
 */
import type { LoadShape } from './scenario.js'

/** Arrivals per second at `tMs`. */
export function rateAt (shape: LoadShape, tMs: number): number {
  switch (shape.type) {
    case 'constant': return shape.rate
    case 'step': {
      let rate = shape.rate
      for (const s of shape.steps) { if (s.atMs <= tMs) rate = s.rate; else break }
      return rate
    }
    case 'diurnal':
      // The trough is at phase 0 (night), the peak half a period later.
      return Math.max(0, shape.mean * (1 - shape.amplitude * Math.cos(2 * Math.PI * (tMs + shape.phaseMs) / shape.periodMs)))
    case 'bursts': {
      let rate = shape.rate
      for (const b of shape.bursts) if (tMs >= b.atMs && tMs < b.atMs + b.durationMs) rate += b.rate
      return rate
    }
    case 'trace': return traceRate(shape, tMs)
  }
}

function traceRate (shape: Extract<LoadShape, { type: 'trace' }>, tMs: number): number {
  const pts = shape.points
  if (pts.length === 0) return 0
  const first = pts[0].tMs
  const last = pts[pts.length - 1].tMs
  // One bin past the last point, so a looped trace keeps its last bin's width.
  const span = last - first + (pts.length > 1 ? (last - first) / (pts.length - 1) : 1000)
  let t = tMs + shape.offsetMs + first
  if (t > last) {
    if (!shape.loop) return pts[pts.length - 1].rate * shape.scale
    t = first + ((t - first) % span)
  }
  // Binary search for the bin holding t (bins are step functions, as the trace defines them).
  let lo = 0
  let hi = pts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (pts[mid].tMs <= t) lo = mid
    else hi = mid - 1
  }
  return pts[lo].rate * shape.scale
}

/** Times at which the rate steps up (for reaction-time figures): step increases and burst starts. */
export function stepUpTimes (shape: LoadShape): number[] {
  switch (shape.type) {
    case 'step': {
      const out: number[] = []
      let rate = shape.rate
      for (const s of shape.steps) { if (s.rate > rate) out.push(s.atMs); rate = s.rate }
      return out
    }
    case 'bursts': return shape.bursts.filter(b => b.rate > 0).map(b => b.atMs)
    default: return []
  }
}
