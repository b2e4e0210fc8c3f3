/**
 * The benchmark harness: suites register here, `npm run bench -- SUITE [--json]` runs them.
 * A suite returns figures; the harness prints them, one JSON object per line with --json.
 */
export interface Figure {
  metric: string
  value: number
  unit: string
  /** The target, for the human-readable table only. */
  target?: string
}

/** Options from the command line, for the suites that take them. */
export interface SuiteOptions {
  /** `--runs N`: how many times a suite that repeats itself runs (the `faults` suite). */
  runs?: number
}

export interface Suite {
  name: string
  description: string
  run: (log: (line: string) => void, options?: SuiteOptions) => Promise<Figure[]>
}

export function median (values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

export function percentile (values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p / 100 * s.length) - 1))]
}

export function round (n: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
