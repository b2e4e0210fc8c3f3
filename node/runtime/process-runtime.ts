/**
 * The process runtime: agents as child processes, for hosts without a Docker engine (small
 * edge boxes) and for the demo when no engine answers.
 *
 * What it keeps from the container model, and what it cannot:
 * - Labels: kept in memory and in a small state file (`STATE_FILE_NAME` in `stateDir`), so the
 *   owner labels of every agent survive a supervisor restart.
 * - Adoption: children are started in their own session and process group (`detached`), with
 *   output to a log file rather than a pipe, so they outlive the supervisor. A restarted
 *   supervisor reads the state file and adopts each recorded pid whose start time (field 22 of
 *   `/proc/PID/stat`, clock ticks since boot) still matches: that pairing cannot be a recycled
 *   pid. Where `/proc` is missing (not Linux) adoption is impossible: such records are dropped
 *   at start and never signalled, since the pid may by then be someone else's; the reconcile
 *   loop starts replacements, and the old processes, if alive, are left to the operator.
 *   Without a `stateDir` nothing is written and nothing is adopted.
 * - Exits: an own child's exit is an event (reported as 'exited' with its code at once); an
 *   adopted process is not our child, so its exit is seen at the next observation (`/proc`).
 * - Stop: SIGTERM to the agent's process group, SIGKILL after the grace, then removal.
 * - Not enforced for processes (documented in docs/configuration.md, `services[].agent`): CPU and memory limits, network mode
 *   `none`, and the restart policy (the reconcile loop replaces exited agents instead).
 * - Environment: the spec's env over a minimal base (PATH, HOME, LANG, TZ), never the
 *   supervisor's whole environment, which may hold secrets.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import type { ObservedContainer } from '../core/reconcile.js'
import {
  RUNTIME_DEFAULTS, RuntimeError, RuntimeErrorCode, SECRETS_DIR_ENV, throwIfAborted, validateAgentSpec,
  type AgentRuntime, type AgentSpec, type RuntimeChangeListener,
} from './container-runtime.js'

export const STATE_FILE_NAME = 'process-runtime.json'
const STATE_VERSION = 1
const BASE_ENV_NAMES = ['PATH', 'HOME', 'LANG', 'TZ'] as const
/** After SIGKILL, how long to wait for the kernel to end the process before giving up. */
const KILL_WAIT_MS = 5_000

export interface ProcessRuntimeInit {
  /** Where the state file and the agents' logs live. Undefined: memory only, no adoption. */
  stateDir?: string
  /** The argv of an agent. Default: the spec's `command` (a spec without one is refused). */
  commandFor?: (spec: AgentSpec) => string[] | undefined
  /** Working directory of the agents. Default: the supervisor's. */
  cwd?: string
  /** Most agents running at once. */
  childrenMax?: number
  /** How often a stop polls an adopted process for its exit, ms. */
  exitPollMs?: number
}

export interface ProcessRuntimeComponents {
  log?: Logger
}

interface AgentRecord {
  id: string
  pid: number
  /** `/proc/PID/stat` start time; undefined where /proc is missing (never adoptable). */
  startTicks?: string
  labels: Record<string, string>
  createdAt: number
  state: 'running' | 'exited'
  exitCode?: number | null
  exitSignal?: string | null
  /** Present for our own children; adopted processes have none. */
  child?: ChildProcess
  exited?: Promise<void>
}

interface StateFile {
  version: number
  agents: Array<{ id: string, pid: number, startTicks?: string, labels: Record<string, string>, createdAt: number }>
}

/** The process runtime's extras beyond the port: for status and tests. */
export interface ProcessRuntime extends AgentRuntime {
  /** How many agents were adopted from the state file at start. */
  readonly adoptedCount: number
  /** The pid of an agent, or undefined for an unknown id. */
  pidOf: (id: string) => number | undefined
}

export function createProcessRuntime (init: ProcessRuntimeInit = {}, components: ProcessRuntimeComponents = {}): ProcessRuntime {
  return new ProcessAgentRuntime(init, components)
}

/** `/proc/PID/stat` as (state letter, start time), or undefined when the process is gone. */
export function readProcStat (pid: number): { state: string, startTicks: string } | undefined {
  let text: string
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8') } catch { return undefined }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const state = rest[0]
  const startTicks = rest[19] // field 22 overall; `rest` begins at field 3
  if (state === undefined || startTicks === undefined) return undefined
  return { state, startTicks }
}

function procAvailable (): boolean {
  try { return statSync('/proc/self/stat').isFile() } catch { return false }
}

class ProcessAgentRuntime implements ProcessRuntime {
  readonly kind = 'process'
  private readonly agents = new Map<string, AgentRecord>()
  private readonly listeners = new Set<RuntimeChangeListener>()
  private readonly log: Logger
  private readonly hasProc = procAvailable()
  private adopted = 0
  private started = false

  constructor (private readonly init: ProcessRuntimeInit, components: ProcessRuntimeComponents) {
    this.log = components.log ?? pino({ level: 'silent' })
  }

  /** How many agents were adopted from the state file at start. */
  get adoptedCount (): number { return this.adopted }

  pidOf (id: string): number | undefined { return this.agents.get(id)?.pid }

  async start (): Promise<void> {
    if (this.started) return
    this.started = true
    if (this.init.stateDir === undefined) return
    try {
      mkdirSync(join(this.init.stateDir, 'logs'), { recursive: true })
    } catch (err) {
      throw new RuntimeError(RuntimeErrorCode.StateIo, `cannot create ${this.init.stateDir}`, { cause: err })
    }
    for (const r of this.readState()) this.adopt(r)
    this.writeState()
  }

  /** Leaves the agents running: a restarted supervisor adopts them from the state file. */
  async stop (): Promise<void> {
    this.started = false
    for (const a of this.agents.values()) a.child?.removeAllListeners('exit')
  }

  onChange (listener: RuntimeChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  async observe (signal?: AbortSignal): Promise<ObservedContainer[]> {
    throwIfAborted(signal)
    const out: ObservedContainer[] = []
    for (const a of this.agents.values()) {
      if (a.state === 'running' && a.child === undefined && !this.adoptedAlive(a)) this.markExited(a, null, null)
      out.push({ id: a.id, labels: { ...a.labels }, state: a.state, createdAt: a.createdAt })
    }
    return out.sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1))
  }

  async startAgent (spec: AgentSpec, labels: Readonly<Record<string, string>>, signal?: AbortSignal): Promise<string> {
    throwIfAborted(signal)
    validateAgentSpec(spec, labels)
    const argv = (this.init.commandFor ?? ((s: AgentSpec) => s.command))(spec)
    if (argv === undefined || argv.length === 0) throw new RuntimeError(RuntimeErrorCode.SpecInvalid, `service ${spec.service}: the process runtime needs a command`)
    const running = [...this.agents.values()].filter(a => a.state === 'running').length
    const max = this.init.childrenMax ?? RUNTIME_DEFAULTS.processChildrenMax
    if (running >= max) throw new RuntimeError(RuntimeErrorCode.Limit, `already ${running} agents running (childrenMax ${max})`)

    const id = `proc-${randomBytes(8).toString('hex')}`
    const logFd = this.init.stateDir === undefined ? 'ignore' : openSync(join(this.init.stateDir, 'logs', `${id}.log`), 'a')
    let child: ChildProcess
    try {
      child = spawn(argv[0], argv.slice(1), {
        detached: true, // own session and process group: survives us, and a group kill reaches its children
        stdio: ['ignore', logFd, logFd],
        env: baseEnv(spec.secretFiles === undefined ? spec.env : { ...spec.env, [SECRETS_DIR_ENV]: spec.secretFiles.hostDir }),
        ...(this.init.cwd === undefined ? {} : { cwd: this.init.cwd }),
      })
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve)
        child.once('error', reject)
      })
    } catch (err) {
      throw new RuntimeError(RuntimeErrorCode.StartFailed, `could not start ${argv[0]} for ${spec.service}: ${(err as Error).message}`, { cause: err })
    } finally {
      if (typeof logFd === 'number') closeSync(logFd)
    }
    const pid = child.pid as number
    child.unref()
    const record: AgentRecord = {
      id, pid, labels: { ...labels }, createdAt: Date.now(), state: 'running', child,
      ...(this.hasProc ? { startTicks: readProcStat(pid)?.startTicks } : {}),
    }
    record.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, sig) => { this.markExited(record, code, sig); resolve() })
    })
    this.agents.set(id, record)
    this.writeState()
    this.log.info({ id, pid, service: spec.service }, 'agent process started')
    this.emitChange()
    return id
  }

  async stopAgent (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const a = this.agents.get(id)
    if (a === undefined) return
    if (a.state === 'running') {
      this.signalGroup(a, 'SIGTERM')
      const graceMs = Math.min(timeoutMs, RUNTIME_DEFAULTS.stopTimeoutMsMax)
      if (!await this.waitExit(a, graceMs, signal)) {
        this.log.warn({ id, pid: a.pid, graceMs }, 'agent ignored SIGTERM: killing it')
        await this.kill(a, signal)
      }
    }
    this.forget(a)
  }

  async removeAgent (id: string, signal?: AbortSignal): Promise<void> {
    const a = this.agents.get(id)
    if (a === undefined) return
    if (a.state === 'running') await this.kill(a, signal)
    this.forget(a)
  }

  private async kill (a: AgentRecord, signal?: AbortSignal): Promise<void> {
    this.signalGroup(a, 'SIGKILL')
    if (!await this.waitExit(a, KILL_WAIT_MS, signal)) {
      throw new RuntimeError(RuntimeErrorCode.StopFailed, `agent ${a.id} (pid ${a.pid}) survived SIGKILL for ${KILL_WAIT_MS} ms`)
    }
  }

  private signalGroup (a: AgentRecord, sig: NodeJS.Signals): void {
    // Only a pid we started or verified by start time is ever signalled.
    try {
      process.kill(-a.pid, sig)
    } catch {
      try { process.kill(a.pid, sig) } catch { /* already gone */ }
    }
  }

  /** true once the agent has exited; false when `ms` passed first. */
  private async waitExit (a: AgentRecord, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (a.state === 'exited') return true
    throwIfAborted(signal)
    if (a.exited !== undefined) {
      // Our own child: its exit is an event.
      let timer: NodeJS.Timeout | undefined
      let onAbort: (() => void) | undefined
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms)
        onAbort = () => resolve(false)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
      const done = await Promise.race([a.exited.then(() => true), timedOut])
      clearTimeout(timer)
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
      throwIfAborted(signal)
      return done
    }
    // An adopted process is not our child: no exit event reaches us, so /proc is polled.
    const pollMs = this.init.exitPollMs ?? RUNTIME_DEFAULTS.processExitPollMs
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      if (!this.adoptedAlive(a)) { this.markExited(a, null, null); return true }
      throwIfAborted(signal)
      await new Promise(resolve => setTimeout(resolve, pollMs))
    }
    if (!this.adoptedAlive(a)) { this.markExited(a, null, null); return true }
    return false
  }

  private adoptedAlive (a: AgentRecord): boolean {
    const stat = readProcStat(a.pid)
    return stat !== undefined && stat.startTicks === a.startTicks && stat.state !== 'Z' && stat.state !== 'X'
  }

  private markExited (a: AgentRecord, code: number | null, sig: NodeJS.Signals | null): void {
    if (a.state === 'exited') return
    a.state = 'exited'
    a.exitCode = code
    a.exitSignal = sig
    this.log.info({ id: a.id, pid: a.pid, code, signal: sig }, 'agent process exited')
    this.writeState()
    this.emitChange()
  }

  private forget (a: AgentRecord): void {
    this.agents.delete(a.id)
    if (this.init.stateDir !== undefined) rmSync(join(this.init.stateDir, 'logs', `${a.id}.log`), { force: true })
    this.writeState()
    this.emitChange()
  }

  private adopt (r: StateFile['agents'][number]): void {
    if (r.startTicks === undefined || !this.hasProc) {
      this.log.warn({ id: r.id, pid: r.pid }, 'cannot verify a recorded agent without /proc: dropped, not signalled')
      return
    }
    const rec: AgentRecord = { id: r.id, pid: r.pid, startTicks: r.startTicks, labels: r.labels, createdAt: r.createdAt, state: 'running' }
    if (!this.adoptedAlive(rec)) {
      this.log.info({ id: r.id, pid: r.pid }, 'recorded agent is gone (or its pid was reused): dropped')
      return
    }
    this.agents.set(r.id, rec)
    this.adopted++
    this.log.info({ id: r.id, pid: r.pid }, 'adopted a running agent process')
  }

  private readState (): StateFile['agents'] {
    const path = join(this.init.stateDir as string, STATE_FILE_NAME)
    let text: string
    try {
      if (statSync(path).size > RUNTIME_DEFAULTS.processStateFileBytesMax) throw new RuntimeError(RuntimeErrorCode.StateIo, `${path} is larger than ${RUNTIME_DEFAULTS.processStateFileBytesMax} bytes`)
      text = readFileSync(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err instanceof RuntimeError ? err : new RuntimeError(RuntimeErrorCode.StateIo, `cannot read ${path}`, { cause: err })
    }
    try {
      const parsed = JSON.parse(text) as StateFile
      if (parsed.version !== STATE_VERSION || !Array.isArray(parsed.agents)) throw new Error(`unknown version ${String(parsed.version)}`)
      return parsed.agents.filter(a => typeof a.id === 'string' && Number.isInteger(a.pid) && a.pid > 1 &&
        typeof a.labels === 'object' && a.labels !== null && typeof a.createdAt === 'number')
    } catch (err) {
      // A corrupt file adopts nothing; the agents it named are left alone, never signalled.
      this.log.error({ path, err: (err as Error).message }, 'process-runtime state file unreadable: adopting nothing')
      return []
    }
  }

  private writeState (): void {
    if (this.init.stateDir === undefined || !this.started) return
    const state: StateFile = {
      version: STATE_VERSION,
      agents: [...this.agents.values()].filter(a => a.state === 'running').map(a => ({
        id: a.id, pid: a.pid, labels: a.labels, createdAt: a.createdAt, ...(a.startTicks === undefined ? {} : { startTicks: a.startTicks }),
      })),
    }
    const path = join(this.init.stateDir, STATE_FILE_NAME)
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify(state))
      renameSync(`${path}.tmp`, path) // atomic: a crash leaves the old file or the new one
    } catch (err) {
      this.log.error({ path, err: (err as Error).message }, 'cannot write the process-runtime state file')
    }
  }

  private emitChange (): void {
    for (const l of [...this.listeners]) {
      try { l() } catch (err) { this.log.warn({ err: (err as Error).message }, 'runtime change listener threw') }
    }
  }
}

function baseEnv (env: Readonly<Record<string, string>>): Record<string, string> {
  const base: Record<string, string> = {}
  for (const name of BASE_ENV_NAMES) {
    const v = process.env[name]
    if (v !== undefined) base[name] = v
  }
  return { ...base, ...env }
}
