/**
 * The daemon's ports to the outside world besides the network: a container runtime and a
 * signal source. The Docker and process runtimes (node/runtime/) and the MQTT, Prometheus and
 * push signals (node/signals/) plug in here; with `runtime.kind: none` and no signals the
 * daemon runs with the null implementations below, stand-ins named as such: they observe
 * nothing and report nothing.
 */
import type { Capacity, SignalSample } from '../../protocol/index.js'
import type { ContainerAction, ObservedContainer } from '../core/reconcile.js'

export interface RuntimeObservation {
  containers: ObservedContainer[]
  /** false: the runtime is unreachable and `containers` is the last list known. */
  ok: boolean
}

export interface ContainerRuntime {
  /** Shown in status and logs, e.g. `docker`, `process`, `none`. */
  readonly name: string
  /** What runs now (containers labelled by agentmesh and anything else it can see). */
  observe: (signal: AbortSignal) => Promise<RuntimeObservation>
  /** Performs one action of the core. Throws on failure; the driver counts it and re-observes. */
  apply: (action: ContainerAction, signal: AbortSignal) => Promise<void>
  /** Calls `listener` when something changed behind the daemon's back (a container exited, say). */
  onChange?: (listener: () => void) => void
  start?: () => Promise<void>
  stop?: () => Promise<void>
}

export interface SamplesReading {
  signals: SignalSample[]
  /** undefined: the configured capacity. */
  capacity?: Capacity
}

export interface SignalSource {
  readonly name: string
  /** The latest readings, sampled now. Must not throw: a dead source reports old samples with their age. */
  sample: () => SamplesReading
  /** Called when a reading arrives or fails, so the driver can feed samples early. Returns the unsubscribe. */
  onChange?: (listener: () => void) => () => void
  start?: () => Promise<void>
  stop?: () => Promise<void>
}

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
