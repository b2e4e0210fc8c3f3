/**
 * Load-forecast benchmarks (docs/forecast.md), `npm run bench -- forecast`:
 *
 * - forecast.mae_ratio_naive: the shipped model's mean absolute error on the held-out split
 *   (sim/forecast-train/dataset.ts), run through onnxruntime-node, ÷ the last-value forecast's;
 *   the mean over held-out traces, and each trace's own ratio. forecast.mae_ratio_seasonal: the
 *   same against "same time yesterday", on the traces that have days.
 * - forecast.infer_us: median wall time of one evaluation (one window, awaited) in this process.
 * - forecast.sla_gain / forecast.cost_ratio: the real-trace scenarios (sim/scenarios/trace-set/)
 *   under agentmesh with the builtin model on every service ÷ without, on the same seeds
 *   (FORECAST_BENCH_SEEDS, default 1): total SLA violation seconds, total container-seconds.
 * - forecast.rss_mb_with_model / _without: resident memory of a process with the daemon's
 *   modules loaded, with the model loaded and run once, and without (each its own process).
 */
import { spawnSync } from 'node:child_process'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { FORECAST_MODEL } from '../node/core/forecast-limits.js'
import { forecastDataset, samples } from '../sim/forecast-train/dataset.js'
import { loadForecastModel, type ForecastModel } from '../node/forecast/onnx-model.js'
import { simForecast, withForecast } from '../sim/forecast-sim.js'
import { runScenarioAsync, runScenario } from '../sim/run-scenario.js'
import { loadScenario } from '../sim/scenario-parse.js'
import { traceSetFiles } from '../sim/trace-set.js'
import { median, round, type Figure, type Suite } from './harness.js'

const RSS_RUN = fileURLToPath(new URL('./forecast-rss.js', import.meta.url))
const INFER_RUNS = 2000
const INFER_WARMUP = 200

const TARGETS: Record<string, string> = {
  'forecast.mae_ratio_naive': '<= 0.8', 'forecast.infer_us': '<= 100', 'forecast.sla_gain': '<= 0.7', 'forecast.cost_ratio': '<= 1.05',
}

async function errorFigures (model: ForecastModel, log: (line: string) => void): Promise<Figure[]> {
  const figures: Figure[] = []
  const naive: number[] = []
  const seasonal: number[] = []
  for (const s of forecastDataset()) {
    const held = samples(s, s.heldOut)
    const n = model.window
    const input = new Float32Array(held.length * n)
    held.forEach((smp, i) => input.set(smp.window.subarray(smp.window.length - n), i * n))
    const out = await model.evaluate(input, held.length)
    let m = 0, last = 0, mS = 0, season = 0
    held.forEach((smp, i) => {
      const err = Math.abs(out[i] - smp.target)
      m += err
      last += Math.abs(smp.window[smp.window.length - 1] - smp.target)
      if (!Number.isNaN(smp.seasonal)) { mS += err; season += Math.abs(smp.seasonal - smp.target) }
    })
    const r = m / last
    naive.push(r)
    figures.push({ metric: `forecast.mae_ratio_naive.${s.name}`, value: round(r), unit: 'ratio' })
    log(`${s.name}: ${held.length} held-out steps, MAE ${round(m / held.length)} req/s, last value ${round(last / held.length)}`)
    if (season > 0) {
      seasonal.push(mS / season)
      figures.push({ metric: `forecast.mae_ratio_seasonal.${s.name}`, value: round(mS / season), unit: 'ratio' })
    }
  }
  figures.unshift(
    { metric: 'forecast.mae_ratio_naive', value: round(mean(naive)), unit: 'ratio (mean of traces)' },
    { metric: 'forecast.mae_ratio_seasonal', value: round(mean(seasonal)), unit: 'ratio (mean of traces)' },
  )
  return figures
}

async function inferFigure (model: ForecastModel): Promise<Figure> {
  const window = Float32Array.from({ length: model.window }, (_, i) => 100 + i)
  const times: number[] = []
  for (let i = 0; i < INFER_WARMUP + INFER_RUNS; i++) {
    const t0 = performance.now()
    await model.evaluate(window, 1)
    if (i >= INFER_WARMUP) times.push((performance.now() - t0) * 1000)
  }
  return { metric: 'forecast.infer_us', value: round(median(times), 1), unit: 'µs (median)' }
}

async function slaFigures (log: (line: string) => void): Promise<Figure[]> {
  const seeds = (process.env.FORECAST_BENCH_SEEDS ?? '1').split(',').map(Number).filter(n => Number.isInteger(n) && n >= 0)
  let slaOn = 0, slaOff = 0, costOn = 0, costOff = 0
  for (const file of traceSetFiles()) {
    const base = loadScenario(file)
    const on = withForecast(base, 'on')
    const forecast = simForecast(on)
    try {
      for (const seed of seeds) {
        const req = { policies: ['agentmesh' as const], seed, durationMs: base.durationMs, version: 'forecast-bench', reportPoints: 0 }
        const off = runScenario({ ...req, scenario: withForecast(base, 'off') }).summary.policies[0]
        const with_ = (await runScenarioAsync({ ...req, scenario: on }, forecast)).summary.policies[0]
        slaOn += with_.slaViolationS; slaOff += off.slaViolationS; costOn += with_.containerSeconds; costOff += off.containerSeconds
        log(`${basename(file)} seed ${seed}: SLA violation ${with_.slaViolationS} s with forecast, ${off.slaViolationS} s without; container-s ${with_.containerSeconds} / ${off.containerSeconds}`)
      }
    } finally {
      await forecast.close()
    }
  }
  return [
    { metric: 'forecast.sla_gain', value: slaOff === 0 ? (slaOn === 0 ? 1 : Infinity) : round(slaOn / slaOff), unit: `ratio (${slaOn.toFixed(1)} s ÷ ${slaOff.toFixed(1)} s)` },
    { metric: 'forecast.cost_ratio', value: round(costOn / costOff), unit: 'ratio of container-s' },
  ]
}

function rssFigure (mode: 'with' | 'without'): Figure {
  const r = spawnSync(process.execPath, ['--expose-gc', RSS_RUN, mode], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`forecast-rss ${mode} failed: ${r.stderr}`)
  const { rssMb } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rssMb: number }
  return { metric: `forecast.rss_mb_${mode === 'with' ? 'with_model' : 'without'}`, value: rssMb, unit: 'MiB' }
}

function mean (xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

export const forecastSuite: Suite = {
  name: 'forecast',
  description: 'load forecast: held-out error vs naive forecasts, inference time, SLA gain in the simulator, memory',
  async run (log) {
    const model = await loadForecastModel('builtin')
    log(`model: ${model.file}, window ${model.window} steps of ${FORECAST_MODEL.stepMs / 1000} s`)
    const figures: Figure[] = []
    try {
      figures.push(...await errorFigures(model, log))
      figures.push(await inferFigure(model))
    } finally {
      await model.close()
    }
    if (process.env.FORECAST_BENCH_SIM !== '0') figures.push(...await slaFigures(log))
    figures.push(rssFigure('without'), rssFigure('with'))
    return figures.map(f => ({ ...f, target: TARGETS[f.metric] }))
  },
}
