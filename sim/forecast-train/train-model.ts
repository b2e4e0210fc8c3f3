/**
 * Trains the shipped load-forecast model and writes it as ONNX:
 *
 *   npm run build && node dist/sim/forecast-train/train-model.js [--out FILE]
 *
 * (default FILE: node/forecast/model/load-forecast.onnx, the committed model). Deterministic:
 * no random draw at all (the fixed seed of a ridge regression is its data order), float64
 * loops in a fixed order, and a protobuf encoder that writes fields in a fixed order, so every
 * run writes the same bytes (test/forecast/train-model.test.ts checks it against the file).
 *
 * The model: ridge regression of the next step's rate on the last WINDOW rates, each divided by
 * the window's mean (scale-free, so one model serves 1 request/s and 3,000). It is fitted on the
 * change from the last value, so the penalty pulls it towards the last-value forecast rather
 * than towards zero. Each training trace weighs the same in the fit, however long it is.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { FORECAST_MODEL } from '../../node/core/forecast-limits.js'
import { forecastDataset, samples, type Sample, type Span, type SplitSeries } from './dataset.js'
import { linearForecast, linearForecastOnnx, type LinearForecast } from './onnx-graph.js'
import { ridge } from './ridge.js'

export const SHIPPED_MODEL_FILE = fileURLToPath(new URL('../../../node/forecast/model/load-forecast.onnx', import.meta.url))

/**
 * Ridge penalties tried, relative to a total sample weight of one per trace. The one used is
 * chosen on a validation slice of the training days (their last VALIDATION_DAYS of each trace),
 * never on the held-out split; the model is then refitted on every training day.
 */
const LAMBDAS = [0.01, 0.1, 1, 10, 100]
const VALIDATION_STEPS = 5 * 86_400_000 / FORECAST_MODEL.stepMs
/** Windows whose mean is below this (requests/s) teach nothing about shape; left out of the fit. */
const MEAN_MIN_PER_S = 1e-3

function features (window: Float64Array): { x: Float64Array, mean: number, last: number } {
  const n = window.length
  let sum = 0
  for (let i = 0; i < n; i++) sum += window[i]
  const mean = sum / n
  const last = window[n - 1]
  // The last step's own feature would be 0 (last − last): dropped; the trailing 1 is the intercept.
  const x = new Float64Array(n)
  for (let i = 0; i < n - 1; i++) x[i] = (window[i] - last) / mean
  x[n - 1] = 1
  return { x, mean, last }
}

export interface Trained { model: LinearForecast, bytes: Uint8Array, trainSamples: Record<string, number> }

export function trainModel (): Trained {
  const data = forecastDataset().filter(s => s.train.length > 0)
  // Validation: each trace's training spans minus their last VALIDATION_STEPS steps.
  const fitPart = data.map(s => ({ ...s, train: cutEnd(s.train, VALIDATION_STEPS), heldOut: lastSteps(s.train, VALIDATION_STEPS) }))
  let lambda = LAMBDAS[0]
  let best = Infinity
  for (const l of LAMBDAS) {
    const m = fit(fitPart, l).model
    const score = fitPart.reduce((sum, s) => sum + maeRatio(m, samples(s, s.heldOut)), 0) / fitPart.length
    if (score < best) { best = score; lambda = l }
  }
  const { model, trainSamples } = fit(data, lambda)
  model.metadata['agentmesh.lambda'] = String(lambda)
  return { model, bytes: linearForecastOnnx(model), trainSamples }
}

function fit (data: readonly SplitSeries[], lambda: number): { model: LinearForecast, trainSamples: Record<string, number> } {
  const rows: Float64Array[] = []
  const ys: number[] = []
  const ws: number[] = []
  const trainSamples: Record<string, number> = {}
  for (const s of data) {
    const usable = samples(s, s.train).filter(x => sumOf(x.window) / x.window.length >= MEAN_MIN_PER_S)
    if (usable.length === 0) continue
    trainSamples[s.name] = usable.length
    for (const smp of usable) addRow(smp, 1 / usable.length, rows, ys, ws)
  }
  const beta = ridge(rows, ys, ws, lambda)
  // Back from "change from the last value" to weights on the normalised window:
  // rate/scale = Σ β_i (z_i − z_last) + z_last + b.
  const n = FORECAST_MODEL.window
  const weights = new Float64Array(n)
  let betaSum = 0
  for (let i = 0; i < n - 1; i++) { weights[i] = beta[i]; betaSum += beta[i] }
  weights[n - 1] = 1 - betaSum
  const model: LinearForecast = {
    weights,
    bias: beta[n - 1],
    metadata: {
      'agentmesh.window': String(n),
      'agentmesh.step_ms': String(FORECAST_MODEL.stepMs),
      'agentmesh.training': Object.keys(trainSamples).map(k => `${k}:${trainSamples[k]}`).join(','),
    },
  }
  return { model, trainSamples }
}

/** The spans without their last `steps` steps (taken from the last spans first). */
function cutEnd (spans: readonly Span[], steps: number): Span[] {
  const out = spans.map(s => ({ ...s }))
  for (let i = out.length - 1; i >= 0 && steps > 0; i--) {
    const take = Math.min(steps, out[i].to - out[i].from)
    out[i].to -= take
    steps -= take
  }
  return out.filter(s => s.to > s.from)
}

/** The last `steps` steps of the spans. */
function lastSteps (spans: readonly Span[], steps: number): Span[] {
  const kept = cutEnd(spans, steps)
  const out: Span[] = []
  spans.forEach((s, i) => {
    const from = kept[i] !== undefined && kept[i].from === s.from ? kept[i].to : s.from
    if (s.to > from) out.push({ from, to: s.to })
  })
  return out
}

/** MAE of the model ÷ MAE of the last-value forecast. */
export function maeRatio (m: LinearForecast, held: readonly Sample[]): number {
  let model = 0
  let last = 0
  for (const smp of held) {
    model += Math.abs(linearForecast(m, smp.window) - smp.target)
    last += Math.abs(smp.window[smp.window.length - 1] - smp.target)
  }
  return model / last
}

function addRow (smp: Sample, weight: number, rows: Float64Array[], ys: number[], ws: number[]): void {
  const f = features(smp.window)
  rows.push(f.x)
  ys.push((smp.target - f.last) / f.mean)
  ws.push(weight)
}

function sumOf (a: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i]
  return s
}

/** Mean absolute errors on the held-out split, in float64 (the benchmark measures the real model). */
function report (m: LinearForecast): string[] {
  const lines: string[] = []
  for (const s of forecastDataset()) {
    const held = samples(s, s.heldOut)
    lines.push(`${s.name}: ${held.length} held-out steps, MAE model ÷ last value = ${maeRatio(m, held).toFixed(3)}`)
  }
  return lines
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out')
  const out = at >= 0 ? process.argv[at + 1] : SHIPPED_MODEL_FILE
  const t = trainModel()
  writeFileSync(out, t.bytes)
  console.log(`wrote ${out}: ${t.bytes.length} bytes; trained on ${JSON.stringify(t.trainSamples)}, lambda ${t.model.metadata['agentmesh.lambda']}`)
  for (const line of report(t.model)) console.log(line)
}
