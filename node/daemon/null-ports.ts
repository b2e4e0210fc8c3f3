/**
 * Stand-ins for the daemon's ports (node/core/ports.ts) on a host configured with
 * `runtime.kind: none` and no signals: named as such, they observe nothing and report nothing.
 */
import type { ContainerRuntime, RuntimeObservation, SamplesReading, SignalSource } from '../core/ports.js'

/**
 * NULL RUNTIME (a stand-in): observes no container and performs no action. The plan is still
 * computed, adopted and shown; the actions the core asks for are counted as `skipped`.
 */
export class NullRuntime implements ContainerRuntime {
  readonly name = 'none'
  async observe (): Promise<RuntimeObservation> { return { containers: [], ok: true } }
  async apply (): Promise<void> {}
}

/** NO SIGNALS (a stand-in): reports no sample, so every service fails static at its bounds. */
export class NoSignals implements SignalSource {
  readonly name = 'none'
  sample (): SamplesReading { return { signals: [] } }
}
