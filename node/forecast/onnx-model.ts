/**
 * A forecast model run by onnxruntime-node, loaded lazily (a host without a `forecast` block
 * never loads the runtime) and checked against the contract when it loads (FORECAST_MODEL):
 *
 *   input  `rates` float32 [batch or 1, W]: the last W step rates, requests/s, oldest first,
 *          W from FORECAST_LIMITS.windowMin to windowMax (read from the model);
 *   output `rate`  float32 [batch or 1, 1]: the mean rate over the next step, requests/s.
 *
 * Anything else is refused with an E_FORECAST_* error that names what differs. One intra-op and
 * one inter-op thread, sequential execution: a model this small gains nothing from threads, the
 * host's cores belong to its agents, and the simulator needs the same answer every run.
 */
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { InferenceSession, Tensor } from 'onnxruntime-node'
import { FORECAST_LIMITS, FORECAST_MODEL } from '../core/forecast-limits.js'
import { ForecastError, ForecastErrorCode } from './errors.js'

/** The model shipped with agentmesh (sim/forecast-train/train-model.ts writes it). */
export const BUILTIN_MODEL_FILE = fileURLToPath(new URL('../../../node/forecast/model/load-forecast.onnx', import.meta.url))

export interface ForecastModel {
  /** Steps of history the model reads. */
  readonly window: number
  /** Where it was loaded from. */
  readonly file: string
  /** Forecasts for `batch` windows laid end to end in `windows` (batch × window rates). */
  evaluate: (windows: Float32Array, batch: number) => Promise<Float32Array>
  close: () => Promise<void>
}

type Ort = typeof import('onnxruntime-node')
let ortPromise: Promise<Ort> | undefined

/** onnxruntime-node, imported on first use only. */
async function ort (): Promise<Ort> {
  ortPromise ??= import('onnxruntime-node').catch((err: unknown) => {
    ortPromise = undefined
    throw new ForecastError(ForecastErrorCode.RuntimeUnavailable, `onnxruntime-node cannot be loaded: ${(err as Error).message}`, { cause: err })
  })
  return await ortPromise
}

/** Loads and checks a model; `file` is `builtin` or a path. */
export async function loadForecastModel (file: string): Promise<ForecastModel> {
  const path = file === 'builtin' ? BUILTIN_MODEL_FILE : file
  let size: number
  try {
    size = (await stat(path)).size
  } catch (err) {
    throw new ForecastError(ForecastErrorCode.ModelMissing, `forecast model ${path} cannot be read: ${(err as Error).message}`, { cause: err })
  }
  if (size > FORECAST_LIMITS.modelBytesMax) {
    throw new ForecastError(ForecastErrorCode.ModelTooLarge, `forecast model ${path} is ${size} bytes, above the limit of ${FORECAST_LIMITS.modelBytesMax}`)
  }
  const bytes = await readFile(path)
  const { InferenceSession: Session, Tensor: TensorClass } = await ort()
  let session: InferenceSession
  try {
    session = await Session.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' })
  } catch (err) {
    throw new ForecastError(ForecastErrorCode.ModelInvalid, `forecast model ${path} is not a model onnxruntime can load: ${(err as Error).message}`, { cause: err })
  }
  let window: number
  try {
    window = checkContract(session, path)
  } catch (err) {
    await session.release()
    throw err
  }
  return {
    window,
    file: path,
    evaluate: async (windows, batch) => {
      let out: InferenceSession.OnnxValueMapType
      try {
        out = await session.run({ [FORECAST_MODEL.inputName]: new TensorClass('float32', windows, [batch, window]) })
      } catch (err) {
        throw new ForecastError(ForecastErrorCode.InferenceFailed, `forecast model ${path} failed: ${(err as Error).message}`, { cause: err })
      }
      const t = out[FORECAST_MODEL.outputName] as Tensor
      const data = t.data
      if (!(data instanceof Float32Array) || data.length !== batch) {
        throw new ForecastError(ForecastErrorCode.OutputMismatch, `forecast model ${path} returned ${data.length} values of type ${t.type} for ${batch} windows`)
      }
      return data
    },
    close: async () => { await session.release() },
  }
}

interface Meta { name: string, isTensor: boolean, type?: string, shape?: ReadonlyArray<number | string> }

/** The contract, checked on the loaded session; returns the window. */
function checkContract (session: InferenceSession, path: string): number {
  const inputs = session.inputMetadata as unknown as readonly Meta[]
  const outputs = session.outputMetadata as unknown as readonly Meta[]
  const input = FORECAST_MODEL.inputName
  const output = FORECAST_MODEL.outputName
  const inErr = (what: string): ForecastError => new ForecastError(ForecastErrorCode.InputMismatch, `forecast model ${path}: ${what}; expected one input "${input}" float32 [batch, W] with W from ${FORECAST_LIMITS.windowMin} to ${FORECAST_LIMITS.windowMax}`)
  const outErr = (what: string): ForecastError => new ForecastError(ForecastErrorCode.OutputMismatch, `forecast model ${path}: ${what}; expected one output "${output}" float32 [batch, 1]`)
  if (inputs.length !== 1 || inputs[0].name !== input) throw inErr(`inputs are ${names(inputs)}`)
  const i = inputs[0]
  if (!i.isTensor || i.type !== 'float32') throw inErr(`input "${input}" is ${i.type ?? 'not a tensor'}`)
  const ishape = i.shape ?? []
  const w = ishape[1]
  if (ishape.length !== 2 || !batchDim(ishape[0]) || typeof w !== 'number' || w < FORECAST_LIMITS.windowMin || w > FORECAST_LIMITS.windowMax) {
    throw inErr(`input "${input}" has shape [${ishape.join(', ')}]`)
  }
  if (outputs.length !== 1 || outputs[0].name !== output) throw outErr(`outputs are ${names(outputs)}`)
  const o = outputs[0]
  if (!o.isTensor || o.type !== 'float32') throw outErr(`output "${output}" is ${o.type ?? 'not a tensor'}`)
  const oshape = o.shape ?? []
  if (oshape.length !== 2 || !batchDim(oshape[0]) || oshape[1] !== 1) throw outErr(`output "${output}" has shape [${oshape.join(', ')}]`)
  return w
}

/** A batch dimension: symbolic, or 1. */
function batchDim (d: number | string | undefined): boolean {
  return typeof d === 'string' || d === 1 || d === -1
}

function names (list: readonly Meta[]): string {
  return list.length === 0 ? 'none' : list.map(m => `"${m.name}"`).join(', ')
}
