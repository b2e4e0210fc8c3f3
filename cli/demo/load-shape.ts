/**
 * The demo's synthetic sensor load: how many work messages per second arrive at a site, as a
 * pure function of the time since the load started. One cycle is quiet, rises, bursts, falls and
 * is quiet again; it then repeats. Deterministic: the same time gives the same rate, so two runs
 * of the demo see the same shape (only the mesh's reactions differ).
 */

/** One cycle, by default. A few minutes: long enough to watch a scale-up and a scale-down. */
export const LOAD_CYCLE_MS_DEFAULT = 180_000
/** Shortest cycle accepted (`--cycle`): below it the scaler's windows blur the shape. */
export const LOAD_CYCLE_MS_MIN = 10_000

/** Messages per second while quiet, at the top of the rise, and during the burst. */
export const LOAD_QUIET_PER_S = 3
export const LOAD_RISE_TOP_PER_S = 25
export const LOAD_BURST_PER_S = 60

/**
 * Where each phase ends, as a fraction of the cycle: quiet, rise, burst, fall; the rest is quiet.
 * Named so that a test can ask for "the middle of the burst".
 */
export const LOAD_PHASE_ENDS = { quiet: 0.15, rise: 0.45, burst: 0.6, fall: 0.85 } as const

/**
 * Per site: a scale (so sites differ in size) and a phase offset as a fraction of the cycle (so
 * they do not move in lockstep). Site i uses entry i modulo the list.
 */
const SITE_SCALES = [1, 0.75, 1.25] as const
const SITE_PHASE_OFFSETS = [0, 0.1, 0.2] as const

export type LoadPhase = 'quiet' | 'rise' | 'burst' | 'fall'

/** The phase a fraction of the cycle (0 ≤ f < 1) falls in. */
export function loadPhaseAt (f: number): LoadPhase {
  if (f < LOAD_PHASE_ENDS.quiet) return 'quiet'
  if (f < LOAD_PHASE_ENDS.rise) return 'rise'
  if (f < LOAD_PHASE_ENDS.burst) return 'burst'
  if (f < LOAD_PHASE_ENDS.fall) return 'fall'
  return 'quiet'
}

/** The unscaled rate at a fraction of the cycle, messages per second. */
export function shapeRatePerS (f: number): number {
  const lerp = (from: number, to: number, start: number, end: number): number => from + (to - from) * (f - start) / (end - start)
  switch (loadPhaseAt(f)) {
    case 'rise': return lerp(LOAD_QUIET_PER_S, LOAD_RISE_TOP_PER_S, LOAD_PHASE_ENDS.quiet, LOAD_PHASE_ENDS.rise)
    case 'burst': return LOAD_BURST_PER_S
    case 'fall': return lerp(LOAD_RISE_TOP_PER_S, LOAD_QUIET_PER_S, LOAD_PHASE_ENDS.burst, LOAD_PHASE_ENDS.fall)
    case 'quiet': return LOAD_QUIET_PER_S
  }
}

/** Fraction of the cycle site `siteIndex` is at, `elapsedMs` after the load started. */
export function cycleFraction (elapsedMs: number, cycleMs: number, siteIndex: number): number {
  if (!(cycleMs > 0) || !(elapsedMs >= 0)) throw new RangeError(`cycleMs must be > 0 and elapsedMs ≥ 0, got ${cycleMs}, ${elapsedMs}`)
  const offset = SITE_PHASE_OFFSETS[siteIndex % SITE_PHASE_OFFSETS.length]
  // The remainder first: a time and the same time a cycle later give exactly the same fraction.
  return ((elapsedMs % cycleMs) / cycleMs + offset) % 1
}

/** Messages per second arriving at site `siteIndex`, `elapsedMs` after the load started. */
export function siteRatePerS (elapsedMs: number, cycleMs: number, siteIndex: number): number {
  const scale = SITE_SCALES[siteIndex % SITE_SCALES.length]
  return shapeRatePerS(cycleFraction(elapsedMs, cycleMs, siteIndex)) * scale
}
