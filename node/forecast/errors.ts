import { CodedError } from '../../protocol/errors.js'

/** Why a forecast model cannot be used. The service then scales reactively (docs/forecast.md). */
export const ForecastErrorCode = {
  /** The model file does not exist or cannot be read. */
  ModelMissing: 'E_FORECAST_MODEL_MISSING',
  /** The model file is larger than FORECAST_LIMITS.modelBytesMax. */
  ModelTooLarge: 'E_FORECAST_MODEL_TOO_LARGE',
  /** onnxruntime could not load the file (not ONNX, corrupt, an operator it lacks). */
  ModelInvalid: 'E_FORECAST_MODEL_INVALID',
  /** The model's inputs differ from the contract (name, type or shape). */
  InputMismatch: 'E_FORECAST_INPUT_MISMATCH',
  /** The model's outputs differ from the contract (name, type or shape). */
  OutputMismatch: 'E_FORECAST_OUTPUT_MISMATCH',
  /** onnxruntime-node itself cannot be loaded on this host. */
  RuntimeUnavailable: 'E_FORECAST_RUNTIME_UNAVAILABLE',
  /** An evaluation threw. */
  InferenceFailed: 'E_FORECAST_INFERENCE_FAILED',
} as const

export type ForecastErrorCode = typeof ForecastErrorCode[keyof typeof ForecastErrorCode]

export class ForecastError extends CodedError<ForecastErrorCode> {
  override readonly name = 'ForecastError'
}
