/**
 * The container-runtime port: what runs agents on this host (Docker, or child processes on
 * hosts without an engine). The core decides (node/core/reconcile.ts); a runtime only lists
 * what it runs and starts, stops or removes one agent when told.
 *
 * The daemon's own port (`ContainerRuntime` in node/core/ports.ts: `observe` + `apply`) is
 * one level up: `RuntimeDriver` (runtime-driver.ts) implements it on top of an `AgentRuntime`,
 * adding the service specs, the owner labels, the backoff and the metrics. This port is named
 * `AgentRuntime` so the two never collide in one import list.
 *
 * Ownership rule, enforced here and not only in the core: a runtime lists only containers that
 * carry a non-empty `agentmesh.service` label, and refuses to stop or remove anything else
 * (`E_RUNTIME_NOT_OWNED`). An unlabelled container can therefore never be acted on, whatever
 * the caller does.
 */
import { CodedError } from '../../protocol/errors.js'
import type { RuntimePortErrorCode } from '../core/ports.js'
import { OWNER_LABELS, type ObservedContainer } from '../core/reconcile.js'

export type RestartPolicy = 'no' | 'on-failure' | 'unless-stopped' | 'always'
/** Never `bridge`: agents reach their broker on the host's network, or have no network at all. */
export type NetworkMode = 'host' | 'none'

/** How to run one replica of a service. Built by the daemon from the service's config. */
export interface AgentSpec {
  service: string
  /** Docker image. The process runtime ignores it (see process-runtime.ts). */
  image: string
  /** Replaces the image's CMD; for the process runtime, the argv to run (argv[0] resolved on PATH). */
  command?: string[]
  env: Readonly<Record<string, string>>
  /** CPU limit in thousandths of a CPU (1000 = one CPU). Undefined: no limit. */
  cpuMillis?: number
  /** Memory limit in MiB. Undefined: no limit. */
  memoryMib?: number
  restartPolicy: RestartPolicy
  networkMode: NetworkMode
  /** Grace between the polite stop (SIGTERM) and the kill. */
  stopTimeoutMs: number
  /** Docker: where the agent's secret files appear inside its container (default /run/secrets). */
  secretsPath?: string
  /**
   * Set for one start by the secrets (node/secrets/agent-secrets.ts): a folder on a host tmpfs
   * holding this agent's secret files. Docker bind-mounts `hostDir` read-only at `containerDir`;
   * both runtimes tell the agent where the files are in AGENTMESH_SECRETS_DIR.
   */
  secretFiles?: { hostDir: string, containerDir: string }
}

/** The environment variable naming an agent's secret files folder (as the agent sees it). */
export const SECRETS_DIR_ENV = 'AGENTMESH_SECRETS_DIR'

/** A listener for runtime events (a container started, died, was removed behind our back). */
export type RuntimeChangeListener = () => void

/**
 * One runtime. Every async call takes an AbortSignal; a call past its time limit fails with
 * `E_RUNTIME_UNAVAILABLE` (an engine that does not answer is as good as absent).
 */
export interface AgentRuntime {
  /** `docker` or `process`. */
  readonly kind: string
  /** Opens the event stream (Docker) or loads the state file and adopts children (process). */
  start: (signal?: AbortSignal) => Promise<void>
  /** Closes the event stream; agents keep running (a restarted supervisor adopts them). */
  stop: () => Promise<void>
  /** Everything labelled `agentmesh.service` that this runtime can see, in any state. */
  observe: (signal?: AbortSignal) => Promise<ObservedContainer[]>
  /** Starts one agent with these labels; resolves to its id once it was started. */
  startAgent: (spec: AgentSpec, labels: Readonly<Record<string, string>>, signal?: AbortSignal) => Promise<string>
  /** Stops politely, kills after `timeoutMs`, then removes. An id already gone is not an error. */
  stopAgent: (id: string, timeoutMs: number, signal?: AbortSignal) => Promise<void>
  /** Removes at once (killing it if it still runs). An id already gone is not an error. */
  removeAgent: (id: string, signal?: AbortSignal) => Promise<void>
  /** Called on every runtime event worth a fresh observation. Returns the unsubscribe. */
  onChange: (listener: RuntimeChangeListener) => () => void
}

/** Stable codes of the runtime errors: branch on these, never on messages. */
export const RuntimeErrorCode = {
  /** The engine cannot be reached (no socket, refused, reset, timed out). Retry with backoff. */
  Unavailable: 'E_RUNTIME_UNAVAILABLE',
  /** The image is not on this host and could not be pulled. */
  ImageMissing: 'E_RUNTIME_IMAGE_MISSING',
  /** The engine refused to create or start the agent (bad command, limits, spawn failure). */
  StartFailed: 'E_RUNTIME_START_FAILED',
  /** The engine failed to stop or remove an agent. */
  StopFailed: 'E_RUNTIME_STOP_FAILED',
  /** The id names something without the `agentmesh.service` label: it is never touched. */
  NotOwned: 'E_RUNTIME_NOT_OWNED',
  /** The spec or the labels break a rule (bridge network, negative limit, missing label). */
  SpecInvalid: 'E_RUNTIME_SPEC_INVALID',
  /** A start action names a service without a spec. */
  UnknownService: 'E_RUNTIME_UNKNOWN_SERVICE',
  /** A named limit was reached (the process runtime's child count, say). */
  Limit: 'E_RUNTIME_LIMIT',
  /** The caller's AbortSignal fired. */
  Aborted: 'E_RUNTIME_ABORTED',
  /** The runtime's state (the process runtime's state file) could not be read or written. */
  StateIo: 'E_RUNTIME_STATE_IO',
  /** Any other answer of the engine we did not expect. */
  Failed: 'E_RUNTIME_FAILED',
} as const

export type RuntimeErrorCode = typeof RuntimeErrorCode[keyof typeof RuntimeErrorCode]

/** The codes the port promises (node/core/ports.ts) are these, spelled the same: checked by the compiler. */
export const PORT_ERROR_CODES: readonly RuntimePortErrorCode[] = [RuntimeErrorCode.UnknownService, RuntimeErrorCode.StartFailed, RuntimeErrorCode.Unavailable]

export class RuntimeError extends CodedError<RuntimeErrorCode> {
  override readonly name = 'RuntimeError'
}

/** Every runtime limit and interval, with its default, in one place. */
export const RUNTIME_DEFAULTS = {
  /** Docker API version spoken (Debian's engine 20.10 speaks 1.41; newer engines accept it). */
  dockerApiVersion: 'v1.41',
  /** Bound on one Docker API call (a stop adds its own grace on top). */
  dockerCallTimeoutMs: 30_000,
  /** Event-stream reconnect backoff: first delay and cap (doubling in between). */
  eventReconnectMsMin: 250,
  eventReconnectMsMax: 30_000,
  /** Observation retry backoff while the runtime is unavailable: first delay and cap. */
  observeRetryMsMin: 250,
  observeRetryMsMax: 30_000,
  /** The standalone reconcile loop re-observes at least this often. */
  resyncIntervalMs: 10_000,
  /** Largest grace a stop may ask for; longer asks are cut to this. */
  stopTimeoutMsMax: 300_000,
  /** Starts awaiting their first 'running' observation (for the latency metric); oldest dropped. */
  pendingStartsMax: 1_024,
  /** The process runtime refuses to run more children than this. */
  processChildrenMax: 256,
  /** How often a stop polls an adopted (not our child) process for its exit. */
  processExitPollMs: 50,
  /** Largest process-runtime state file read at start (a bigger one is refused). */
  processStateFileBytesMax: 4 * 1024 * 1024,
  /** Largest label set accepted on one agent. */
  labelsMax: 64,
} as const

// Relations between limits, checked once at load: a bug here is ours, not the user's.
if (RUNTIME_DEFAULTS.observeRetryMsMin > RUNTIME_DEFAULTS.observeRetryMsMax ||
  RUNTIME_DEFAULTS.eventReconnectMsMin > RUNTIME_DEFAULTS.eventReconnectMsMax) {
  throw new Error('RUNTIME_DEFAULTS: a backoff minimum is above its maximum')
}

/** True when the container carries the label every agentmesh container has. */
export function hasServiceLabel (labels: Readonly<Record<string, string>> | undefined | null): boolean {
  const service = labels?.[OWNER_LABELS.service]
  return typeof service === 'string' && service !== ''
}

/** The owner labels of one new agent, plus any extra labels the operator asked for. */
export function ownerLabels (input: { service: string, site: string, hostId: string, term: number }, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    ...extra,
    [OWNER_LABELS.service]: input.service,
    [OWNER_LABELS.site]: input.site,
    [OWNER_LABELS.host]: input.hostId,
    [OWNER_LABELS.term]: String(input.term),
  }
}

/** Checks a spec and its labels; every problem at once, in one `E_RUNTIME_SPEC_INVALID`. */
export function validateAgentSpec (spec: AgentSpec, labels: Readonly<Record<string, string>>): void {
  const problems: string[] = []
  if (spec.service === '') problems.push('service is empty')
  if (labels[OWNER_LABELS.service] !== spec.service) problems.push(`label ${OWNER_LABELS.service} must equal the service "${spec.service}"`)
  if (Object.keys(labels).length > RUNTIME_DEFAULTS.labelsMax) problems.push(`more than ${RUNTIME_DEFAULTS.labelsMax} labels`)
  if (spec.networkMode !== 'host' && spec.networkMode !== 'none') problems.push(`networkMode must be host or none, got ${String(spec.networkMode)}`)
  if (!['no', 'on-failure', 'unless-stopped', 'always'].includes(spec.restartPolicy)) problems.push(`restartPolicy ${String(spec.restartPolicy)} is unknown`)
  if (spec.cpuMillis !== undefined && !(Number.isInteger(spec.cpuMillis) && spec.cpuMillis > 0)) problems.push('cpuMillis must be a positive integer')
  if (spec.memoryMib !== undefined && !(Number.isInteger(spec.memoryMib) && spec.memoryMib >= 6)) problems.push('memoryMib must be an integer of at least 6 (Docker\'s minimum)')
  if (!(Number.isFinite(spec.stopTimeoutMs) && spec.stopTimeoutMs >= 0)) problems.push('stopTimeoutMs must be a non-negative number')
  if (spec.command !== undefined && (spec.command.length === 0 || spec.command.some(a => typeof a !== 'string'))) problems.push('command must be a non-empty list of strings')
  for (const k of Object.keys(spec.env)) if (k === '' || k.includes('=')) problems.push(`env name "${k}" is invalid`)
  if (spec.secretsPath !== undefined && !isAbsolutePath(spec.secretsPath)) problems.push(`secretsPath must be an absolute path other than /, got ${spec.secretsPath}`)
  if (spec.secretFiles !== undefined && (!isAbsolutePath(spec.secretFiles.hostDir) || !isAbsolutePath(spec.secretFiles.containerDir))) problems.push('secretFiles needs absolute paths')
  if (problems.length > 0) throw new RuntimeError(RuntimeErrorCode.SpecInvalid, `agent spec for ${spec.service}: ${problems.join('; ')}`)
}

function isAbsolutePath (p: string): boolean {
  return p.startsWith('/') && p !== '/' && !p.split('/').includes('..')
}

/** An AbortSignal that fires when the caller's fires or after `timeoutMs`, whichever is first. */
export function withTimeout (signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

/** Throws `E_RUNTIME_ABORTED` when the caller gave up. */
export function throwIfAborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new RuntimeError(RuntimeErrorCode.Aborted, 'aborted by the caller', { cause: signal.reason })
}
