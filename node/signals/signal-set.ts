/**
 * Every signal of this host behind the daemon's port (`SignalSource` in node/core/ports.ts):
 * `sample()` reads each signal at the daemon's clock and never throws; `statuses()` gives each
 * signal's last value, age and errors for `/v1/status` and the metrics; `push()` is what the
 * HTTP API's `POST /v1/signals` calls.
 */
import type { SignalSample } from '../../protocol/index.js'
import type { SamplesReading, SignalSource } from '../core/ports.js'
import type { PushSignal } from './push-signal.js'
import { SIGNAL_DEFAULTS, SignalError, SignalErrorCode, type ServiceSignal, type SignalStatus } from './signal-source.js'

export interface SignalSetComponents {
  /** The daemon's clock, in ms: the same one the signals stamp their readings with. */
  clock: () => number
}

export interface SignalSetInit {
  signals: ServiceSignal[]
  /** Most signals accepted (the wire carries at most PROTOCOL_LIMITS.maxSignals per heartbeat). */
  signalsMax?: number
}

export class SignalSet implements SignalSource {
  readonly name: string
  private readonly signals: ServiceSignal[]

  constructor (init: SignalSetInit, private readonly c: SignalSetComponents) {
    const max = init.signalsMax ?? SIGNAL_DEFAULTS.signalsMax
    if (init.signals.length > max) throw new SignalError(SignalErrorCode.ConfigInvalid, `${init.signals.length} signals configured; at most ${max}`)
    this.signals = [...init.signals]
    this.name = [...new Set(this.signals.map(s => s.kind))].sort().join('+') || 'none'
  }

  async start (): Promise<void> {
    await Promise.all(this.signals.map(async s => await s.start()))
  }

  async stop (): Promise<void> {
    await Promise.allSettled(this.signals.map(async s => await s.stop()))
  }

  sample (): SamplesReading {
    const now = this.c.clock()
    const signals: SignalSample[] = []
    for (const s of this.signals) {
      const sample = s.sample(now)
      if (sample !== undefined) signals.push(sample)
    }
    return { signals }
  }

  statuses (): SignalStatus[] {
    const now = this.c.clock()
    return this.signals.map(s => s.status(now))
  }

  /**
   * Sets a pushed value. `E_SIGNAL_NOT_FOUND` when the service has no push signal (of that
   * upstream flag, and that `which` accepts: the caller's own distinction, by config index).
   */
  push (service: string, value: number, upstream = false, which: (index: number) => boolean = () => true): void {
    const target = this.signals.find((s, i): s is PushSignal => s.kind === 'push' && s.service === service && s.upstream === upstream && which(i))
    if (target === undefined) throw new SignalError(SignalErrorCode.NotFound, `no push signal for service ${service}${upstream ? ' (upstream)' : ''}`)
    target.set(value, this.c.clock())
  }

  /** Called when any signal changes (the daemon may feed samples early). Returns the unsubscribe. */
  onChange (listener: () => void): () => void {
    const offs = this.signals.map(s => s.onChange(listener))
    return () => { for (const off of offs) off() }
  }
}
