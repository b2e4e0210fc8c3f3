/**
 * `agentmesh demo`: a small mesh on this machine. Sites of supervisor processes on loopback, an
 * embedded MQTT broker, a synthetic load per site, agents as containers or processes, a live
 * table; on Ctrl-C, SIGTERM or the end of `--duration` everything is stopped in order and
 * nothing is left behind.
 *
 * Order of the stop, and why: the view first (no more requests), then the supervisors with
 * SIGTERM (graceful: each site hears goodbyes; a supervisor leaves its agents running on purpose,
 * for adoption after a restart), then the agents themselves (leftovers.ts), then the load and the
 * broker the agents were connected to, then the temp dir.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.js'
import { DemoError, DemoErrorCode } from './errors.js'
import { LoadGenerator, siteTopics } from './load-generator.js'
import { listDemoContainers, processesFromStateFiles, processesWithMarker, removeDemoContainers, stopProcesses } from './leftovers.js'
import { InPlaceWriter, pollSites, renderRows, type SiteRow } from './live-view.js'
import { MeshSupervisor, planMesh } from './local-mesh.js'
import { chooseRuntime, DEMO_AGENT_IMAGE, DOCKER_SOCKET_DEFAULT, type DemoRuntimeWanted, type RuntimeChoice } from './runtime-choice.js'

/** The test agent, run as a plain process (this file runs from dist/cli/demo/). */
export const AGENT_SCRIPT = fileURLToPath(new URL('../../../agent/agent.mjs', import.meta.url))

export const DEMO_SERVICE = 'detector'
/** Messages one agent processes per second. */
export const AGENT_RATE_PER_S = 10
/** Backlog one replica is sized for: about one second of one agent's work. */
export const TARGET_PER_REPLICA = 10
export const MAX_REPLICAS_PER_SITE = 8
/** The live view's period, ms. */
const VIEW_INTERVAL_MS = 1_000
/** Every site must have a leader within this, ms, or the demo gives up (exit 1). */
const MESH_READY_TIMEOUT_MS = 60_000
/** SIGTERM to SIGKILL for a supervisor, ms. */
const SUPERVISOR_STOP_GRACE_MS = 10_000
/** SIGTERM to SIGKILL for a leftover agent process, ms (the agent stops within 2 s itself). */
const AGENT_STOP_GRACE_MS = 3_000
/** A replica being stopped by its supervisor gets this long, ms. */
const AGENT_STOP_TIMEOUT_MS = 2_000

export interface DemoOptions {
  sites: number
  hostsPerSite: number
  /** Undefined: until Ctrl-C or SIGTERM. */
  durationMs: number | undefined
  runtime: DemoRuntimeWanted
  /** 0: a free port. */
  mqttPort: number
  /** JSON lines instead of the redrawn table. */
  json: boolean
  cycleMs: number
}

export interface DemoIo {
  /** The table or JSON lines; ends what it is given with one newline. */
  out: (s: string) => void
  /** The terminal's width, when stdout is one (the table is redrawn in screen rows). */
  columns?: () => number | undefined
  /** Human notes (the runtime and why, stops, failures). */
  err: (s: string) => void
  /** Redraw the table in place (stdout is a terminal and --json is off). */
  tty: boolean
}

type StopReason = 'duration' | 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'failure'

/** The config every supervisor of `site` gets on top of the mesh's own fields. */
export function demoWorkload (site: string, brokerUrl: string, runtime: RuntimeChoice['kind'], marker: string): Record<string, unknown> {
  const topics = siteTopics(site)
  const env = { AGENT_MQTT_URL: brokerUrl, AGENT_TOPIC: topics.work, AGENT_RATE_PER_S: String(AGENT_RATE_PER_S), AGENT_REPLY_TOPIC: topics.acks }
  return {
    runtime: { kind: runtime, resyncIntervalMs: 2000 },
    services: [{
      name: DEMO_SERVICE,
      targetPerReplica: TARGET_PER_REPLICA,
      minReplicas: 0,
      maxReplicas: MAX_REPLICAS_PER_SITE,
      // Quicker than the HPA's defaults, so a few-minute cycle shows both directions.
      scaleUp: { stabilizationMs: 0, policies: [{ type: 'pods', value: 4, periodMs: 5000 }, { type: 'percent', value: 100, periodMs: 5000 }] },
      scaleDown: { stabilizationMs: 15_000, policies: [{ type: 'percent', value: 50, periodMs: 5000 }] },
      agent: runtime === 'docker'
        ? { image: DEMO_AGENT_IMAGE, env, networkMode: 'host', stopTimeoutMs: AGENT_STOP_TIMEOUT_MS }
        // The marker argument (ignored by the agent) finds every agent of this run in /proc.
        : { command: [process.execPath, AGENT_SCRIPT, marker], env, stopTimeoutMs: AGENT_STOP_TIMEOUT_MS },
    }],
    signals: [{ service: DEMO_SERVICE, kind: 'mqtt-backlog', url: brokerUrl, topic: topics.backlog, scope: 'site' }],
  }
}

export async function runDemo (opts: DemoOptions, io: DemoIo): Promise<number> {
  const runId = randomBytes(2).toString('hex')
  const sitePrefix = `demo-${runId}-`
  const sites = Array.from({ length: opts.sites }, (_, i) => `${sitePrefix}s${i + 1}`)
  const marker = `--agentmesh-demo-${runId}`
  const startedAtMs = Date.now()
  const elapsedS = (): number => Math.round((Date.now() - startedAtMs) / 100) / 10
  const emit = (event: Record<string, unknown>): void => { if (!io.tty) io.out(JSON.stringify(event)) }

  const stop = new AbortController()
  let stopReason: StopReason = 'duration'
  const onSignal = (sig: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void => {
    if (stop.signal.aborted) { io.err('agentmesh demo: already stopping, please wait'); return }
    stopReason = sig
    stop.abort()
  }
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map(sig => { const h = (): void => onSignal(sig); process.on(sig, h); return [sig, h] as const })
  const durationTimer = opts.durationMs === undefined ? undefined : setTimeout(() => { stopReason = 'duration'; stop.abort() }, opts.durationMs)

  const dir = mkdtempSync(join(tmpdir(), 'agentmesh-demo-'))
  let broker: EmbeddedBroker | undefined
  let load: LoadGenerator | undefined
  let sups: MeshSupervisor[] = []
  let runtime: RuntimeChoice | undefined
  let exitCode = 0
  try {
    runtime = await chooseRuntime(opts.runtime, DOCKER_SOCKET_DEFAULT, stop.signal)
    if (!io.tty) io.err(`agentmesh demo: ${runtime.reason}`) // on a terminal the header says it
    if (runtime.kind === 'process' && !existsSync(AGENT_SCRIPT)) throw new DemoError(DemoErrorCode.AgentMissing, `the test agent ${AGENT_SCRIPT} is missing (run the demo from a checkout of the repository)`)
    broker = await startEmbeddedBroker({ port: opts.mqttPort, signal: stop.signal })
    const brokerUrl = broker.url
    const kind = runtime.kind
    const hosts = await planMesh({ dir, sites, hostsPerSite: opts.hostsPerSite, common: site => demoWorkload(site, brokerUrl, kind, marker), signal: stop.signal })
    load = new LoadGenerator({ brokerUrl, sites, cycleMs: opts.cycleMs, nowMs: Date.now })
    await load.start(stop.signal)
    sups = hosts.map(h => new MeshSupervisor(h))
    for (const s of sups) s.start()
    watchExits(sups, stop.signal, io, emit)
    const dashboards = sites.map(site => `${sups.find(s => s.host.site === site)!.url}/`)
    emit({ event: 'start', runId, runtime, broker: brokerUrl, dir, cycleS: opts.cycleMs / 1000, durationS: opts.durationMs === undefined ? null : opts.durationMs / 1000, sites: sites.map((site, i) => ({ site, dashboard: dashboards[i], hosts: sups.filter(s => s.host.site === site).map(s => ({ hostId: s.host.hostId, url: s.url, pid: s.pid })) })) })
    const header = [
      `agentmesh demo: ${opts.sites} sites × ${opts.hostsPerSite} supervisors on loopback, MQTT broker ${brokerUrl} (embedded), runtime ${runtime.kind}`,
      `  ${runtime.reason}`,
      `  load: a ${opts.cycleMs / 1000} s cycle per site (quiet, rise, burst, fall); service ${DEMO_SERVICE}: one replica per ${TARGET_PER_REPLICA} backlog, at most ${MAX_REPLICAS_PER_SITE} per site; agents do ${AGENT_RATE_PER_S} messages/s each`,
      ...sites.map((site, i) => `  dashboard of ${site}: ${dashboards[i]}`),
      `  configs and logs: ${dir} (removed at exit)`,
      '',
    ].join('\n')
    if (io.tty) io.out(header)
    exitCode = await viewLoop(sups, sites, load, stop.signal, io, emit, opts, elapsedS)
    if (exitCode !== 0) stopReason = 'failure'
  } catch (err) {
    if (!stop.signal.aborted || !(err instanceof Error && err.name === 'AbortError')) {
      io.err(`agentmesh demo: ${err instanceof DemoError ? `${err.code}: ` : ''}${(err as Error).message}`)
      exitCode = 1
      stopReason = 'failure'
    }
  } finally {
    clearTimeout(durationTimer)
    const stopped = await shutDown({ sups, load, broker, runtime, sitePrefix, marker, dir, io })
    emit({ event: 'stop', reason: stopReason, elapsedS: elapsedS(), ...stopped })
    if (io.tty) io.err(`agentmesh demo: stopped (${stopReason}) after ${elapsedS()} s: ${stopped.supervisorsStopped} supervisors, ${stopped.agentsRemoved} agents removed, ${stopped.leftover} left`)
    for (const [sig, h] of handlers) process.off(sig, h)
  }
  return exitCode
}

async function viewLoop (
  sups: MeshSupervisor[], sites: string[], load: LoadGenerator, signal: AbortSignal, io: DemoIo,
  emit: (e: Record<string, unknown>) => void, opts: DemoOptions, elapsedS: () => number,
): Promise<number> {
  const writer = new InPlaceWriter(io.out, io.columns ?? (() => undefined))
  const readyBy = Date.now() + MESH_READY_TIMEOUT_MS
  while (!signal.aborted) {
    const tickAt = Date.now()
    const rows: SiteRow[] = await pollSites(sups, sites, DEMO_SERVICE, load.snapshot())
    if (signal.aborted) break
    if (!load.loadStarted) {
      if (rows.every(r => r.leader !== null)) {
        load.beginLoad()
        emit({ event: 'load-started', elapsedS: elapsedS() })
      } else if (Date.now() > readyBy) {
        io.err(`agentmesh demo: ${DemoErrorCode.MeshStart}: not every site elected a leader within ${MESH_READY_TIMEOUT_MS / 1000} s; last lines of each supervisor's log:`)
        for (const s of sups) io.err(`--- ${s.host.hostId}\n${s.logTail()}`)
        return 1
      }
    }
    if (io.tty) {
      const left = opts.durationMs === undefined ? 'Ctrl-C stops everything' : `stops by itself after ${opts.durationMs / 1000} s, or Ctrl-C`
      writer.draw(`${renderRows(rows)}\n\n${Math.floor(elapsedS())} s${load.loadStarted ? '' : ' · waiting for every site to elect a leader before the load starts'} · ${left}`)
    } else {
      emit({ event: 'tick', elapsedS: elapsedS(), sites: rows })
    }
    await sleep(Math.max(0, tickAt + VIEW_INTERVAL_MS - Date.now()), signal)
  }
  return 0
}

function watchExits (sups: MeshSupervisor[], signal: AbortSignal, io: DemoIo, emit: (e: Record<string, unknown>) => void): void {
  for (const s of sups) {
    void s.exited.then((code) => {
      if (s.stopping || signal.aborted) return
      emit({ event: 'supervisor-exited', hostId: s.host.hostId, code })
      io.err(`agentmesh demo: supervisor ${s.host.hostId} exited (${String(code)}); its site carries on without it. Last lines of its log:\n${s.logTail()}`)
    })
  }
}

interface ShutDownParts {
  sups: MeshSupervisor[]
  load: LoadGenerator | undefined
  broker: EmbeddedBroker | undefined
  runtime: RuntimeChoice | undefined
  sitePrefix: string
  marker: string
  dir: string
  io: DemoIo
}

interface Stopped { supervisorsStopped: number, agentsRemoved: number, leftover: number }

async function shutDown (p: ShutDownParts): Promise<Stopped> {
  if (p.io.tty) p.io.err('agentmesh demo: stopping the supervisors, then the agents, the load and the broker…')
  await Promise.all(p.sups.map(async s => await s.stop(SUPERVISOR_STOP_GRACE_MS)))
  let agentsRemoved = 0
  let leftover = 0
  try {
    if (p.runtime?.kind === 'docker') {
      agentsRemoved = await removeDemoContainers(DOCKER_SOCKET_DEFAULT, p.sitePrefix)
      leftover = (await listDemoContainers(DOCKER_SOCKET_DEFAULT, p.sitePrefix)).length
    } else {
      const pids = [...processesWithMarker(p.marker), ...processesFromStateFiles(p.sups.map(s => s.host.dir))]
      agentsRemoved = await stopProcesses(pids, AGENT_STOP_GRACE_MS)
      leftover = processesWithMarker(p.marker).length
    }
  } catch (err) {
    p.io.err(`agentmesh demo: could not remove every agent: ${(err as Error).message}`)
  }
  if (leftover > 0) p.io.err(`agentmesh demo: ${leftover} agents of this run are still there (site prefix ${p.sitePrefix}, marker ${p.marker})`)
  await p.load?.stop()
  await p.broker?.close()
  rmSync(p.dir, { recursive: true, force: true })
  return { supervisorsStopped: p.sups.length, agentsRemoved, leftover }
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>(resolve => {
    const t = setTimeout(done, ms)
    function done (): void { clearTimeout(t); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}
