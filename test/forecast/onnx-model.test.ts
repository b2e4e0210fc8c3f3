import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FORECAST_MODEL } from '../../node/core/forecast-limits.js'
import { ForecastError, ForecastErrorCode } from '../../node/forecast/errors.js'
import { BUILTIN_MODEL_FILE, loadForecastModel } from '../../node/forecast/onnx-model.js'
import { meanModel } from './model-files.js'

const dir = mkdtempSync(join(tmpdir(), 'agentmesh-forecast-'))

async function refusal (file: string): Promise<ForecastError> {
  try {
    const m = await loadForecastModel(file)
    await m.close()
  } catch (err) {
    assert.ok(err instanceof ForecastError, `a ForecastError, got ${String(err)}`)
    return err
  }
  assert.fail(`${file} loaded`)
}

describe('loading a forecast model', () => {
  it('loads the builtin model and forecasts a steady rate as about that rate', async () => {
    const m = await loadForecastModel('builtin')
    assert.equal(m.window, FORECAST_MODEL.window)
    assert.equal(m.file, BUILTIN_MODEL_FILE)
    const [rate] = await m.evaluate(new Float32Array(m.window).fill(200), 1)
    assert.ok(Math.abs(rate - 200) < 20, `forecast ${rate} for a steady 200/s`)
    await m.close()
  })

  it('loads a bring-your-own model of another window and runs it', async () => {
    const m = await loadForecastModel(meanModel(join(dir, 'byo.onnx'), { window: 8 }))
    assert.equal(m.window, 8)
    assert.deepEqual([...await m.evaluate(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 1)], [4.5])
    await m.close()
  })

  it('refuses a missing file with E_FORECAST_MODEL_MISSING', async () => {
    const err = await refusal(join(dir, 'nowhere.onnx'))
    assert.equal(err.code, ForecastErrorCode.ModelMissing)
  })

  it('refuses a corrupt file with E_FORECAST_MODEL_INVALID', async () => {
    const file = join(dir, 'corrupt.onnx')
    writeFileSync(file, readFileSync(BUILTIN_MODEL_FILE).subarray(0, 100))
    assert.equal((await refusal(file)).code, ForecastErrorCode.ModelInvalid)
  })

  it('names the input that differs: its name, or a window outside the limits', async () => {
    const named = await refusal(meanModel(join(dir, 'named.onnx'), { input: 'x' }))
    assert.equal(named.code, ForecastErrorCode.InputMismatch)
    assert.match(named.message, /inputs are "x".*expected one input "rates"/)
    const short = await refusal(meanModel(join(dir, 'short.onnx'), { window: 2 }))
    assert.equal(short.code, ForecastErrorCode.InputMismatch)
    assert.match(short.message, /shape \[batch, 2\]/)
  })

  it('names the output that differs: its name, or its shape', async () => {
    const named = await refusal(meanModel(join(dir, 'out-named.onnx'), { output: 'y_hat' }))
    assert.equal(named.code, ForecastErrorCode.OutputMismatch)
    assert.match(named.message, /outputs are "y_hat"/)
    const wide = await refusal(meanModel(join(dir, 'wide.onnx'), { outWidth: 3 }))
    assert.equal(wide.code, ForecastErrorCode.OutputMismatch)
    assert.match(wide.message, /shape \[batch, 3\]/)
  })
})
