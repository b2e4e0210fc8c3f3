/**
 * Arrival-rate traces: CSV with the header `t_seconds,rate` (seconds from the start of the
 * window, arrivals per second over the bin that starts there), as in ../shared/traces.
 */
import { SIM_DEFAULTS } from './defaults.js'
import { SimError, SimErrorCode } from './errors.js'

export interface TracePoint { tMs: number, rate: number }

export function parseTraceCsv (text: string, name: string): TracePoint[] {
  const lines = text.split(/\r?\n/)
  const problems: string[] = []
  if ((lines[0] ?? '').trim().replace(/\s/g, '') !== 't_seconds,rate') {
    throw new SimError(SimErrorCode.TraceInvalid, `${name}:1 must start with the header t_seconds,rate`)
  }
  const points: TracePoint[] = []
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim()
    if (line === '' || line.startsWith('#')) continue
    if (points.length >= SIM_DEFAULTS.maxTraceRows) { problems.push(`${name}: more than ${SIM_DEFAULTS.maxTraceRows} rows`); break }
    const [t, rate, ...rest] = line.split(',')
    const tS = Number(t)
    const r = Number(rate)
    if (rest.length > 0 || !Number.isFinite(tS) || !Number.isFinite(r) || tS < 0 || r < 0) {
      problems.push(`${name}:${i + 1} must be two numbers ≥ 0, got "${line}"`)
    } else if (points.length > 0 && Math.round(tS * 1000) <= points[points.length - 1].tMs) {
      problems.push(`${name}:${i + 1} t_seconds must increase`)
    } else {
      points.push({ tMs: Math.round(tS * 1000), rate: r })
    }
    if (problems.length >= 10) break
  }
  if (points.length === 0 && problems.length === 0) problems.push(`${name}: no data rows`)
  if (problems.length > 0) throw new SimError(SimErrorCode.TraceInvalid, `${name} is not a valid trace`, problems)
  return points
}
