/**
 * The forecast port (types only): how the site leader's round (leader-round.ts) reaches a load
 * forecaster without leaving the core's synchronous, deterministic world.
 *
 * Each planning round the leader hands the port the site's arrival rate of every service that
 * has a `forecast` block (`observe`) and asks for the latest forecast that passed its checks
 * (`latest`). Evaluating a model is asynchronous (onnxruntime-node's `run`), so the shell does
 * it between rounds: the daemon as soon as a step of history closes, the simulator before the
 * next simulated event (it awaits each evaluation in simulated-time order). The answer the core
 * gets is therefore always one computed from history it handed over earlier; the core never
 * waits and never sees a promise. Implementations: node/forecast/forecast-runner.ts.
 */

export interface ForecastPort {
  /** The site's arrival rate of `service` this round, in requests/s (finite, ≥ 0). */
  observe: (service: string, ratePerS: number, nowMs: number) => void
  /**
   * The latest usable forecast of `service`'s mean arrival rate over the coming step, in
   * requests/s; undefined when there is none (warming up, no model, or a forecast that failed
   * its checks): the service then scales reactively this round.
   */
  latest: (service: string, nowMs: number) => number | undefined
}
