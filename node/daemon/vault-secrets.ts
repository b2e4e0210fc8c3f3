/**
 * The daemon's Vault parts, built from its config when `vault.address` is set: the session
 * (login, renewal), the in-memory cache, the agents' secrets (the runtime driver's start
 * preparer), and the reads at start of the swarm key and the API token. Also what they show
 * in /v1/status, /metrics and /v1/events: versions, ages, codes, never a value.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { AgentSecrets, SecretCache, VaultError, VaultErrorCode, VaultSession, memoryFsProblem, ownershipProblem, type SecretCacheEntryStatus, type ServiceSecretsStatus, type VaultSessionStatus } from '../secrets/index.js'
import type { DaemonConfig } from './config.js'
import type { VaultKeyRef } from './config-vault.js'
import { DaemonError, DaemonErrorCode } from './errors.js'
import type { EventLog } from './event-log.js'
import type { DaemonMetrics } from './metrics.js'
import { readSecretFile } from './secret-file.js'

export interface VaultStatus {
  address: string
  namespace: string
  auth: Omit<VaultSessionStatus, 'address' | 'namespace'>
  services: ServiceSecretsStatus[]
  secrets: SecretCacheEntryStatus[]
}

export class VaultSecrets {
  readonly session: VaultSession
  readonly cache: SecretCache
  readonly agents: AgentSecrets
  private readonly log: Logger

  constructor (private readonly config: DaemonConfig & { vault: NonNullable<DaemonConfig['vault']> }, log: Logger, metrics: DaemonMetrics, events: EventLog, clock: () => number) {
    const v = config.vault
    this.log = log
    this.session = new VaultSession({
      address: v.address,
      namespace: v.namespace,
      ...(v.caFile === '' ? {} : { ca: readFileSync(v.caFile) }),
      requestTimeoutMs: v.requestTimeoutMs,
      maxSecretBytes: v.maxSecretBytes,
      auth: v.auth.method === 'token'
        ? { method: 'token', tokenFile: v.auth.tokenFile }
        : { method: 'approle', mount: v.auth.mount, roleId: v.auth.roleId, secretIdFile: v.auth.secretIdFile },
      renewFraction: v.auth.renewFraction,
      retryMsMin: v.retryMsMin,
      retryMsMax: v.retryMsMax,
    }, {
      readSecretFile: (file, what) => readSecretFile(file, what).toString('utf8'),
      log,
      metrics: { request: (op, result) => metrics.vaultRequests.inc({ op, result }) },
    })
    this.cache = new SecretCache({ maxStaleMs: v.maxStaleMs, refreshIntervalMs: v.refreshIntervalMs, maxEntries: v.maxCachedSecrets }, {
      read: async (mount, path, version, signal) => await this.session.read(mount, path, version, signal),
      log,
    })
    const kind = config.runtime.kind === 'docker' ? 'docker' : 'process'
    this.agents = new AgentSecrets({
      services: config.secrets,
      hostDir: join(config.runtime.secretsDir, config.hostId),
      runtimeKind: kind,
      retryMsMin: v.retryMsMin,
      retryMsMax: v.retryMsMax,
    }, {
      cache: this.cache,
      onVaultUp: (listener) => this.session.onUp(listener),
      log,
      metrics: {
        resolved: (service, result) => metrics.secretResolutions.inc({ service, result }),
        restarted: (service) => metrics.secretRestarts.inc({ service }),
      },
      event: (data) => events.push('secret', clock(), data),
    })
    metrics.vaultStatus = () => {
      const s = this.session.status()
      return { up: s.up, tokenTtlLeftMs: s.tokenTtlLeftMs, unavailable: this.agents.unavailable(), ages: this.serviceAges() }
    }
  }

  /** Logs in (a failure is retried in the background) and makes this host's secrets folder (E_SECRETS_DIR when it may not hold secrets). */
  async start (): Promise<void> {
    await this.session.start()
    if (this.config.runtime.kind === 'none') return
    const dir = this.config.runtime.secretsDir
    const problem = memoryFsProblem(dir) ?? ownershipProblem(dir)
    if (problem !== undefined && Object.values(this.config.secrets).some(list => list.some(s => s.file !== undefined))) throw new DaemonError(DaemonErrorCode.SecretsDir, problem)
    try {
      this.agents.start()
    } catch (err) {
      throw new DaemonError(DaemonErrorCode.SecretsDir, `cannot make ${join(dir, this.config.hostId)}: ${(err as Error).message}`, [], { cause: err })
    }
  }

  stop (): void {
    this.agents.stop()
    this.cache.stop()
    this.session.stop()
  }

  /**
   * One key read at start (the swarm key, the API token): retried with the session's backoff
   * until `vault.startTimeoutMs`; then Vault's last error. The value is returned, never kept.
   */
  async readAtStart (ref: VaultKeyRef, what: string, signal?: AbortSignal): Promise<string> {
    const deadline = performance.now() + this.config.vault.startTimeoutMs
    let waitMs = this.config.vault.retryMsMin
    for (let attempt = 1; ; attempt++) {
      try {
        const kv = await this.session.read(ref.mount, ref.path, 0, signal)
        const value = kv.data.get(ref.key)
        if (value === undefined) throw new VaultError(VaultErrorCode.KeyMissing, `${what}: ${ref.mount}/${ref.path} has no key "${ref.key}"`)
        return value
      } catch (err) {
        const e = err as VaultError
        const permanent = e.code === VaultErrorCode.KeyMissing || e.code === VaultErrorCode.NotFound || e.code === VaultErrorCode.Aborted
        if (permanent || performance.now() + waitMs > deadline) {
          throw new VaultError(e.code, `${what} from Vault (${ref.mount}/${ref.path}, key ${ref.key}): ${e.message}`, { cause: e })
        }
        this.log.warn({ what, attempt, code: e.code, err: e.message, retryInMs: waitMs }, 'cannot read from Vault at start; trying again')
        await new Promise(resolve => setTimeout(resolve, waitMs))
        waitMs = Math.min(this.config.vault.retryMsMax, waitMs * 2)
      }
    }
  }

  status (): VaultStatus {
    const { address, namespace, ...auth } = this.session.status()
    return { address, namespace, auth, services: this.agents.status(), secrets: this.cache.status() }
  }

  /** Per service, the age of the oldest copy in memory among its secrets (seconds); services with none absent. */
  private serviceAges (): Map<string, number> {
    const ages = new Map<string, number>()
    for (const [service, list] of Object.entries(this.config.secrets)) {
      let oldest: number | undefined
      for (const s of list) {
        const age = this.cache.ageOf(s)
        if (age !== undefined) oldest = Math.max(oldest ?? 0, age)
      }
      if (oldest !== undefined) ages.set(service, oldest / 1000)
    }
    return ages
  }
}
