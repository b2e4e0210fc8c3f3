/**
 * The Docker runtime (dockerode): agents as containers on the local engine.
 *
 * - Every container is created with the owner labels, the spec's env, NanoCpus/Memory limits,
 *   restart policy and network mode `host` or `none` (never the default bridge).
 * - `observe` lists by the `agentmesh.service` label filter (plus `scopeLabels`), so nothing
 *   unlabelled is ever listed; stop and remove inspect first and refuse what is not labelled.
 * - The event stream (`/events`, container events with our label) calls the change listeners,
 *   so the driver re-observes at once; it reconnects with capped exponential backoff and calls
 *   the listeners again after a reconnect, since events may have been missed meanwhile.
 * - Connection failures (no socket, refused, reset, a call past its time limit) become
 *   `E_RUNTIME_UNAVAILABLE`; the driver retries and reports `runtimeOk: false`.
 *
 * The engine on Debian 12 is 20.10 (API 1.41) while current clients speak newer versions, so
 * the API version is pinned (`apiVersion`, default v1.41; newer engines accept older versions).
 */
import type Docker from 'dockerode'
import { pino, type Logger } from 'pino'
import { OWNER_LABELS, type ContainerState, type ObservedContainer } from '../core/reconcile.js'
import {
  RUNTIME_DEFAULTS, RuntimeError, RuntimeErrorCode, SECRETS_DIR_ENV, hasServiceLabel, throwIfAborted, validateAgentSpec, withTimeout,
  type AgentRuntime, type AgentSpec, type RuntimeChangeListener,
} from './container-runtime.js'

export interface DockerRuntimeInit {
  /** Unix socket of the engine. Default `/var/run/docker.sock` (or DOCKER_HOST's, via dockerode). */
  socketPath?: string
  /** Pinned API version. Default `RUNTIME_DEFAULTS.dockerApiVersion`. */
  apiVersion?: string
  /** Bound on one API call, ms. */
  callTimeoutMs?: number
  /** `missing`: pull an image that is not on the host (bounded by `pullTimeoutMs`); `never`: refuse. */
  pullPolicy?: 'missing' | 'never'
  pullTimeoutMs?: number
  /** Only containers carrying all of these labels are listed too (one supervisor per label set on a shared engine; tests). */
  scopeLabels?: Readonly<Record<string, string>>
  /** Event-stream reconnect backoff bounds, ms. */
  eventReconnectMsMin?: number
  eventReconnectMsMax?: number
  /** Container names are `PREFIX-SERVICE-RANDOM`. Default `agentmesh`. */
  namePrefix?: string
}

export interface DockerRuntimeComponents {
  log?: Logger
  /** For tests: an already configured client (the init's socket and version are then ignored). */
  docker?: Docker
}

/** Connection-level failures: the engine is not there, not the request that is wrong. */
const UNAVAILABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EACCES', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ENOTCONN', 'ECONNABORTED', 'UND_ERR_SOCKET'])

/** Docker's container states mapped to the core's three. */
export function mapDockerState (state: string): ContainerState {
  switch (state) {
    case 'running':
    case 'paused': // still holds its slot and its work; the plan decides whether it stays
      return 'running'
    case 'created':
    case 'restarting': // a restart policy is bringing it back: not gone, not yet serving
      return 'starting'
    default: // exited, dead, removing, and anything a newer engine invents
      return 'exited'
  }
}

export function createDockerRuntime (init: DockerRuntimeInit = {}, components: DockerRuntimeComponents = {}): AgentRuntime {
  return new DockerRuntime(init, components)
}

class DockerRuntime implements AgentRuntime {
  readonly kind = 'docker'
  /** Loaded on first use: dockerode and its dependencies add about 27 MB to a supervisor that never runs a container. */
  private docker: Promise<Docker> | undefined
  private readonly injected: Docker | undefined
  private readonly log: Logger
  private readonly callTimeoutMs: number
  private readonly listeners = new Set<RuntimeChangeListener>()
  private readonly labelFilter: string[]
  private events: NodeJS.ReadableStream | undefined
  private eventsAbort: AbortController | undefined
  private reconnectTimer: NodeJS.Timeout | undefined
  private reconnectDelayMs: number
  private running = false

  constructor (private readonly init: DockerRuntimeInit, components: DockerRuntimeComponents) {
    this.injected = components.docker
    this.log = components.log ?? pino({ level: 'silent' })
    this.callTimeoutMs = init.callTimeoutMs ?? RUNTIME_DEFAULTS.dockerCallTimeoutMs
    this.reconnectDelayMs = this.reconnectMsMin
    this.labelFilter = [OWNER_LABELS.service, ...Object.entries(init.scopeLabels ?? {}).map(([k, v]) => `${k}=${v}`)]
  }

  private async engine (): Promise<Docker> {
    this.docker ??= this.injected !== undefined
      ? Promise.resolve(this.injected)
      : import('dockerode').then(({ default: DockerClient }) => new DockerClient({
        ...(this.init.socketPath === undefined ? {} : { socketPath: this.init.socketPath }),
        version: this.init.apiVersion ?? RUNTIME_DEFAULTS.dockerApiVersion,
      }))
    return await this.docker
  }

  private get reconnectMsMin (): number { return this.init.eventReconnectMsMin ?? RUNTIME_DEFAULTS.eventReconnectMsMin }
  private get reconnectMsMax (): number { return this.init.eventReconnectMsMax ?? RUNTIME_DEFAULTS.eventReconnectMsMax }

  async start (): Promise<void> {
    if (this.running) return
    this.running = true
    // The stream is opened in the background: an engine that is down at start is not an error
    // of the supervisor, only a runtime that reports unavailable until it comes back.
    this.openEvents()
  }

  async stop (): Promise<void> {
    this.running = false
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    this.eventsAbort?.abort()
    const events = this.events as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined
    events?.destroy?.()
    this.events = undefined
  }

  onChange (listener: RuntimeChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async observe (signal?: AbortSignal): Promise<ObservedContainer[]> {
    const list = await this.call('list containers', signal, async (s) =>
      await (await this.engine()).listContainers({ all: true, filters: { label: this.labelFilter }, abortSignal: s } as Docker.ContainerListOptions))
    const observed: ObservedContainer[] = []
    for (const c of list) {
      if (!hasServiceLabel(c.Labels)) continue // the filter already did this; kept as a second lock
      observed.push({ id: c.Id, labels: { ...c.Labels }, state: mapDockerState(c.State), createdAt: c.Created * 1000 })
    }
    return observed
  }

  async startAgent (spec: AgentSpec, labels: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<string> {
    validateAgentSpec(spec, labels)
    const options = this.createOptions(spec, labels)
    const create = async (): Promise<Docker.Container> =>
      await this.call('create container', signal, async (s) => await (await this.engine()).createContainer({ ...options, abortSignal: s } as Docker.ContainerCreateOptions))
    let container: Docker.Container
    try {
      container = await create()
    } catch (err) {
      if (!isNoSuchImage(err)) throw asStartFailure(err, spec)
      await this.pullOrRefuse(spec.image, signal, err)
      container = await create().catch((e: unknown) => { throw asStartFailure(e, spec) })
    }
    try {
      await this.call('start container', signal, async (s) => await container.start({ abortSignal: s } as Docker.ContainerStartOptions))
    } catch (err) {
      // Never leave a created-but-not-started container behind: it would be an orphan.
      await this.call('remove container', undefined, async (s) => await container.remove({ force: true, abortSignal: s })).catch(() => {})
      throw asStartFailure(err, spec)
    }
    this.log.info({ id: container.id, service: spec.service }, 'agent container started')
    return container.id
  }

  async stopAgent (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (!await this.ownedOrGone(id, signal)) return
    const graceS = Math.ceil(Math.min(timeoutMs, RUNTIME_DEFAULTS.stopTimeoutMsMax) / 1000)
    const container = (await this.engine()).getContainer(id)
    // The stop call lasts as long as the grace: its time limit is the grace plus the usual bound.
    await this.call('stop container', signal, async (s) => await container.stop({ t: graceS, abortSignal: s } as Docker.ContainerStopOptions), this.callTimeoutMs + graceS * 1000)
      .catch((err: unknown) => { if (!isGoneOrStopped(err)) throw asStopFailure(err, id) })
    await this.call('remove container', signal, async (s) => await container.remove({ force: true, abortSignal: s }))
      .catch((err: unknown) => { if (!isGoneOrStopped(err)) throw asStopFailure(err, id) })
  }

  async removeAgent (id: string, signal?: AbortSignal): Promise<void> {
    if (!await this.ownedOrGone(id, signal)) return
    await this.call('remove container', signal, async (s) => await (await this.engine()).getContainer(id).remove({ force: true, abortSignal: s }))
      .catch((err: unknown) => { if (!isGoneOrStopped(err)) throw asStopFailure(err, id) })
  }

  /** false: already gone. Throws `E_RUNTIME_NOT_OWNED` for anything without our label. */
  private async ownedOrGone (id: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const info = await this.call('inspect container', signal, async (s) => await (await this.engine()).getContainer(id).inspect({ abortSignal: s } as Docker.ContainerInspectOptions))
      if (!hasServiceLabel(info.Config.Labels)) throw new RuntimeError(RuntimeErrorCode.NotOwned, `container ${id} has no agentmesh.service label: not ours, not touched`)
      return true
    } catch (err) {
      if (statusOf(err) === 404) return false
      throw err
    }
  }

  private createOptions (spec: AgentSpec, labels: Readonly<Record<string, string>>): Docker.ContainerCreateOptions {
    const prefix = this.init.namePrefix ?? 'agentmesh'
    const safeService = spec.service.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, 64)
    const files = spec.secretFiles
    const env = files === undefined ? spec.env : { ...spec.env, [SECRETS_DIR_ENV]: files.containerDir }
    return {
      name: `${prefix}-${safeService}-${Math.random().toString(16).slice(2, 10)}`,
      Image: spec.image,
      ...(spec.command === undefined ? {} : { Cmd: [...spec.command] }),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { ...labels },
      StopTimeout: Math.ceil(spec.stopTimeoutMs / 1000),
      HostConfig: {
        NetworkMode: spec.networkMode,
        // Secret files: a folder on the host's tmpfs, read-only in the container (so on a tmpfs
        // there too, never in the container's writable layer on disk).
        ...(files === undefined ? {} : { Mounts: [{ Type: 'bind', Source: files.hostDir, Target: files.containerDir, ReadOnly: true }] }),
        RestartPolicy: { Name: spec.restartPolicy === 'no' ? '' : spec.restartPolicy },
        ...(spec.cpuMillis === undefined ? {} : { NanoCpus: spec.cpuMillis * 1_000_000 }),
        ...(spec.memoryMib === undefined ? {} : { Memory: spec.memoryMib * 1024 * 1024 }),
      },
    }
  }

  private async pullOrRefuse (image: string, signal: AbortSignal | undefined, cause: unknown): Promise<void> {
    if ((this.init.pullPolicy ?? 'missing') === 'never') {
      throw new RuntimeError(RuntimeErrorCode.ImageMissing, `image ${image} is not on this host (pullPolicy never)`, { cause })
    }
    try {
      await this.call('pull image', signal, async (s) => {
        const docker = await this.engine()
        const stream = await docker.pull(image, { abortSignal: s })
        await new Promise<void>((resolve, reject) => {
          docker.modem.followProgress(stream, (err: Error | null) => { err === null ? resolve() : reject(err) })
        })
      }, this.init.pullTimeoutMs ?? 5 * 60_000)
    } catch (err) {
      if (err instanceof RuntimeError && (err.code === RuntimeErrorCode.Unavailable || err.code === RuntimeErrorCode.Aborted)) throw err
      throw new RuntimeError(RuntimeErrorCode.ImageMissing, `image ${image} is not on this host and could not be pulled`, { cause: err })
    }
  }

  /** One API call, bounded, with its failure classified. */
  private async call<T> (what: string, signal: AbortSignal | undefined, fn: (s: AbortSignal) => Promise<T>, timeoutMs = this.callTimeoutMs): Promise<T> {
    throwIfAborted(signal)
    const bounded = withTimeout(signal, timeoutMs)
    try {
      return await fn(bounded)
    } catch (err) {
      throw classify(err, what, signal, bounded)
    }
  }

  private emitChange (): void {
    for (const l of [...this.listeners]) {
      try { l() } catch (err) { this.log.warn({ err: (err as Error).message }, 'runtime change listener threw') }
    }
  }

  private openEvents (): void {
    if (!this.running) return
    const abort = new AbortController()
    this.eventsAbort = abort
    const opts = { filters: { type: ['container'], label: this.labelFilter }, abortSignal: abort.signal }
    this.engine().then(async (docker) => await docker.getEvents(opts as Docker.GetEventsOptions)).then((stream) => {
      if (!this.running) { (stream as NodeJS.ReadableStream & { destroy: () => void }).destroy(); return }
      this.events = stream
      this.reconnectDelayMs = this.reconnectMsMin
      this.log.debug('docker event stream open')
      // Events may have been missed while the stream was down: re-observe now.
      this.emitChange()
      stream.on('data', () => this.emitChange())
      stream.on('error', (err: Error) => this.log.debug({ err: err.message }, 'docker event stream error'))
      stream.on('close', () => this.eventsEnded(stream))
      stream.on('end', () => this.eventsEnded(stream))
    }, (err: Error) => {
      this.log.debug({ err: err.message }, 'docker event stream could not open')
      this.eventsEnded(undefined)
    })
  }

  private eventsEnded (stream: NodeJS.ReadableStream | undefined): void {
    if (stream !== undefined && stream !== this.events) return // an old stream's late close
    this.events = undefined
    if (!this.running || this.reconnectTimer !== undefined) return
    const delay = this.reconnectDelayMs
    this.reconnectDelayMs = Math.min(this.reconnectMsMax, this.reconnectDelayMs * 2)
    // Something may have changed and the engine may be gone: let the driver find out.
    this.emitChange()
    this.reconnectTimer = setTimeout(() => { this.reconnectTimer = undefined; this.openEvents() }, delay)
  }
}

/** The HTTP status of a Docker answer, looking through our own wrapping. */
function statusOf (err: unknown): number | undefined {
  const inner = err instanceof RuntimeError ? err.cause : err
  const s = (inner as { statusCode?: unknown } | null)?.statusCode
  return typeof s === 'number' ? s : undefined
}

function isNoSuchImage (err: unknown): boolean {
  return statusOf(err) === 404
}

function isGoneOrStopped (err: unknown): boolean {
  const cause = err instanceof RuntimeError ? err.cause : err
  const s = statusOf(err)
  // 404: already removed. 304: already stopped. 409: removal already in progress.
  return s === 404 || s === 304 || (s === 409 && /already in progress/i.test(String((cause as Error).message)))
}

function classify (err: unknown, what: string, callerSignal: AbortSignal | undefined, bounded: AbortSignal): RuntimeError {
  if (err instanceof RuntimeError) return err
  if (callerSignal?.aborted === true) return new RuntimeError(RuntimeErrorCode.Aborted, `${what}: aborted by the caller`, { cause: err })
  if (bounded.aborted) return new RuntimeError(RuntimeErrorCode.Unavailable, `${what}: the Docker engine did not answer in time`, { cause: err })
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) {
    return new RuntimeError(RuntimeErrorCode.Unavailable, `${what}: the Docker engine is unreachable (${code})`, { cause: err })
  }
  const message = (err as Error | null)?.message ?? String(err)
  return new RuntimeError(RuntimeErrorCode.Failed, `${what}: ${message}`, { cause: err })
}

function asStartFailure (err: unknown, spec: AgentSpec): RuntimeError {
  if (err instanceof RuntimeError && err.code !== RuntimeErrorCode.Failed) return err
  const cause = err instanceof RuntimeError ? err.cause : err
  return new RuntimeError(RuntimeErrorCode.StartFailed, `could not start an agent of ${spec.service}: ${(cause as Error).message}`, { cause })
}

function asStopFailure (err: unknown, id: string): RuntimeError {
  if (err instanceof RuntimeError && err.code !== RuntimeErrorCode.Failed) return err
  const cause = err instanceof RuntimeError ? err.cause : err
  return new RuntimeError(RuntimeErrorCode.StopFailed, `could not stop or remove container ${id}: ${(cause as Error).message}`, { cause })
}
