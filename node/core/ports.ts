/**
 * The ports of a supervisor shell, beside the core they feed (types only, no code): the
 * network (Transport), a container runtime and a signal source. The daemon's adapters plug in
 * here: libp2p (node/daemon/mesh.ts), the Docker and process runtimes (node/runtime/), the
 * MQTT, Prometheus and push signals (node/signals/); with `runtime.kind: none` and no signals
 * the daemon uses the stand-ins of node/daemon/null-ports.ts. Adapters import these types
 * from here, never from the daemon.
 *
 * The simulator implements the same ports (sim/simulated-runtime.ts, sim/simulated-transport.ts),
 * and one contract suite per port (test/contracts/, docs/contracts.md) runs against both shells.
 * The simulator runs in one synchronous event loop: its runtime answers at once, so the
 * runtime's calls may return a plain value where the daemon's return a promise (`Awaitable`).
 * A caller awaits either; the simulator relies on the plain value.
 */
import type { Capacity, Message, SignalSample } from '../../protocol/index.js'
import type { Topic } from './core-io.js'
import type { ContainerAction, ObservedContainer } from './reconcile.js'

/** A value, or a promise of it: what a port answers at once in the simulator and later in the daemon. */
export type Awaitable<T> = T | Promise<T>

/** Receives one message another host published on a topic this host subscribes to. */
export type MessageListener = (topic: Topic, message: Message) => void

/**
 * The network as the driver needs it (the libp2p Mesh, or the simulator's gossip). Every host
 * subscribes to its site's topic and to the global topic. A message published on `site`
 * reaches the other hosts of the publisher's site and no other site; one on `global` reaches
 * hosts of every site; the publisher never receives its own (gossipsub's emitSelf is off).
 */
export interface Transport {
  /**
   * Never throws: a message that cannot be sent is dropped and reported by the transport.
   * `to` (a host of this site, on the site topic): only that host needs it; the transport may
   * deliver it to that host alone, or to the whole topic when it cannot reach the host directly.
   */
  publish: (topic: Topic, message: Message, to?: string) => void
  /** Calls `listener` with every message received, decoded and checked. Returns the unsubscribe. */
  onMessage: (listener: MessageListener) => () => void
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
  observe: (signal: AbortSignal) => Awaitable<RuntimeObservation>
  /**
   * Performs one action of the core. Throws (or rejects) with a coded error on failure
   * (`RuntimePortErrorCode`, or the preparer's own such as E_VAULT_*); the driver counts it and
   * re-observes. Stopping or removing a container that is already gone is not a failure.
   */
  apply: (action: ContainerAction, signal: AbortSignal) => Awaitable<void>
  /** Calls `listener` when something changed behind the daemon's back (a container exited, say). */
  onChange?: (listener: () => void) => void
  start?: () => Promise<void>
  stop?: () => Promise<void>
}

/**
 * Codes a runtime's `apply` fails with that both shells share (node/runtime's RuntimeErrorCode
 * has these and more). Branch on the code, never on the message.
 */
export type RuntimePortErrorCode =
  /** A start names a service this host has no spec for. */
  | 'E_RUNTIME_UNKNOWN_SERVICE'
  /** The runtime refused or failed to start the agent. */
  | 'E_RUNTIME_START_FAILED'
  /** The runtime cannot be reached. */
  | 'E_RUNTIME_UNAVAILABLE'

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
