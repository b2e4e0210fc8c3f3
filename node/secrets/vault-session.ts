/**
 * The supervisor's session with Vault: one token, kept valid, and a view of whether Vault
 * answers. Everything that reads a secret goes through `read`.
 *
 * The token:
 * - `token` auth: read from `vault.auth.tokenFile` (secret-file rules), looked up
 *   (`lookup-self`) for its TTL. The file is read again whenever the token is refused, so a
 *   token rotated by another tool (Vault Agent's sink, say) is picked up.
 * - `approle` auth: `POST auth/{mount}/login` with the role id and the secret id read from
 *   `vault.auth.secretIdFile` (again at every login).
 * - Renewal: at `renewFraction` of the TTL, `renew-self`. When Vault no longer extends it (the
 *   token reached its max TTL, or it is not renewable) or renewal fails, the session logs in
 *   again (AppRole) or reads the token file again, before the token runs out. A failed login is
 *   retried with capped exponential backoff (`retryMsMin` doubling to `retryMsMax`).
 * - A read refused with 403 is retried once after a fresh login when the token itself turns out
 *   to be refused (lookup-self fails): an expired or revoked token is not a policy problem.
 *
 * Vault down: after a read finds Vault unreachable or unavailable (sealed, 5xx), further reads
 * fail at once with that error instead of each waiting out a timeout (a start queued behind
 * another would otherwise wait requestTimeoutMs each), and sys/health is probed with the same
 * backoff; when it answers unsealed, `vault:up` listeners are called (the agent secrets retry
 * what they could not read).
 *
 * What `status()` shows: method, whether Vault answers, the token's TTL left, renewable, counts
 * of logins and renewals, and the last error with its code; never the token.
 */
import type { Logger } from 'pino'
import { createVaultClient, type KvSecret, type TokenInfo, type VaultClient, type VaultClientInit, type VaultOp } from './vault-client.js'
import { VAULT_DEFAULTS } from './vault-defaults.js'
import { isVaultDown, resultLabel, VaultError, VaultErrorCode } from './vault-errors.js'

export type VaultAuth =
  | { method: 'token', tokenFile: string }
  | { method: 'approle', mount: string, roleId: string, secretIdFile: string }

export interface VaultSessionInit extends VaultClientInit {
  auth: VaultAuth
  renewFraction?: number
  retryMsMin?: number
  retryMsMax?: number
}

/** What the session reports; the daemon maps it to prom-client. */
export interface VaultMetricsSink {
  /** One request to Vault and how it ended (`ok` or the code's tail: `forbidden`, `unreachable` …). */
  request: (op: VaultOp, result: string) => void
}

export interface VaultSessionComponents {
  /** Reads a secret file (a token, a secret id) after checking who may read it; throws when it may not. */
  readSecretFile: (file: string, what: string) => string
  log: Logger
  /** Monotonic ms. */
  clock?: () => number
  metrics?: VaultMetricsSink
  /** For tests: a client made elsewhere. */
  client?: VaultClient
}

export interface VaultSessionStatus {
  address: string
  namespace: string
  method: VaultAuth['method']
  /** The last request reached Vault and Vault could serve it. */
  up: boolean
  authenticated: boolean
  /** ms left of the token's TTL; null: no token, or a token that never expires. */
  tokenTtlLeftMs: number | null
  renewable: boolean
  logins: number
  renewals: number
  lastLoginAgoMs: number | null
  lastRenewAgoMs: number | null
  lastError: { code: string, message: string, agoMs: number } | null
}

export class VaultSession {
  private client: VaultClient | undefined
  private readonly clock: () => number
  private readonly log: Logger
  private readonly renewFraction: number
  private readonly retryMsMin: number
  private readonly retryMsMax: number
  /** When the token expires (clock ms); Infinity: never; undefined: no token. */
  private expiresAtMs: number | undefined
  private renewable = false
  private logins = 0
  private renewals = 0
  private lastLoginAtMs: number | undefined
  private lastRenewAtMs: number | undefined
  private lastError: { error: VaultError, atMs: number } | undefined
  private authFailures = 0
  private lastAuthCode: string | undefined
  private loggingIn: Promise<void> | undefined
  private tokenTimer: NodeJS.Timeout | undefined
  /** Vault found down: reads fail fast until this time, and sys/health is probed then. */
  private downUntilMs: number | undefined
  private downError: VaultError | undefined
  private downFailures = 0
  private probeTimer: NodeJS.Timeout | undefined
  private up = true
  private stopped = false
  private readonly upListeners = new Set<() => void>()
  private readonly abort = new AbortController()

  constructor (private readonly init: VaultSessionInit, private readonly c: VaultSessionComponents) {
    this.clock = c.clock ?? (() => performance.now())
    this.log = c.log.child({ component: 'vault' })
    this.renewFraction = init.renewFraction ?? VAULT_DEFAULTS.renewFraction
    this.retryMsMin = init.retryMsMin ?? VAULT_DEFAULTS.retryMsMin
    this.retryMsMax = init.retryMsMax ?? VAULT_DEFAULTS.retryMsMax
    this.client = c.client
  }

  /** Loads node-vault and logs in; a failed first login is not an error here (retried with backoff). */
  async start (): Promise<void> {
    this.client ??= await createVaultClient(this.init)
    await this.authenticate().catch(() => {})
  }

  stop (): void {
    this.stopped = true
    this.abort.abort()
    if (this.tokenTimer !== undefined) clearTimeout(this.tokenTimer)
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer)
  }

  /** Called when Vault answers again after being down. Returns the unsubscribe. */
  onUp (listener: () => void): () => void {
    this.upListeners.add(listener)
    return () => { this.upListeners.delete(listener) }
  }

  /** Reads one KV v2 secret version (0: the latest), logging in first if need be. */
  async read (mount: string, path: string, version: number, signal?: AbortSignal): Promise<KvSecret> {
    const s = this.signal(signal)
    this.failFastWhileDown()
    await this.ensureToken(s)
    try {
      return await this.op('read', async (client) => await client.kvRead(mount, path, version, s))
    } catch (err) {
      if (!(err instanceof VaultError) || err.code !== VaultErrorCode.Forbidden) throw err
      // A 403 is a policy that does not grant the path, or a token Vault no longer knows.
      if (!await this.tokenRefused(s)) throw err
      await this.authenticate(s)
      return await this.op('read', async (client) => await client.kvRead(mount, path, version, s))
    }
  }

  status (): VaultSessionStatus {
    const now = this.clock()
    return {
      address: this.init.address,
      namespace: this.init.namespace,
      method: this.init.auth.method,
      up: this.up,
      authenticated: this.client?.hasToken === true && (this.expiresAtMs === undefined || this.expiresAtMs > now),
      tokenTtlLeftMs: this.expiresAtMs === undefined || this.expiresAtMs === Infinity ? null : Math.max(0, Math.round(this.expiresAtMs - now)),
      renewable: this.renewable,
      logins: this.logins,
      renewals: this.renewals,
      lastLoginAgoMs: this.lastLoginAtMs === undefined ? null : Math.round(now - this.lastLoginAtMs),
      lastRenewAgoMs: this.lastRenewAtMs === undefined ? null : Math.round(now - this.lastRenewAtMs),
      lastError: this.lastError === undefined ? null : { code: this.lastError.error.code, message: this.lastError.error.message, agoMs: Math.round(now - this.lastError.atMs) },
    }
  }

  // ---- the token ---------------------------------------------------------------------------

  private async ensureToken (signal: AbortSignal): Promise<void> {
    if (this.client?.hasToken === true && (this.expiresAtMs === undefined || this.expiresAtMs > this.clock())) return
    await this.authenticate(signal)
  }

  /** Logs in (AppRole) or reads the token file; concurrent callers share one attempt. */
  private async authenticate (signal?: AbortSignal): Promise<void> {
    this.loggingIn ??= this.doAuthenticate(signal ?? this.abort.signal).finally(() => { this.loggingIn = undefined })
    await this.loggingIn
  }

  private async doAuthenticate (signal: AbortSignal): Promise<void> {
    const client = this.client!
    const auth = this.init.auth
    try {
      let info: TokenInfo
      if (auth.method === 'approle') {
        const secretId = this.readFile(auth.secretIdFile, 'AppRole secret id file')
        info = await this.op('login', async (cl) => await cl.approleLogin(auth.mount, auth.roleId, secretId, signal))
      } else {
        client.setToken(this.readFile(auth.tokenFile, 'Vault token file'))
        info = await this.op('lookup', async (cl) => await cl.lookupSelf(signal))
      }
      this.logins++
      this.lastLoginAtMs = this.clock()
      this.authFailures = 0
      this.noteToken(info)
      this.log.info({ method: auth.method, ttlS: Math.round(info.ttlMs / 1000), renewable: info.renewable }, 'vault: authenticated')
    } catch (err) {
      const e = err instanceof VaultError ? err : new VaultError(VaultErrorCode.Auth, (err as Error).message, { cause: err })
      if (e.code === VaultErrorCode.Aborted) throw e
      client.setToken('')
      this.expiresAtMs = undefined
      const sameAsBefore = this.authFailures > 0 && this.lastAuthCode === e.code
      this.lastAuthCode = e.code
      this.authFailures++
      this.noteError(e)
      // Retries of a failure already reported go to debug: a Vault down for an hour is one warning, not thousands.
      this.log[sameAsBefore ? 'debug' : 'warn']({ method: auth.method, code: e.code, err: e.message, failures: this.authFailures }, 'vault: authentication failed')
      this.schedule(() => { void this.authenticate().catch(() => {}) }, this.backoffMs(this.authFailures))
      throw e
    }
  }

  private readFile (file: string, what: string): string {
    try {
      const text = this.c.readSecretFile(file, what).trim()
      if (text === '') throw new Error(`${what} ${file} is empty`)
      return text
    } catch (err) {
      throw new VaultError(VaultErrorCode.Auth, (err as Error).message, { cause: err })
    }
  }

  /** A fresh TTL: schedule the renewal (or the next login) before it runs out. */
  private noteToken (info: TokenInfo): void {
    const now = this.clock()
    this.renewable = info.renewable
    this.expiresAtMs = info.ttlMs === 0 ? Infinity : now + info.ttlMs
    if (info.ttlMs === 0) return // never expires: nothing to renew
    const dueMs = Math.max(VAULT_DEFAULTS.renewMinIntervalMs, info.ttlMs * this.renewFraction)
    this.schedule(() => { void this.renewOrLogin() }, dueMs)
  }

  private async renewOrLogin (): Promise<void> {
    if (this.stopped) return
    const before = this.expiresAtMs ?? 0
    if (this.renewable) {
      try {
        const info = await this.op('renew', async (cl) => await cl.renewSelf(this.abort.signal))
        this.renewals++
        this.lastRenewAtMs = this.clock()
        const extended = this.clock() + info.ttlMs > before + VAULT_DEFAULTS.renewMinIntervalMs
        if (extended && info.ttlMs * this.renewFraction >= VAULT_DEFAULTS.renewMinIntervalMs) {
          this.noteToken(info)
          this.log.debug({ ttlS: Math.round(info.ttlMs / 1000) }, 'vault: token renewed')
          return
        }
        // Capped at its max TTL: keep it while it lasts, log in again before it runs out.
        this.renewable = false
        this.expiresAtMs = this.clock() + info.ttlMs
        this.log.info({ ttlS: Math.round(info.ttlMs / 1000) }, 'vault: token at its max TTL; logging in again')
      } catch (err) {
        if ((err as VaultError).code === VaultErrorCode.Aborted) return
        this.noteError(err as VaultError)
        this.log.warn({ code: (err as VaultError).code, err: (err as Error).message }, 'vault: token renewal failed; logging in again')
      }
    }
    await this.authenticate().catch(() => {})
  }

  /** After a 403: is it the token Vault refuses (rather than the policy)? */
  private async tokenRefused (signal: AbortSignal): Promise<boolean> {
    try {
      await this.op('lookup', async (cl) => await cl.lookupSelf(signal))
      return false
    } catch (err) {
      return err instanceof VaultError && err.code === VaultErrorCode.Auth
    }
  }

  // ---- Vault down --------------------------------------------------------------------------

  private failFastWhileDown (): void {
    if (this.downUntilMs !== undefined && this.clock() < this.downUntilMs && this.downError !== undefined) throw this.downError
  }

  private noteDown (e: VaultError): void {
    if (this.up) this.log.warn({ code: e.code, err: e.message }, 'vault: not answering')
    this.up = false
    this.downFailures++
    this.downError = e
    const waitMs = this.backoffMs(this.downFailures)
    this.downUntilMs = this.clock() + waitMs
    if (this.probeTimer !== undefined || this.stopped) return
    this.probeTimer = setTimeout(() => { this.probeTimer = undefined; void this.probe() }, waitMs)
    this.probeTimer.unref()
  }

  private async probe (): Promise<void> {
    if (this.stopped) return
    try {
      const h = await this.op('health', async (cl) => await cl.health(this.abort.signal))
      if (h.sealed || !h.initialized) { this.noteDown(new VaultError(VaultErrorCode.Unavailable, `sys/health: Vault is ${h.sealed ? 'sealed' : 'not initialized'}`)); return }
    } catch {
      return // op() noted it down again, with a longer wait
    }
    this.noteUp()
  }

  private noteUp (): void {
    const wasDown = !this.up
    this.up = true
    this.downFailures = 0
    this.downUntilMs = undefined
    this.downError = undefined
    if (!wasDown) return
    this.log.info('vault: answering again')
    for (const l of [...this.upListeners]) {
      try { l() } catch (err) { this.log.warn({ err: (err as Error).message }, 'vault: up listener threw') }
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------

  /** One request: counted by outcome; Vault down or back noted. */
  private async op<T> (op: VaultOp, fn: (client: VaultClient) => Promise<T>): Promise<T> {
    try {
      const out = await fn(this.client!)
      this.c.metrics?.request(op, 'ok')
      this.noteUp()
      return out
    } catch (err) {
      const e = err as VaultError
      if (e.code === VaultErrorCode.Aborted) throw e
      this.c.metrics?.request(op, resultLabel(e))
      this.noteError(e)
      if (isVaultDown(e)) this.noteDown(e)
      else this.noteUp() // Vault answered, if only to refuse
      throw e
    }
  }

  private noteError (e: VaultError): void {
    this.lastError = { error: e, atMs: this.clock() }
  }

  private backoffMs (failures: number): number {
    return Math.min(this.retryMsMax, this.retryMsMin * 2 ** Math.min(20, Math.max(0, failures - 1)))
  }

  private schedule (fn: () => void, delayMs: number): void {
    if (this.stopped) return
    if (this.tokenTimer !== undefined) clearTimeout(this.tokenTimer)
    this.tokenTimer = setTimeout(() => { this.tokenTimer = undefined; fn() }, delayMs)
    this.tokenTimer.unref()
  }

  private signal (signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.abort.signal : AbortSignal.any([signal, this.abort.signal])
  }
}
