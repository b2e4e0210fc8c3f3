/**
 * Secrets read from Vault, kept in this process's memory only: never written to a file, the
 * state file, a log line, an event, a metric label or an HTTP answer (what leaves this module is
 * a version number, an age and an error code).
 *
 * - `read` asks Vault every time (a start reads its secrets when it happens); concurrent reads of
 *   one secret share one request. When Vault does not answer or refuses (see `cacheMayServe`),
 *   the copy in memory serves if it was read less than `maxStaleMs` ago; older, the read fails
 *   with E_VAULT_STALE, its cause Vault's own error. Without a copy, Vault's error.
 * - `retain` names the secrets agents on this host use now: those are read again every
 *   `refreshIntervalMs` (sooner when Vault gives a lease), and a new version is announced to the
 *   `changed` listeners. A secret no agent has used for a refresh interval is dropped; at most
 *   `maxEntries` are kept (the least recently used one no agent needs goes first).
 */
import type { Logger } from 'pino'
import type { KvSecret } from './vault-client.js'
import { cacheMayServe, VaultError, VaultErrorCode } from './vault-errors.js'

/** One secret in Vault: a KV v2 mount, a path under it, a version (0: the latest). */
export interface SecretRef { mount: string, path: string, version: number }

export function refKey (r: SecretRef): string {
  return `${r.mount}/${r.path}@${r.version}`
}

export function refText (r: SecretRef): string {
  return `${r.mount}/${r.path}${r.version > 0 ? ` version ${r.version}` : ''}`
}

export interface SecretRead {
  data: ReadonlyMap<string, string>
  version: number
  /** Age of the copy, ms (0 when read just now). */
  ageMs: number
  /** false: Vault did not answer and the copy in memory served; `error` says why. */
  fresh: boolean
  error?: VaultError
}

export interface SecretCacheInit {
  maxStaleMs: number
  refreshIntervalMs: number
  maxEntries: number
}

export interface SecretCacheComponents {
  read: (mount: string, path: string, version: number, signal?: AbortSignal) => Promise<KvSecret>
  log: Logger
  /** Monotonic ms. */
  clock?: () => number
}

export interface SecretCacheEntryStatus { secret: string, version: number | null, ageMs: number | null, inUse: boolean, lastError: { code: string, message: string } | null }

interface Entry {
  ref: SecretRef
  data?: Map<string, string>
  version: number
  fetchedAtMs: number
  leaseMs: number
  lastUsedMs: number
  /** When the next refresh is due (retained entries only). */
  dueMs: number
  lastError?: VaultError
}

export type SecretChangeListener = (ref: SecretRef, fromVersion: number, toVersion: number) => void

export class SecretCache {
  private readonly entries = new Map<string, Entry>()
  private readonly inflight = new Map<string, Promise<KvSecret>>()
  private retained = new Set<string>()
  private readonly listeners = new Set<SecretChangeListener>()
  private readonly clock: () => number
  private timer: NodeJS.Timeout | undefined
  private refreshing = false
  private stopped = false

  constructor (private readonly init: SecretCacheInit, private readonly c: SecretCacheComponents) {
    this.clock = c.clock ?? (() => performance.now())
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    for (const e of this.entries.values()) e.data?.clear()
    this.entries.clear()
  }

  onChanged (listener: SecretChangeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** Reads from Vault; the copy in memory only when Vault does not answer or refuses, up to maxStaleMs. */
  async read (ref: SecretRef, signal?: AbortSignal): Promise<SecretRead> {
    const key = refKey(ref)
    try {
      const s = await this.fetch(ref, signal)
      const e = this.entries.get(key)
      if (e !== undefined) e.lastUsedMs = this.clock()
      return { data: s.data, version: s.version, ageMs: 0, fresh: true }
    } catch (err) {
      const error = err instanceof VaultError ? err : new VaultError(VaultErrorCode.BadResponse, (err as Error).message, { cause: err })
      const e = this.entries.get(key)
      if (!cacheMayServe(error) || e?.data === undefined) throw error
      const ageMs = Math.round(this.clock() - e.fetchedAtMs)
      if (ageMs > this.init.maxStaleMs) {
        throw new VaultError(VaultErrorCode.Stale, `${refText(ref)}: the copy in memory is ${(ageMs / 1000).toFixed(1)} s old, past vault.maxStaleMs (${(this.init.maxStaleMs / 1000).toFixed(1)} s), and Vault fails: ${error.code} ${error.message}`, { cause: error })
      }
      e.lastUsedMs = this.clock()
      return { data: e.data, version: e.version, ageMs, fresh: false, error }
    }
  }

  /** The secrets agents here use now: kept, and refreshed. Others are dropped after a refresh interval unused. */
  retain (refs: Iterable<SecretRef>): void {
    const now = this.clock()
    const keep = new Set<string>()
    for (const r of refs) {
      const key = refKey(r)
      keep.add(key)
      let e = this.entries.get(key)
      if (e === undefined) {
        // Adopted agents (a restarted supervisor) use secrets this process never read: read them.
        e = { ref: r, version: 0, fetchedAtMs: -Infinity, leaseMs: 0, lastUsedMs: now, dueMs: now }
        this.entries.set(key, e)
      }
      e.lastUsedMs = now
    }
    this.retained = keep
    for (const [key, e] of this.entries) {
      if (!keep.has(key) && now - e.lastUsedMs > this.init.refreshIntervalMs) this.drop(key, e)
    }
    this.evictOverLimit()
    this.scheduleRefresh()
  }

  /** Refresh every retained secret now (Vault is back). */
  refreshSoon (): void {
    const now = this.clock()
    for (const key of this.retained) { const e = this.entries.get(key); if (e !== undefined) e.dueMs = Math.min(e.dueMs, now) }
    this.scheduleRefresh()
  }

  /** The version in memory, for comparing with what an agent was started with; undefined: none. */
  versionOf (ref: SecretRef): number | undefined {
    const e = this.entries.get(refKey(ref))
    return e?.data === undefined ? undefined : e.version
  }

  /** Age of the copy in memory, ms; undefined: none. */
  ageOf (ref: SecretRef): number | undefined {
    const e = this.entries.get(refKey(ref))
    return e?.data === undefined ? undefined : Math.round(this.clock() - e.fetchedAtMs)
  }

  /** The copy in memory (for rewriting secret files of running agents). */
  peek (ref: SecretRef): ReadonlyMap<string, string> | undefined {
    return this.entries.get(refKey(ref))?.data
  }

  status (): SecretCacheEntryStatus[] {
    const now = this.clock()
    return [...this.entries.values()].sort((a, b) => refKey(a.ref) < refKey(b.ref) ? -1 : 1).map(e => ({
      secret: refText(e.ref),
      version: e.data === undefined ? null : e.version,
      ageMs: e.data === undefined ? null : Math.round(now - e.fetchedAtMs),
      inUse: this.retained.has(refKey(e.ref)),
      lastError: e.lastError === undefined ? null : { code: e.lastError.code, message: e.lastError.message },
    }))
  }

  /** One request per secret at a time; the entry is updated (and a new version announced) on success. */
  private async fetch (ref: SecretRef, signal?: AbortSignal): Promise<KvSecret> {
    const key = refKey(ref)
    let p = this.inflight.get(key)
    if (p === undefined) {
      p = this.c.read(ref.mount, ref.path, ref.version, signal).finally(() => this.inflight.delete(key))
      this.inflight.set(key, p)
      p.then((s) => this.store(ref, s), (err: unknown) => this.noteFailure(ref, err)).catch(() => {})
    }
    return await p
  }

  private store (ref: SecretRef, s: KvSecret): void {
    if (this.stopped) return
    const key = refKey(ref)
    const now = this.clock()
    const e = this.entries.get(key) ?? { ref, version: 0, fetchedAtMs: now, leaseMs: 0, lastUsedMs: now, dueMs: now }
    const before = e.data === undefined ? undefined : e.version
    e.data?.clear()
    e.data = new Map(s.data)
    e.version = s.version
    e.fetchedAtMs = now
    e.leaseMs = s.leaseMs
    e.dueMs = now + this.periodMs(e)
    e.lastError = undefined
    this.entries.set(key, e)
    this.evictOverLimit()
    if (before !== undefined && before !== s.version) {
      this.c.log.info({ secret: refText(ref), fromVersion: before, toVersion: s.version }, 'vault: secret changed')
      for (const l of [...this.listeners]) {
        try { l(ref, before, s.version) } catch (err) { this.c.log.warn({ err: (err as Error).message }, 'vault: change listener threw') }
      }
    }
  }

  private noteFailure (ref: SecretRef, err: unknown): void {
    const e = this.entries.get(refKey(ref))
    if (e === undefined || !(err instanceof VaultError)) return
    e.lastError = err
    e.dueMs = this.clock() + this.init.refreshIntervalMs
  }

  private periodMs (e: Entry): number {
    return e.leaseMs > 0 ? Math.min(e.leaseMs, this.init.refreshIntervalMs) : this.init.refreshIntervalMs
  }

  private drop (key: string, e: Entry): void {
    e.data?.clear()
    this.entries.delete(key)
  }

  private evictOverLimit (): void {
    if (this.entries.size <= this.init.maxEntries) return
    const spare = [...this.entries].filter(([key]) => !this.retained.has(key)).sort((a, b) => a[1].lastUsedMs - b[1].lastUsedMs)
    for (const [key, e] of spare) {
      if (this.entries.size <= this.init.maxEntries) return
      this.drop(key, e)
    }
  }

  private scheduleRefresh (): void {
    if (this.stopped || this.refreshing) return
    let due = Infinity
    for (const key of this.retained) { const e = this.entries.get(key); if (e !== undefined) due = Math.min(due, e.dueMs) }
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (due === Infinity) return
    this.timer = setTimeout(() => { this.timer = undefined; void this.refreshDue() }, Math.max(0, due - this.clock()))
    this.timer.unref()
  }

  /** Reads every retained secret that is due, one at a time. */
  private async refreshDue (): Promise<void> {
    this.refreshing = true
    try {
      for (const key of [...this.retained]) {
        const e = this.entries.get(key)
        if (this.stopped || e === undefined || e.dueMs > this.clock()) continue
        await this.fetch(e.ref).catch(() => {})
      }
    } finally {
      this.refreshing = false
      this.scheduleRefresh()
    }
  }
}
