/**
 * Every limit and default of load forecasting, in one place (docs/forecast.md lists them).
 * Pure constants: the core's checks, the daemon's and the simulator's forecaster and the
 * training script all read these.
 */

/** The shipped model's contract; a bring-your-own model is checked against it when it loads. */
export const FORECAST_MODEL = {
  /** Name of the model's one input: float32 [batch, window], arrival rates in requests/s, oldest first. */
  inputName: 'rates',
  /** Name of the model's one output: float32 [batch, 1], the mean arrival rate over the next step, requests/s. */
  outputName: 'rate',
  /** Steps of history the shipped model reads. A bring-your-own model may read windowMin…windowMax. */
  window: 16,
  /** One step of history (and the horizon of the forecast): a minute. */
  stepMs: 60_000,
} as const

export const FORECAST_LIMITS = {
  /** Shortest and longest history a model may read, in steps (its input's second dimension). */
  windowMin: 4,
  windowMax: 1024,
  /** A model file larger than this is refused before it is read (E_FORECAST_MODEL_TOO_LARGE). */
  modelBytesMax: 16 * 1024 * 1024,
  /** Shortest and longest step a service may configure. */
  stepMsMin: 1000,
  stepMsMax: 3_600_000,
  /** Largest allowed `peakMultipleMax`. */
  peakMultipleMaxMax: 1000,
} as const

export const FORECAST_DEFAULTS = {
  stepMs: FORECAST_MODEL.stepMs,
  /**
   * A forecast above this multiple of the highest rate in the model's input window is absurd
   * and ignored that round. Real flash crowds (World Cup 98 match starts) rise about 2× within
   * a minute; 4× leaves room for them and still catches a model gone wrong.
   */
  peakMultipleMax: 4,
  /**
   * The rate below which the window's peak is taken to be this (requests/s), so that a quiet
   * service forecasting a trickle after an idle window is not called absurd.
   */
  peakFloorPerS: 1,
  /** A forecast is used for at most this many steps after it was made; older, it is stale and ignored. */
  staleAfterSteps: 2,
} as const
