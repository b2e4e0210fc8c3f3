/**
 * A STAND-IN for HashiCorp Vault, for tests only: no Vault server can be installed on the
 * machines these tests run on, so this small HTTP server implements the subset of Vault's
 * documented HTTP API (https://developer.hashicorp.com/vault/api-docs) that the supervisor uses,
 * with the same paths, headers, status codes and JSON shapes, so the supervisor's client code
 * (node-vault, node/secrets/) is exactly what runs against a real Vault. It runs in a process of
 * its own (vault-stand-in-main.ts), so "Vault stopped" is a real process gone and a real
 * connection refused.
 *
 * Implemented, as documented:
 * - `X-Vault-Token` on every request but login; `X-Vault-Namespace` (a token, its roles and its
 *   secrets belong to one namespace; "" is the root namespace);
 * - errors as `{"errors": [...]}`: 400 bad request, 403 `permission denied` (no, unknown or
 *   expired token, or a policy that does not grant the path), 404 `{"errors": []}` (no such
 *   secret), 405, 503 `Vault is sealed`;
 * - `GET /v1/sys/health` (200 unsealed and active, 503 sealed; the body either way),
 *   `PUT /v1/sys/seal` (root), `PUT /v1/sys/unseal` with the unseal key;
 * - KV version 2 on the configured mounts: `GET /v1/{mount}/data/{path}[?version=N]` (`data.data`,
 *   `data.metadata.version`, `created_time`, `deletion_time`, `destroyed`; a deleted version is a
 *   404 that still carries its metadata), `POST|PUT /v1/{mount}/data/{path}` (`{"data", "options"}`),
 *   `DELETE /v1/{mount}/data/{path}` (soft-deletes the latest version);
 * - AppRole: `POST /v1/auth/approle/login` (`role_id`, `secret_id`; `auth.client_token`,
 *   `auth.lease_duration`, `auth.renewable`, `token_policies`), 400 `invalid role or secret ID`;
 *   `POST /v1/auth/approle/role/{name}` (root) changes `token_policies`, `token_ttl`, `token_max_ttl`;
 * - token: `GET /v1/auth/token/lookup-self` (`data.ttl`, `data.renewable`, `data.policies`,
 *   `data.expire_time` …), `POST /v1/auth/token/renew-self` (`increment`; capped at the token's
 *   max TTL, with Vault's warning), 400 `lease is not renewable` for a token that is not;
 * - ACL policies in Vault's JSON policy syntax (`{"path": {"secret/data/x": {"capabilities":
 *   ["read"]}}}`, `*` as a trailing glob), set with `PUT /v1/sys/policies/acl/{name}` (root).
 *
 * Not implemented: HCL policy syntax (the JSON syntax is Vault's own alternative), `+` path
 * segments, leases of dynamic secrets, response wrapping, KV v1, every other engine and auth
 * method. State (secrets, roles, tokens, policies) is kept in one JSON file, Vault's "storage",
 * so a restarted stand-in keeps its tokens and secrets as a restarted Vault does.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'

/** What the stand-in starts with (a JSON file; see VaultStandInProcess). */
export interface StandInSeed {
  /** The root token: every capability everywhere, never expires. */
  rootToken: string
  /** The one unseal key (`PUT /v1/sys/unseal`). */
  unsealKey: string
  /** KV v2 mounts per namespace ("" is the root namespace). */
  mounts: Record<string, string[]>
  /** Secrets to create, each as version 1. */
  secrets?: Array<{ namespace?: string, mount: string, path: string, data: Record<string, string> }>
  policies?: Array<{ namespace?: string, name: string, paths: Record<string, string[]> }>
  roles?: Array<{ namespace?: string, name: string, roleId: string, secretIds: string[], policies: string[], ttlS: number, maxTtlS: number }>
  /** Tokens given out of band (an operator's `vault token create`), for token-file auth. */
  tokens?: Array<{ namespace?: string, token: string, policies: string[], ttlS: number, maxTtlS?: number, renewable: boolean }>
}

interface Version { data: Record<string, string> | null, createdMs: number, deletedMs: number }
interface Token { namespace: string, policies: string[], issuedMs: number, expiresMs: number, maxExpiresMs: number, ttlS: number, renewable: boolean, accessor: string, path: string }
interface Role { name: string, roleId: string, secretIds: string[], policies: string[], ttlS: number, maxTtlS: number }
interface State {
  sealed: boolean
  mounts: Record<string, string[]>
  /** `${namespace}|${mount}|${path}` → versions (index 0 is version 1). */
  secrets: Record<string, Version[]>
  /** `${namespace}|${name}` → path glob → capabilities. */
  policies: Record<string, Record<string, string[]>>
  roles: Record<string, Role>
  tokens: Record<string, Token>
}

/** One line per request, for the tests: never the token or a body. */
export interface RequestRecord { method: string, path: string, status: number, namespace: string, hadToken: boolean }

export class VaultStandIn {
  private state: State
  private server: Server | undefined
  readonly requests: RequestRecord[] = []

  constructor (private readonly seed: StandInSeed, private readonly stateFile: string, private readonly tls?: { cert: Buffer, key: Buffer }) {
    this.state = this.load() ?? this.fromSeed()
    this.save()
  }

  async listen (port: number, host = '127.0.0.1'): Promise<number> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => { void this.handle(req, res) }
    this.server = this.tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: this.tls.cert, key: this.tls.key }, handler)
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(port, host, () => resolve())
    })
    return (this.server.address() as { port: number }).port
  }

  onRequest: (r: RequestRecord) => void = () => {}

  private fromSeed (): State {
    const s: State = { sealed: false, mounts: this.seed.mounts, secrets: {}, policies: {}, roles: {}, tokens: {} }
    const now = Date.now()
    for (const x of this.seed.secrets ?? []) s.secrets[key(x.namespace ?? '', x.mount, x.path)] = [{ data: x.data, createdMs: now, deletedMs: 0 }]
    for (const p of this.seed.policies ?? []) s.policies[`${p.namespace ?? ''}|${p.name}`] = p.paths
    for (const r of this.seed.roles ?? []) s.roles[`${r.namespace ?? ''}|${r.roleId}`] = { name: r.name, roleId: r.roleId, secretIds: r.secretIds, policies: r.policies, ttlS: r.ttlS, maxTtlS: r.maxTtlS }
    for (const t of this.seed.tokens ?? []) {
      s.tokens[t.token] = {
        namespace: t.namespace ?? '', policies: t.policies, issuedMs: now, ttlS: t.ttlS, renewable: t.renewable, accessor: randomId(), path: 'auth/token/create',
        expiresMs: t.ttlS === 0 ? 0 : now + t.ttlS * 1000, maxExpiresMs: (t.maxTtlS ?? 0) === 0 ? 0 : now + t.maxTtlS! * 1000,
      }
    }
    return s
  }

  private load (): State | undefined {
    try { return JSON.parse(readFileSync(this.stateFile, 'utf8')) as State } catch { return undefined }
  }

  private save (): void {
    writeFileSync(`${this.stateFile}.tmp`, JSON.stringify(this.state))
    renameSync(`${this.stateFile}.tmp`, this.stateFile)
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stand-in')
    const namespace = String(req.headers['x-vault-namespace'] ?? '').replace(/^\/+|\/+$/g, '')
    const token = req.headers['x-vault-token']
    let status = 500
    const send = (code: number, body?: unknown): void => {
      status = code
      if (body === undefined) { res.writeHead(code).end(); return }
      const text = JSON.stringify(body)
      res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
    }
    try {
      const body = await readBody(req)
      this.route(req.method ?? 'GET', url, namespace, typeof token === 'string' ? token : undefined, body, send)
    } catch (err) {
      send(400, { errors: [`failed to parse JSON input: ${(err as Error).message}`] })
    }
    const record = { method: req.method ?? '', path: url.pathname, status, namespace, hadToken: typeof token === 'string' }
    this.requests.push(record)
    if (this.requests.length > 10_000) this.requests.shift()
    this.onRequest(record)
  }

  private route (method: string, url: URL, ns: string, token: string | undefined, body: Record<string, unknown>, send: (code: number, body?: unknown) => void): void {
    const path = url.pathname
    if (!path.startsWith('/v1/')) return send(404, { errors: [] })
    const p = path.slice('/v1/'.length)
    if (p === 'sys/health' && method === 'GET') return send(this.state.sealed ? 503 : 200, this.health())
    if (p === 'sys/unseal' && (method === 'PUT' || method === 'POST')) return this.unseal(body, send)
    if (this.state.sealed) return send(503, { errors: ['Vault is sealed'] })
    if (p === 'auth/approle/login' && method === 'POST') return this.approleLogin(ns, body, send)
    const t = token === undefined ? undefined : this.state.tokens[token]
    const now = Date.now()
    if (t === undefined || (t.expiresMs !== 0 && t.expiresMs <= now) || t.namespace !== (token === this.seed.rootToken ? t.namespace : ns)) {
      return send(403, { errors: ['permission denied'] })
    }
    const root = token === this.seed.rootToken
    if (p === 'auth/token/lookup-self' && method === 'GET') return send(200, envelope({ data: this.lookup(token!, t, now) }))
    if (p === 'auth/token/renew-self' && (method === 'POST' || method === 'PUT')) return this.renewSelf(token!, t, body, now, send)
    if (p === 'sys/seal' && (method === 'PUT' || method === 'POST')) {
      if (!root) return send(403, { errors: ['permission denied'] })
      this.state.sealed = true
      this.save()
      return send(204)
    }
    if (p.startsWith('sys/policies/acl/') && method === 'PUT') {
      if (!root) return send(403, { errors: ['permission denied'] })
      const parsed = JSON.parse(String(body.policy ?? '{}')) as { path?: Record<string, { capabilities?: string[] }> }
      this.state.policies[`${ns}|${p.slice('sys/policies/acl/'.length)}`] = Object.fromEntries(Object.entries(parsed.path ?? {}).map(([k, v]) => [k, v.capabilities ?? []]))
      this.save()
      return send(204)
    }
    const roleMatch = /^auth\/approle\/role\/([^/]+)$/.exec(p)
    if (roleMatch !== null && method === 'POST') {
      if (!root) return send(403, { errors: ['permission denied'] })
      const role = Object.values(this.state.roles).find(r => r.name === roleMatch[1])
      if (role === undefined) return send(404, { errors: [] })
      if (Array.isArray(body.token_policies)) role.policies = body.token_policies.map(String)
      if (typeof body.token_ttl === 'number') role.ttlS = body.token_ttl
      if (typeof body.token_max_ttl === 'number') role.maxTtlS = body.token_max_ttl
      this.save()
      return send(204)
    }
    const kv = this.kvPath(ns, p)
    if (kv === undefined) return send(404, { errors: [`no handler for route "${p}". route entry not found.`] })
    const capability = method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'update'
    if (!root && !this.allows(t, `${kv.mount}/data/${kv.path}`, capability)) return send(403, { errors: ['1 error occurred:\n\t* permission denied\n\n'] })
    if (method === 'GET') return this.kvRead(ns, kv.mount, kv.path, url.searchParams.get('version'), send)
    if (method === 'POST' || method === 'PUT') return this.kvWrite(ns, kv.mount, kv.path, body, send)
    if (method === 'DELETE') return this.kvDelete(ns, kv.mount, kv.path, send)
    return send(405, { errors: [] })
  }

  private health (): Record<string, unknown> {
    return {
      initialized: true, sealed: this.state.sealed, standby: false, performance_standby: false,
      replication_performance_mode: 'disabled', replication_dr_mode: 'disabled',
      server_time_utc: Math.floor(Date.now() / 1000), version: '1.15.0-agentmesh-stand-in', cluster_name: 'vault-cluster-stand-in', cluster_id: 'stand-in',
    }
  }

  private unseal (body: Record<string, unknown>, send: (code: number, body?: unknown) => void): void {
    if (body.key === this.seed.unsealKey) { this.state.sealed = false; this.save() }
    send(200, { type: 'shamir', initialized: true, sealed: this.state.sealed, t: 1, n: 1, progress: 0, nonce: '', version: '1.15.0-agentmesh-stand-in' })
  }

  private approleLogin (ns: string, body: Record<string, unknown>, send: (code: number, body?: unknown) => void): void {
    if (typeof body.role_id !== 'string') return send(400, { errors: ['missing role_id'] })
    const role = this.state.roles[`${ns}|${body.role_id}`]
    if (role === undefined || typeof body.secret_id !== 'string' || !role.secretIds.includes(body.secret_id)) return send(400, { errors: ['invalid role or secret ID'] })
    const token = `hvs.${randomBytes(18).toString('base64url')}`
    const now = Date.now()
    const t: Token = {
      namespace: ns, policies: ['default', ...role.policies], issuedMs: now, ttlS: role.ttlS, renewable: true, accessor: randomId(), path: 'auth/approle/login',
      expiresMs: now + role.ttlS * 1000, maxExpiresMs: now + role.maxTtlS * 1000,
    }
    this.state.tokens[token] = t
    this.save()
    send(200, envelope({
      auth: {
        client_token: token, accessor: t.accessor, policies: t.policies, token_policies: t.policies, metadata: { role_name: role.name },
        lease_duration: role.ttlS, renewable: true, entity_id: '', token_type: 'service', orphan: true, mfa_requirement: null, num_uses: 0,
      },
    }))
  }

  private lookup (token: string, t: Token, now: number): Record<string, unknown> {
    return {
      accessor: t.accessor, creation_time: Math.floor(t.issuedMs / 1000), creation_ttl: t.ttlS, display_name: t.path === 'auth/approle/login' ? 'approle' : 'token',
      entity_id: '', expire_time: t.expiresMs === 0 ? null : new Date(t.expiresMs).toISOString(), explicit_max_ttl: 0,
      id: token, issue_time: new Date(t.issuedMs).toISOString(), meta: null, num_uses: 0, orphan: true, path: t.path,
      policies: t.policies, renewable: t.renewable, ttl: t.expiresMs === 0 ? 0 : Math.max(0, Math.floor((t.expiresMs - now) / 1000)), type: 'service',
    }
  }

  private renewSelf (token: string, t: Token, body: Record<string, unknown>, now: number, send: (code: number, body?: unknown) => void): void {
    if (!t.renewable || t.expiresMs === 0) return send(400, { errors: ['lease is not renewable'] })
    const asked = typeof body.increment === 'number' ? body.increment : typeof body.increment === 'string' ? parseDurationS(body.increment) : t.ttlS
    let ttlS = asked
    const warnings: string[] = []
    if (t.maxExpiresMs !== 0 && now + ttlS * 1000 > t.maxExpiresMs) {
      ttlS = Math.max(0, Math.floor((t.maxExpiresMs - now) / 1000))
      warnings.push(`TTL of "${asked}s" exceeded the effective max_ttl of "${ttlS}s"; TTL value is capped accordingly`)
    }
    t.expiresMs = now + ttlS * 1000
    this.save()
    send(200, envelope({
      auth: { client_token: token, accessor: t.accessor, policies: t.policies, token_policies: t.policies, metadata: null, lease_duration: ttlS, renewable: true, entity_id: '', token_type: 'service', orphan: true, num_uses: 0 },
      warnings: warnings.length === 0 ? null : warnings,
    }))
  }

  private kvPath (ns: string, p: string): { mount: string, path: string } | undefined {
    for (const mount of this.state.mounts[ns] ?? []) {
      const prefix = `${mount}/data/`
      if (p.startsWith(prefix) && p.length > prefix.length) return { mount, path: p.slice(prefix.length) }
    }
    return undefined
  }

  private allows (t: Token, path: string, capability: string): boolean {
    let allowed = false
    for (const name of t.policies) {
      const rules = this.state.policies[`${t.namespace}|${name}`]
      if (rules === undefined) continue
      for (const [glob, caps] of Object.entries(rules)) {
        const hit = glob.endsWith('*') ? path.startsWith(glob.slice(0, -1)) : path === glob
        if (!hit) continue
        if (caps.includes('deny')) return false
        if (caps.includes(capability) || (capability === 'update' && caps.includes('create'))) allowed = true
      }
    }
    return allowed
  }

  private kvRead (ns: string, mount: string, path: string, versionText: string | null, send: (code: number, body?: unknown) => void): void {
    const versions = this.state.secrets[key(ns, mount, path)]
    if (versions === undefined || versions.length === 0) return send(404, { errors: [] })
    const version = versionText === null || versionText === '0' ? versions.length : Number(versionText)
    const v = versions[version - 1]
    if (!Number.isInteger(version) || v === undefined) return send(404, { errors: [] })
    const metadata = { created_time: new Date(v.createdMs).toISOString(), custom_metadata: null, deletion_time: v.deletedMs === 0 ? '' : new Date(v.deletedMs).toISOString(), destroyed: false, version }
    // A deleted version is a 404 that still carries its metadata, as Vault answers it.
    if (v.deletedMs !== 0 || v.data === null) return send(404, envelope({ data: { data: null, metadata } }))
    send(200, envelope({ data: { data: v.data, metadata } }))
  }

  private kvWrite (ns: string, mount: string, path: string, body: Record<string, unknown>, send: (code: number, body?: unknown) => void): void {
    const data = body.data
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return send(400, { errors: ['no data provided'] })
    const k = key(ns, mount, path)
    const versions = this.state.secrets[k] ?? []
    const now = Date.now()
    versions.push({ data: Object.fromEntries(Object.entries(data).map(([a, b]) => [a, String(b)])), createdMs: now, deletedMs: 0 })
    this.state.secrets[k] = versions
    this.save()
    send(200, envelope({ data: { created_time: new Date(now).toISOString(), custom_metadata: null, deletion_time: '', destroyed: false, version: versions.length } }))
  }

  private kvDelete (ns: string, mount: string, path: string, send: (code: number, body?: unknown) => void): void {
    const versions = this.state.secrets[key(ns, mount, path)]
    const latest = versions?.[versions.length - 1]
    if (latest !== undefined) { latest.deletedMs = Date.now(); this.save() }
    send(204)
  }
}

function key (ns: string, mount: string, path: string): string {
  return `${ns}|${mount}|${path}`
}

/** Vault's response envelope around `data` or `auth`. */
function envelope (fields: Record<string, unknown>): Record<string, unknown> {
  return { request_id: randomUuid(), lease_id: '', renewable: false, lease_duration: 0, data: null, wrap_info: null, warnings: null, auth: null, ...fields }
}

function randomId (): string {
  return randomBytes(12).toString('base64url')
}

function randomUuid (): string {
  const h = randomBytes(16).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** `90`, `90s`, `5m`, `1h`: seconds. */
function parseDurationS (text: string): number {
  const m = /^(\d+)([smh]?)$/.exec(text)
  if (m === null) return 0
  return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600 } as Record<string, number>)[m[2]]
}

async function readBody (req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return {}
  const v = JSON.parse(text) as unknown
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {}
}
