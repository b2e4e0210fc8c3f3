/**
 * Builds the daemon's two workload ports from its config: the container runtime (Docker,
 * child processes, or the null stand-in) behind a `RuntimeDriver`, and the host's signals
 * behind a `SignalSet`. Also maps what they report to the daemon's metrics and status.
 *
 * The Docker runtime lists only containers labelled for this host and site
 * (`agentmesh.host`, `agentmesh.site`), so several supervisors can share one engine (the demo,
 * the tests) and none ever sees, adopts or removes another's agents.
 */
import { join } from 'node:path'
import type { Logger } from 'pino'
import { OWNER_LABELS } from '../core/reconcile.js'
import { parseOverflowName } from '../core/spill.js'
import { createDockerRuntime, createProcessRuntime, RuntimeDriver, type AgentSpec, type RuntimeMetricsSink, type RuntimeStatus } from '../runtime/index.js'
import { createSignal, SignalError, SignalErrorCode, SignalSet, type ServiceSignal, type SignalStatus } from '../signals/index.js'
import type { DaemonConfig } from './config.js'
import type { SignalMeasure, SignalScope } from './config-workload.js'
import type { DaemonMetrics } from './metrics.js'
import type { AgentSecrets } from '../secrets/agent-secrets.js'
import type { ContainerRuntime, SamplesReading, SignalSource } from '../core/ports.js'
import { NoSignals, NullRuntime } from './null-ports.js'

/** A runtime port that can also say how it is doing (the null runtime cannot). */
export type StatusRuntime = ContainerRuntime & { status?: () => RuntimeStatus }

/** Environment every agent receives on top of its service's `agent.env`. */
/** Set for a replica that runs another site's overflow (core/spill.ts): the site whose queue it drains. */
export const SPILL_FROM_ENV = 'AGENTMESH_SPILL_FROM_SITE'

export function agentEnv (config: DaemonConfig, service: string): Record<string, string> {
  return { AGENTMESH_SERVICE: service, AGENTMESH_SITE: config.site, AGENTMESH_HOST: config.hostId }
}

/** Builds the runtime; with `secrets` (a vault section), every start gets its service's secrets first. */
export function buildRuntime (config: DaemonConfig, log: Logger, metrics: DaemonMetrics, secrets?: AgentSecrets): StatusRuntime {
  const kind = config.runtime.kind
  if (kind === 'none') return new NullRuntime()
  const runtime = kind === 'docker'
    ? createDockerRuntime({
      socketPath: config.runtime.dockerSocket,
      scopeLabels: { [OWNER_LABELS.host]: config.hostId, [OWNER_LABELS.site]: config.site },
    }, { log })
    : createProcessRuntime({ stateDir: join(config.dataDir, 'agents') }, { log })
  const specFor = (service: string): AgentSpec | undefined => {
    // Another site's overflow (`service@origin`, core/spill.ts) runs the service's own agent,
    // told which site's queue to drain.
    const overflow = parseOverflowName(service)
    const name = overflow?.service ?? service
    const spec = config.agents[name]
    if (spec === undefined) return undefined
    return { ...spec, env: { ...spec.env, ...agentEnv(config, name), ...(overflow === undefined ? {} : { [SPILL_FROM_ENV]: overflow.origin }) } }
  }
  const driver = new RuntimeDriver({ hostId: config.hostId, site: config.site, specFor, ...(secrets === undefined ? {} : { preparer: secrets }) }, { runtime, metrics: runtimeMetrics(metrics), log })
  secrets?.setRetire(async (id, service) => await driver.retire(id, service))
  return driver
}

function runtimeMetrics (m: DaemonMetrics): RuntimeMetricsSink {
  return {
    startLatency: (seconds, service) => m.containerStart.observe({ service }, seconds),
    // The daemon's driver counts every action with its result (agentmesh_container_actions_total).
    action: () => {},
    runtimeUp: (up) => m.runtimeUp.set(up ? 1 : 0),
    startFailed: (service) => m.containerStartFailures.inc({ service }),
  }
}

/**
 * The host's signals with their scope and measure: a site-wide signal's samples are marked so the
 * leader takes the freshest report instead of summing every host's copy, and a rate signal's so
 * that it reads them as arrivals per second rather than backlog (see core/load-reading.ts).
 */
export class ScopedSignalSet implements SignalSource {
  readonly name: string
  private readonly set: SignalSet
  private readonly scopes: SignalScope[]
  private readonly measures: SignalMeasure[]

  constructor (entries: ReadonlyArray<{ signal: ServiceSignal, scope: SignalScope, measures?: SignalMeasure }>, clock: () => number) {
    this.set = new SignalSet({ signals: entries.map(e => e.scope === 'site' || e.measures === 'rate' ? marked(e.signal, e.scope === 'site', e.measures === 'rate') : e.signal) }, { clock })
    this.name = this.set.name
    this.scopes = entries.map(e => e.scope)
    this.measures = entries.map(e => e.measures ?? 'backlog')
  }

  async start (): Promise<void> { await this.set.start() }
  async stop (): Promise<void> { await this.set.stop() }
  sample (): SamplesReading { return this.set.sample() }

  /** In config order (SignalSet keeps it). */
  statuses (): Array<SignalStatus & { scope: SignalScope, measures: SignalMeasure }> {
    return this.set.statuses().map((s, i) => ({ ...s, scope: this.scopes[i] ?? 'host', measures: this.measures[i] ?? 'backlog' }))
  }

  /**
   * A pushed value for the push signal of that service and upstream flag; `measures` picks
   * between a service's backlog and rate push signals (absent: the first in config order).
   */
  push (service: string, value: number, upstream = false, measures?: SignalMeasure): void {
    try {
      this.set.push(service, value, upstream, i => measures === undefined || (this.measures[i] ?? 'backlog') === measures)
    } catch (err) {
      if (err instanceof SignalError && err.code === SignalErrorCode.NotFound && measures !== undefined) throw new SignalError(SignalErrorCode.NotFound, `no push signal for service ${service} with measures: ${measures}`)
      throw err
    }
  }
  onChange (listener: () => void): () => void { return this.set.onChange(listener) }
}

/** The same signal, its samples marked site-wide and/or as a rate. Keeps a push signal's `set`. */
function marked (signal: ServiceSignal, siteWide: boolean, rate: boolean): ServiceSignal {
  const wrapped: ServiceSignal & { set?: unknown } = {
    kind: signal.kind,
    service: signal.service,
    upstream: signal.upstream,
    start: async (abort) => { await signal.start(abort) },
    stop: async () => { await signal.stop() },
    sample: (nowMs) => {
      const s = signal.sample(nowMs)
      return s === undefined ? undefined : { ...s, ...(siteWide ? { siteWide: true } : {}), ...(rate ? { rate: true } : {}) }
    },
    status: (nowMs) => signal.status(nowMs),
    onChange: (listener) => signal.onChange(listener),
  }
  const set = (signal as { set?: (value: number, nowMs: number) => void }).set
  if (set !== undefined) wrapped.set = set.bind(signal)
  return wrapped
}

export function buildSignals (config: DaemonConfig, log: Logger, clock: () => number): SignalSource {
  if (config.signals.length === 0) return new NoSignals()
  const entries = config.signals.map(e => ({ signal: createSignal(e.config, { clock, log }), scope: e.scope, measures: e.measures }))
  return new ScopedSignalSet(entries, clock)
}
