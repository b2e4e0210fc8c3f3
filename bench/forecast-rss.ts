/**
 * `node dist/bench/forecast-rss.js with|without`: the resident memory of a supervisor process
 * (the daemon's modules loaded) without a forecast, or with the shipped model loaded and run
 * once. Prints one JSON line {rssMb}. Run in its own process by bench/forecast-suite.ts.
 */
import { loadForecastModel } from '../node/forecast/onnx-model.js'

const mode = process.argv[2]
if (mode !== 'with' && mode !== 'without') {
  console.error('usage: node dist/bench/forecast-rss.js with|without')
  process.exit(2)
}
await import('../node/daemon/daemon.js')
if (mode === 'with') {
  const model = await loadForecastModel('builtin')
  await model.evaluate(new Float32Array(model.window).fill(10), 1)
}
const g = globalThis as { gc?: () => void }
g.gc?.()
console.log(JSON.stringify({ rssMb: Math.round(process.memoryUsage().rss / 1048576 * 10) / 10 }))
