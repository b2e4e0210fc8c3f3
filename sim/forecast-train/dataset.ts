/**
 * The shipped forecast model's data: real arrival-rate traces cut into (history window, next
 * step) pairs, split into a training part and a held-out part. Shared by the training script
 * (train-model.ts) and the benchmark (bench/forecast-suite.ts), so the figures the benchmark
 * prints are measured on exactly the split the model never saw.
 *
 * Split (see docs/forecast.md): World Cup 98 trains on 1 June – 5 July except 25 June; NASA on
 * 6 – 19 July. Held out: the days the simulator's trace scenarios replay (WC98 25 June and
 * 7 July, NASA 5 July), every later day of both traces, and both Azure LLM traces (other traces).
 */
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import { parseTraceCsv } from '../trace-csv.js'
import { FORECAST_MODEL } from '../../node/core/forecast-limits.js'

const TRACES_DIR = fileURLToPath(new URL('../../../sim/traces/', import.meta.url))
const DAY_MS = 86_400_000

export interface Series {
  name: string
  /** Mean arrival rate per step (requests/s), from the trace's start. */
  rates: Float64Array
  /** Steps per day (for the seasonal-naive forecast); 0 when the trace is shorter than a day. */
  stepsPerDay: number
}

/** A trace's rates averaged over steps of `stepMs` (the last, partial step dropped). */
export function resample (points: readonly { tMs: number, rate: number }[], stepMs: number): Float64Array {
  const endMs = points.length === 0 ? 0 : points[points.length - 1].tMs + (points.length > 1 ? points[1].tMs - points[0].tMs : stepMs)
  const steps = Math.floor(endMs / stepMs)
  const sum = new Float64Array(steps)
  const weight = new Float64Array(steps)
  for (let i = 0; i < points.length; i++) {
    const binMs = (i + 1 < points.length ? points[i + 1].tMs : endMs) - points[i].tMs
    const s = Math.floor(points[i].tMs / stepMs)
    if (s >= steps) break
    sum[s] += points[i].rate * binMs
    weight[s] += binMs
  }
  return sum.map((x, i) => weight[i] > 0 ? x / weight[i] : 0)
}

function readSeries (name: string, file: string): Series {
  const raw = readFileSync(TRACES_DIR + file)
  const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8')
  const rates = resample(parseTraceCsv(text, file), FORECAST_MODEL.stepMs)
  const stepsPerDay = DAY_MS / FORECAST_MODEL.stepMs
  return { name, rates, stepsPerDay: rates.length >= 2 * stepsPerDay ? stepsPerDay : 0 }
}

export interface Span { from: number, to: number }
export interface SplitSeries extends Series {
  /** Step ranges [from, to) whose targets are trained on, or evaluated on. */
  train: Span[]
  heldOut: Span[]
}

const day = (d: number): number => d * DAY_MS / FORECAST_MODEL.stepMs

/** The split the shipped model is trained and evaluated on. Days count from 0 (WC98: 0 = 1 June). */
export function forecastDataset (): SplitSeries[] {
  const wc = readSeries('worldcup98', 'forecast/worldcup98.csv.gz')
  const nasa = readSeries('nasa-http', 'forecast/nasa.csv.gz')
  const code = readSeries('azure-llm-code', 'azure-llm-code-1h.csv')
  const conv = readSeries('azure-llm-conv', 'azure-llm-conv-1h.csv')
  return [
    // 25 June is day 24, 7 July day 36.
    { ...wc, train: [{ from: 0, to: day(24) }, { from: day(25), to: day(35) }], heldOut: [{ from: day(24), to: day(25) }, { from: day(35), to: wc.rates.length }] },
    // NASA starts 1 July: 5 July is day 4.
    { ...nasa, train: [{ from: day(5), to: day(19) }], heldOut: [{ from: day(4), to: day(5) }, { from: day(19), to: nasa.rates.length }] },
    { ...code, train: [], heldOut: [{ from: 0, to: code.rates.length }] },
    { ...conv, train: [], heldOut: [{ from: 0, to: conv.rates.length }] },
  ]
}

export interface Sample {
  /** The WINDOW rates before the target step, oldest first. */
  window: Float64Array
  target: number
  /** The rate one day before the target step, or NaN when the series has no day before it. */
  seasonal: number
}

/** Every (window, target) pair whose target step lies in one of `spans`. */
export function samples (s: Series, spans: readonly Span[]): Sample[] {
  const n = FORECAST_MODEL.window
  const out: Sample[] = []
  for (const span of spans) {
    for (let t = Math.max(span.from, n); t < Math.min(span.to, s.rates.length); t++) {
      const seasonal = s.stepsPerDay > 0 && t >= s.stepsPerDay ? s.rates[t - s.stepsPerDay] : NaN
      out.push({ window: s.rates.subarray(t - n, t), target: s.rates[t], seasonal })
    }
  }
  return out
}
