/**
 * The ports of a supervisor shell, beside the core they feed (types only, no code): the
 * network (Transport), a container runtime and a signal source. The daemon's adapters plug in
 * here: libp2p (node/daemon/mesh.ts), the Docker and process runtimes (node/runtime/), the
 * MQTT, Prometheus and push signals (node/signals/); with `runtime.kind: none` and no signals
 * the daemon uses the stand-ins of node/daemon/null-ports.ts. Adapters import these types
 * from here, never from the daemon.
 */
import type { Capacity, Message, SignalSample } from '../../protocol/index.js'
import type { Topic } from './core-io.js'
import type { ContainerAction, ObservedContainer } from './reconcile.js'

/** The network as the driver needs it (the libp2p Mesh, or a fake in tests). */
export interface Transport {
  publish: (topic: Topic, message: Message) => void
  /** A member's dialable addresses, from its heartbeat. */
  noteHost: (hostId: string, addrs: readonly string[]) => void
  /** A member was reaped: stop dialling it. */
  forgetHost: (hostId: string) => void
  /** The leader this host follows and its addresses (from its digest): stay connected to it. */
  noteLeader?: (hostId: string, addrs: readonly string[]) => void
  /** This host leads its site, or stopped: receive the `leader` topic, or stop. */
  setLeading?: (on: boolean) => void
}

export interface RuntimeObservation {
  containers: ObservedContainer[]
  /** false: the runtime is unreachable and `containers` is the last list known. */
  ok: boolean
  /**
   * Services this host cannot start now although its runtime answers (their secrets cannot be
   * read, say), sorted. Absent: none.
   */
  unavailable?: string[]
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
