/**
 * A service's secrets, handed to each agent it starts: read from Vault when the agent starts
 * (secret-cache.ts: the copy in memory only when Vault does not answer, up to maxStaleMs), then
 * given as environment variables or as files.
 *
 * Files: one folder per agent, `<secretsDir>/a-<16 hex>`, on a tmpfs (checked at config time),
 * inside this host's folder, itself mode 0700 so that no other user of the host can reach it.
 * The process runtime gives the agent the folder's path in AGENTMESH_SECRETS_DIR (folder 0700,
 * files 0400: the agent runs as the supervisor's user). Docker bind-mounts the folder read-only
 * at the service's `agent.secretsPath` (default /run/secrets), so inside the container the files
 * sit on that tmpfs too (folder 0755, files 0444 inside the 0700 host folder: the container's
 * user may be anyone). A folder is removed once no container of this host uses it any more:
 * after every observation of the runtime, every folder no listed container names (label
 * `agentmesh.secrets-dir`) is removed, which also cleans up after a crash. A container that
 * exited but is not removed yet keeps its folder (a Docker restart policy starts it again).
 *
 * Rotation: the secrets agents here use are read again every refresh interval. A new version
 * is written into the files of running agents in place (write, then rename); an agent whose
 * service marks that secret `restartOnChange` is restarted (stopped; the plan then starts a
 * replacement with the new value), one agent of a service at a time, the next only once every
 * replica of the service runs again. What an agent was started with is in its labels
 * (`agentmesh.secrets-versions`: version numbers, never values).
 *
 * Reported: a service whose start failed for a secret (Vault down past maxStaleMs, refusing, no
 * such secret or key) is *unavailable* on this host until its secrets can be read again (tried
 * with backoff, and at once when Vault answers again); the runtime driver puts the list into
 * each observation, for the site leader (see docs/operations.md, Secrets).
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import type { ObservedContainer } from '../core/reconcile.js'
import type { AgentSpec } from '../runtime/container-runtime.js'
import type { PreparedStart, StartPreparer } from '../runtime/runtime-driver.js'
import { refKey, refText, type SecretCache, type SecretRead, type SecretRef } from './secret-cache.js'
import { VAULT_DEFAULTS } from './vault-defaults.js'
import { VaultError, VaultErrorCode } from './vault-errors.js'

/** One secret a service's agents receive. */
export interface ServiceSecret extends SecretRef {
  /** The key inside the secret's data. */
  key: string
  /** Given as this environment variable … */
  env?: string
  /** … or as this file (a plain name) in the agent's secrets folder. */
  file?: string
  /** A new version restarts the service's agents here (one at a time). */
  restartOnChange: boolean
}

/** Labels on an agent with secrets (values: a folder name, version numbers). */
export const SECRET_LABELS = {
  dir: 'agentmesh.secrets-dir',
  versions: 'agentmesh.secrets-versions',
} as const

const DIR_RE = /^a-[0-9a-f]{16}$/

export interface AgentSecretsInit {
  /** Secrets per service name. */
  services: Readonly<Record<string, readonly ServiceSecret[]>>
  /** This host's folder for per-agent folders (on a tmpfs; created 0700). */
  hostDir: string
  /** `docker`: folders are bind-mounted, so readable by any container user; `process`: owner only. */
  runtimeKind: 'docker' | 'process'
  /** Backoff of retries for unavailable services, ms. */
  retryMsMin?: number
  retryMsMax?: number
}

/** What the secrets report; the daemon maps it to prom-client. */
export interface SecretsMetricsSink {
  /** A start's secrets: read from Vault (`fresh`), from memory (`cached`), or not (`failed`). */
  resolved: (service: string, result: 'fresh' | 'cached' | 'failed') => void
  /** A running agent restarted because a secret changed. */
  restarted: (service: string) => void
}

export interface AgentSecretsComponents {
  cache: SecretCache
  /** Calls back when Vault answers again. */
  onVaultUp: (listener: () => void) => () => void
  /** Stops one agent (the plan then starts a replacement). */
  retire?: (containerId: string, service: string) => Promise<void>
  log: Logger
  metrics?: SecretsMetricsSink
  /** What happened, for the daemon's event stream: service, what, a code or a version; never a value. */
  event?: (data: Record<string, unknown>) => void
  clock?: () => number
}

export interface ServiceSecretsStatus {
  service: string
  secrets: Array<{ secret: string, key: string, as: string, restartOnChange: boolean }>
  /** The last start's secrets came from Vault (`fresh`) or from memory (`cached`); null: none yet. */
  lastResolved: 'fresh' | 'cached' | null
  /** Set while the service cannot start here for its secrets. */
  unavailable: { code: string, message: string, sinceAgoMs: number } | null
}

export class AgentSecrets implements StartPreparer {
  private readonly clock: () => number
  private readonly log: Logger
  private readonly unavailableSince = new Map<string, { error: VaultError, atMs: number }>()
  private readonly lastResolved = new Map<string, 'fresh' | 'cached'>()
  /** Folders created for starts not yet seen in an observation, with when (clock ms). */
  private readonly inflightDirs = new Map<string, number>()
  /** Per folder, the version of each secret ref written into it. */
  private readonly written = new Map<string, Map<string, number>>()
  /** Services with a restart under way: replicas running before it, since when (clock ms), whether the stop is done. */
  private readonly restarting = new Map<string, { runningBefore: number, sinceMs: number, stopped: boolean }>()
  private readonly listeners = new Set<() => void>()
  private lastObserved: readonly ObservedContainer[] = []
  private retryTimer: NodeJS.Timeout | undefined
  private retryFailures = 0
  private readonly unsubscribe: Array<() => void> = []
  private stopped = false

  constructor (private readonly init: AgentSecretsInit, private readonly c: AgentSecretsComponents) {
    this.clock = c.clock ?? (() => performance.now())
    this.log = c.log.child({ component: 'secrets' })
    this.unsubscribe.push(c.onVaultUp(() => { this.c.cache.refreshSoon(); void this.retryUnavailable() }))
    this.unsubscribe.push(c.cache.onChanged((ref, from, to) => {
      this.c.event?.({ what: 'changed', secret: refText(ref), fromVersion: from, toVersion: to })
      this.secretChanged()
    }))
  }

  /** Creates this host's folder (0700) when some service takes files. */
  start (): void {
    if (!Object.values(this.init.services).some(list => list.some(s => s.file !== undefined))) return
    mkdirSync(this.init.hostDir, { recursive: true, mode: 0o700 })
    chmodSync(this.init.hostDir, 0o700)
  }

  stop (): void {
    this.stopped = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    for (const u of this.unsubscribe) u()
  }

  /** How to stop one agent for a restart (the runtime driver, built after this). */
  setRetire (retire: (containerId: string, service: string) => Promise<void>): void {
    this.c.retire = retire
  }

  /** Called when the set of unavailable services changed, or a restart finished. */
  onChange (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  // ---- StartPreparer -----------------------------------------------------------------------

  async prepare (spec: AgentSpec, signal?: AbortSignal): Promise<PreparedStart> {
    const secrets = this.init.services[spec.service] ?? []
    if (secrets.length === 0) return { spec, labels: {}, abandon: () => {} }
    let reads: Map<string, SecretRead>
    try {
      reads = await this.readAll(spec.service, secrets, signal)
    } catch (err) {
      const e = err as VaultError
      if (e.code !== VaultErrorCode.Aborted) this.markUnavailable(spec.service, e)
      throw e
    }
    const env: Record<string, string> = { ...spec.env }
    for (const s of secrets) if (s.env !== undefined) env[s.env] = reads.get(refKey(s))!.data.get(s.key)!
    const labels: Record<string, string> = { [SECRET_LABELS.versions]: this.versionsLabel(secrets, reads) }
    let dir: string | undefined
    const files = secrets.filter(s => s.file !== undefined)
    if (files.length > 0) {
      dir = `a-${randomBytes(8).toString('hex')}`
      this.inflightDirs.set(dir, this.clock())
      try {
        this.writeFiles(dir, files, (s) => reads.get(refKey(s))!, true)
      } catch (err) {
        this.removeDir(dir)
        throw err
      }
      labels[SECRET_LABELS.dir] = dir
    }
    const cached = [...reads.values()].some(r => !r.fresh)
    this.lastResolved.set(spec.service, cached ? 'cached' : 'fresh')
    this.c.metrics?.resolved(spec.service, cached ? 'cached' : 'fresh')
    if (cached) {
      const oldest = [...reads.values()].filter(r => !r.fresh).sort((a, b) => b.ageMs - a.ageMs)[0]
      this.log.warn({ service: spec.service, ageMs: oldest.ageMs, code: oldest.error?.code, err: oldest.error?.message }, 'starting an agent with secrets kept in memory: Vault does not answer')
    }
    this.markAvailable(spec.service)
    const out: AgentSpec = { ...spec, env, ...(dir === undefined ? {} : { secretFiles: { hostDir: join(this.init.hostDir, dir), containerDir: spec.secretsPath ?? VAULT_DEFAULTS.containerSecretsDir } }) }
    const started = dir
    return { spec: out, labels, abandon: () => { if (started !== undefined) this.removeDir(started) } }
  }

  /** After every good observation: folders no container names go, secrets in use are kept fresh, restarts due begin. */
  observed (containers: readonly ObservedContainer[]): void {
    this.lastObserved = containers
    this.sweep(containers)
    const refs: SecretRef[] = []
    for (const c of containers) {
      if (c.state === 'exited') continue
      for (const s of this.init.services[c.labels['agentmesh.service']] ?? []) refs.push(s)
    }
    this.c.cache.retain(refs)
    this.rewriteFiles(containers)
    this.restartDue(containers)
  }

  unavailable (): string[] {
    return [...this.unavailableSince.keys()].sort()
  }

  status (): ServiceSecretsStatus[] {
    const now = this.clock()
    return Object.keys(this.init.services).sort().filter(s => this.init.services[s].length > 0).map(service => {
      const u = this.unavailableSince.get(service)
      return {
        service,
        secrets: this.init.services[service].map(s => ({ secret: refText(s), key: s.key, as: s.env !== undefined ? `env ${s.env}` : `file ${s.file!}`, restartOnChange: s.restartOnChange })),
        lastResolved: this.lastResolved.get(service) ?? null,
        unavailable: u === undefined ? null : { code: u.error.code, message: u.error.message, sinceAgoMs: Math.round(now - u.atMs) },
      }
    })
  }

  // ---- reading -----------------------------------------------------------------------------

  /** Every distinct secret of the service, read at once; any failure fails the start, named for the service. */
  private async readAll (service: string, secrets: readonly ServiceSecret[], signal?: AbortSignal): Promise<Map<string, SecretRead>> {
    const refs = new Map<string, SecretRef>()
    for (const s of secrets) refs.set(refKey(s), s)
    const reads = new Map<string, SecretRead>()
    try {
      await Promise.all([...refs].map(async ([key, ref]) => { reads.set(key, await this.c.cache.read(ref, signal)) }))
    } catch (err) {
      this.c.metrics?.resolved(service, 'failed')
      const e = err as VaultError
      throw new VaultError(e.code, `service ${service}: ${e.message}`, { cause: e.cause ?? e })
    }
    for (const s of secrets) {
      if (!reads.get(refKey(s))!.data.has(s.key)) {
        this.c.metrics?.resolved(service, 'failed')
        throw new VaultError(VaultErrorCode.KeyMissing, `service ${service}: ${refText(s)} has no key "${s.key}"`)
      }
    }
    return reads
  }

  private versionsLabel (secrets: readonly ServiceSecret[], reads: ReadonlyMap<string, { version: number }>): string {
    return this.distinctRefs(secrets).map(r => String(reads.get(refKey(r))?.version ?? 0)).join('.')
  }

  private distinctRefs (secrets: readonly ServiceSecret[]): SecretRef[] {
    const seen = new Map<string, SecretRef>()
    for (const s of secrets) if (!seen.has(refKey(s))) seen.set(refKey(s), s)
    return [...seen.values()]
  }

  // ---- unavailable services ----------------------------------------------------------------

  private markUnavailable (service: string, error: VaultError): void {
    const had = this.unavailableSince.get(service)
    this.unavailableSince.set(service, { error, atMs: had?.atMs ?? this.clock() })
    if (had === undefined) {
      this.log.warn({ service, code: error.code, err: error.message }, 'service cannot start here: its secrets cannot be read')
      this.c.event?.({ service, what: 'unavailable', code: error.code, message: error.message })
      this.changed()
    }
    this.scheduleRetry()
  }

  private markAvailable (service: string): void {
    if (!this.unavailableSince.delete(service)) return
    this.log.info({ service }, 'service can start here again: its secrets are readable')
    this.c.event?.({ service, what: 'available' })
    if (this.unavailableSince.size === 0) this.retryFailures = 0
    this.changed()
  }

  private scheduleRetry (): void {
    if (this.retryTimer !== undefined || this.stopped || this.unavailableSince.size === 0) return
    const min = this.init.retryMsMin ?? VAULT_DEFAULTS.retryMsMin
    const max = this.init.retryMsMax ?? VAULT_DEFAULTS.retryMsMax
    const delayMs = Math.min(max, min * 2 ** Math.min(20, this.retryFailures))
    this.retryTimer = setTimeout(() => { this.retryTimer = undefined; void this.retryUnavailable() }, delayMs)
    this.retryTimer.unref()
  }

  /** Tries to read each unavailable service's secrets again; a service whose reads succeed is available. */
  private async retryUnavailable (): Promise<void> {
    if (this.stopped) return
    for (const service of this.unavailable()) {
      try {
        await this.readAll(service, this.init.services[service] ?? [], undefined)
        this.markAvailable(service)
      } catch (err) {
        const had = this.unavailableSince.get(service)
        if (had !== undefined) had.error = err as VaultError
      }
    }
    if (this.unavailableSince.size > 0) this.retryFailures++
    this.scheduleRetry()
  }

  // ---- files -------------------------------------------------------------------------------

  private writeFiles (dir: string, files: readonly ServiceSecret[], read: (s: ServiceSecret) => { data: ReadonlyMap<string, string>, version: number }, create: boolean): void {
    const path = join(this.init.hostDir, dir)
    const docker = this.init.runtimeKind === 'docker'
    if (create) mkdirSync(path, { mode: docker ? 0o755 : 0o700 })
    const versions = this.written.get(dir) ?? new Map<string, number>()
    for (const s of files) {
      const r = read(s)
      const value = r.data.get(s.key)
      if (value === undefined) continue
      writeSecretFile(join(path, s.file!), value, docker ? 0o444 : 0o400)
      versions.set(refKey(s), r.version)
    }
    this.written.set(dir, versions)
  }

  /** A new version in memory: the files of running agents get it (restarts are decided at the next observation). */
  private secretChanged (): void {
    this.rewriteFiles(this.lastObserved)
    this.changed() // the driver observes again: restarts due are started there
  }

  private rewriteFiles (containers: readonly ObservedContainer[]): void {
    for (const c of containers) {
      const dir = c.labels[SECRET_LABELS.dir]
      if (dir === undefined || !DIR_RE.test(dir) || c.state === 'exited') continue
      const files = (this.init.services[c.labels['agentmesh.service']] ?? []).filter(s => s.file !== undefined)
      const written = this.written.get(dir) ?? this.fromLabel(dir, c)
      const stale = files.filter(s => { const v = this.c.cache.versionOf(s); return v !== undefined && v !== written.get(refKey(s)) })
      if (stale.length === 0) continue
      try {
        this.writeFiles(dir, stale, (s) => ({ data: this.c.cache.peek(s)!, version: this.c.cache.versionOf(s)! }), false)
        this.log.info({ service: c.labels['agentmesh.service'], container: c.id, files: stale.map(s => s.file) }, 'secret files of a running agent updated')
      } catch (err) {
        this.log.warn({ container: c.id, err: (err as Error).message }, 'cannot update the secret files of a running agent')
      }
    }
  }

  /** What a folder holds, from its agent's label (a restarted supervisor has no memory of it). */
  private fromLabel (dir: string, c: ObservedContainer): Map<string, number> {
    const secrets = this.init.services[c.labels['agentmesh.service']] ?? []
    const versions = (c.labels[SECRET_LABELS.versions] ?? '').split('.').map(Number)
    const out = new Map<string, number>()
    this.distinctRefs(secrets).forEach((r, i) => { if (Number.isSafeInteger(versions[i])) out.set(refKey(r), versions[i]) })
    this.written.set(dir, out)
    return out
  }

  /**
   * Removes every folder of ours that no listed container names, unless a start made it
   * moments ago (its container may not be listed yet; after VAULT_DEFAULTS.inflightDirMaxAgeMs it goes too).
   */
  private sweep (containers: readonly ObservedContainer[]): void {
    const used = new Set(containers.map(c => c.labels[SECRET_LABELS.dir]).filter((d): d is string => d !== undefined))
    for (const d of used) this.inflightDirs.delete(d)
    let names: string[]
    try { names = readdirSync(this.init.hostDir) } catch { return }
    const now = this.clock()
    for (const name of names) {
      if (!DIR_RE.test(name) || used.has(name)) continue
      const madeAtMs = this.inflightDirs.get(name)
      if (madeAtMs !== undefined && now - madeAtMs < VAULT_DEFAULTS.inflightDirMaxAgeMs) continue
      this.removeDir(name)
    }
  }

  private removeDir (dir: string): void {
    this.inflightDirs.delete(dir)
    this.written.delete(dir)
    try { rmSync(join(this.init.hostDir, dir), { recursive: true, force: true }) } catch (err) {
      this.log.warn({ dir, err: (err as Error).message }, 'cannot remove an agent\'s secrets folder')
    }
  }

  // ---- restarts ----------------------------------------------------------------------------

  /**
   * One agent per service at a time: the next only once the replacement runs (as many replicas
   * running as before the restart, none starting), or VAULT_DEFAULTS.restartSettleMsMax after the stop.
   */
  private restartDue (containers: readonly ObservedContainer[]): void {
    const retire = this.c.retire
    if (retire === undefined) return
    const now = this.clock()
    for (const [service, secrets] of Object.entries(this.init.services)) {
      const watched = secrets.filter(s => s.restartOnChange)
      if (watched.length === 0) continue
      const mine = containers.filter(c => c.labels['agentmesh.service'] === service && c.state !== 'exited')
      const running = mine.filter(c => c.state === 'running').length
      const r = this.restarting.get(service)
      if (r !== undefined) {
        const settled = r.stopped && ((running >= r.runningBefore && running === mine.length) || now - r.sinceMs > VAULT_DEFAULTS.restartSettleMsMax)
        if (!settled) continue
        this.restarting.delete(service)
      }
      if (mine.some(c => c.state !== 'running')) continue
      const refs = this.distinctRefs(secrets)
      const behind = mine.sort((a, b) => a.createdAt - b.createdAt).find(c => {
        const versions = (c.labels[SECRET_LABELS.versions] ?? '').split('.').map(Number)
        return watched.some(w => {
          const now = this.c.cache.versionOf(w)
          const i = refs.findIndex(r => refKey(r) === refKey(w))
          return now !== undefined && versions[i] !== now
        })
      })
      if (behind === undefined) continue
      const state = { runningBefore: running, sinceMs: now, stopped: false }
      this.restarting.set(service, state)
      this.c.metrics?.restarted(service)
      this.log.info({ service, container: behind.id }, 'restarting an agent: a secret it was started with changed (restartOnChange)')
      this.c.event?.({ service, what: 'restart', container: behind.id })
      retire(behind.id, service).catch((err: unknown) => {
        this.log.warn({ service, container: behind.id, err: (err as Error).message }, 'restart for a changed secret failed')
      }).finally(() => {
        state.stopped = true
        state.sinceMs = this.clock()
        this.changed()
      })
    }
  }

  private changed (): void {
    for (const l of [...this.listeners]) {
      try { l() } catch (err) { this.log.warn({ err: (err as Error).message }, 'secrets change listener threw') }
    }
  }
}

/** Written beside, then renamed over: a reader sees the old file or the new one, whole. */
function writeSecretFile (file: string, value: string, mode: number): void {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`
  const fd = openSync(tmp, 'wx', mode)
  try {
    writeSync(fd, value)
  } finally {
    closeSync(fd)
  }
  chmodSync(tmp, mode)
  renameSync(tmp, file)
}
