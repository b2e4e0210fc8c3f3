/**
 * A pushed signal: the value is set from outside, by `POST /v1/signals` on the daemon's HTTP
 * API (bearer token; the route is the daemon's), through `SignalSet.push`. The age is the time
 * since the last push, so a pusher that stops makes the signal stale, as a dead broker would.
 */
import type { SignalSample } from '../../protocol/index.js'
import {
  Reading, SignalError, checkCommon, checkValue, reportProblems,
  type ServiceSignal, type SignalStatus,
} from './signal-source.js'

export interface PushSignalInit {
  service: string
  upstream?: boolean
}

export interface PushSignal extends ServiceSignal {
  /** Sets the value read at `nowMs`; `E_SIGNAL_VALUE_INVALID` for a non-finite or negative one (counted). */
  set: (value: number, nowMs: number) => void
}

export function createPushSignal (init: PushSignalInit): PushSignal {
  const problems: string[] = []
  checkCommon(init, problems)
  reportProblems(`push signal for ${String(init.service)}`, problems)
  const reading = new Reading()
  const service = init.service
  const upstream = init.upstream ?? false
  return {
    kind: 'push',
    service,
    upstream,
    start: async () => {},
    stop: async () => {},
    set (value: number, nowMs: number): void {
      try {
        reading.good(checkValue(value, `pushed value for ${service}`), nowMs)
      } catch (err) {
        reading.failed(err as SignalError, nowMs)
        throw err
      }
    },
    sample: (nowMs: number): SignalSample | undefined => reading.sample(service, upstream, nowMs),
    status: (nowMs: number): SignalStatus => reading.status({ service, kind: 'push', upstream }, nowMs),
    onChange: (listener) => reading.onChange(listener),
  }
}
