/**
 * Vault's HTTP API, the part the supervisor uses, through `node-vault` (0.12: axios underneath):
 * KV version 2 reads, AppRole login, token lookup-self and renew-self, sys/health. Every answer is
 * checked against the shape Vault documents and every failure becomes a `VaultError` with a
 * stable code; nothing here keeps state but the token in use.
 *
 * node-vault reads the environment when nothing is passed (VAULT_ADDR, VAULT_TOKEN,
 * VAULT_NAMESPACE, VAULT_PREFIX, and VAULT_SKIP_VERIFY, which switches certificate checks off),
 * and its `debug` output (DEBUG=node-vault) prints request bodies, an AppRole secret id among
 * them. So every one of those is set explicitly here, and `debug` is a function that prints
 * nothing: what the config says is what runs, and no secret reaches stderr.
 *
 * TLS: `ca` (the PEM of `vault.caFile`) goes into node-vault's `requestOptions`, from which it
 * builds the https.Agent every request uses; without it, Node's own CA store. Certificate
 * verification is never switched off.
 *
 * Loaded lazily (`import('node-vault')` in `createVaultClient`): a supervisor without a `vault`
 * section never loads node-vault and axios.
 */
import type NodeVault from 'node-vault'
import { VaultError, VaultErrorCode } from './vault-errors.js'

export interface VaultClientInit {
  /** `https://vault.example:8200` (or http:// for a lab). */
  address: string
  /** Vault Enterprise namespace sent as X-Vault-Namespace; "" sends none. */
  namespace: string
  /** PEM of the CA(s) that sign Vault's certificate; undefined: Node's CA store. */
  ca?: Buffer
  /** Bound on one request, ms. */
  requestTimeoutMs: number
  /** Largest value of one key, bytes. */
  maxSecretBytes: number
}

/** One KV v2 secret version as read. */
export interface KvSecret {
  /** Every key of `data.data`, as strings. */
  data: Map<string, string>
  /** `data.metadata.version`. */
  version: number
  /** `lease_duration` in ms (0 for KV v2, which has no lease; a `ttl` key is KV v1's). */
  leaseMs: number
}

/** What Vault says of a token (login, lookup-self, renew-self). */
export interface TokenInfo {
  /** Time to live from now, ms; 0: never expires (a root token, say). */
  ttlMs: number
  renewable: boolean
}

export interface Health { initialized: boolean, sealed: boolean, standby: boolean }

export type VaultOp = 'read' | 'login' | 'lookup' | 'renew' | 'health'

/** Node's codes for a TLS handshake that failed on the certificate. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER',
])

export async function createVaultClient (init: VaultClientInit): Promise<VaultClient> {
  const { default: nodeVault } = await import('node-vault')
  const options = {
    endpoint: init.address,
    apiVersion: 'v1',
    // Explicit, so that VAULT_* variables of the supervisor's environment change nothing.
    token: '',
    namespace: init.namespace,
    pathPrefix: '',
    debug: () => {},
    rpDefaults: { strictSSL: true },
    requestOptions: { timeout: init.requestTimeoutMs, ...(init.ca === undefined ? {} : { ca: init.ca }) },
  }
  const client = nodeVault(options as NodeVault.VaultOptions)
  // The constructor falls back to the environment for every empty value: undo that.
  const settable = client as NodeVault.client & { namespace: string, pathPrefix: string }
  settable.token = ''
  settable.namespace = init.namespace
  settable.pathPrefix = ''
  return new VaultClient(client, init)
}

export class VaultClient {
  constructor (private readonly nv: NodeVault.client, private readonly init: VaultClientInit) {}

  get address (): string { return this.init.address }

  /** The token sent as X-Vault-Token from now on ("" sends none). */
  setToken (token: string): void {
    this.nv.token = token
  }

  get hasToken (): boolean { return typeof this.nv.token === 'string' && this.nv.token !== '' }

  /** `GET /v1/{mount}/data/{path}[?version=N]`. */
  async kvRead (mount: string, path: string, version: number, signal?: AbortSignal): Promise<KvSecret> {
    const where = `${mount}/data/${path}${version > 0 ? `?version=${version}` : ''}`
    const what = `secret ${mount}/${path}${version > 0 ? ` version ${version}` : ''}`
    const body = await this.call(what, signal, async () => await this.nv.read(where, this.requestOptions()))
    const data = (body as { data?: { data?: unknown, metadata?: { version?: unknown } } } | null)?.data
    if (typeof data?.data !== 'object' || data.data === null || Array.isArray(data.data) || !Number.isSafeInteger(data.metadata?.version)) {
      throw new VaultError(VaultErrorCode.BadResponse, `${what}: not a KV version 2 answer (data.data and data.metadata.version); is ${mount} a KV v2 mount?`)
    }
    const out = new Map<string, string>()
    for (const [k, v] of Object.entries(data.data)) {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue // kept out; a key the config names is checked by its reader
      const text = String(v)
      if (Buffer.byteLength(text) > this.init.maxSecretBytes) throw new VaultError(VaultErrorCode.BadResponse, `${what}: key ${k} is larger than vault.maxSecretBytes (${this.init.maxSecretBytes})`)
      out.set(k, text)
    }
    const lease = (body as { lease_duration?: unknown }).lease_duration
    return { data: out, version: data.metadata!.version as number, leaseMs: typeof lease === 'number' && lease > 0 ? lease * 1000 : 0 }
  }

  /** `POST /v1/auth/{mount}/login` with the role id and secret id; the token is used from now on. */
  async approleLogin (mount: string, roleId: string, secretId: string, signal?: AbortSignal): Promise<TokenInfo> {
    const body = await this.call(`AppRole login at auth/${mount}`, signal, async () =>
      await this.nv.approleLogin({ mount_point: mount, role_id: roleId, secret_id: secretId, requestOptions: this.requestOptions() }), true)
    const auth = (body as { auth?: { client_token?: unknown, lease_duration?: unknown, renewable?: unknown } } | null)?.auth
    if (typeof auth?.client_token !== 'string' || auth.client_token === '' || typeof auth.lease_duration !== 'number') {
      throw new VaultError(VaultErrorCode.BadResponse, `AppRole login at auth/${mount}: no auth.client_token and auth.lease_duration in the answer`)
    }
    this.setToken(auth.client_token)
    return { ttlMs: auth.lease_duration * 1000, renewable: auth.renewable === true }
  }

  /** `GET /v1/auth/token/lookup-self`. */
  async lookupSelf (signal?: AbortSignal): Promise<TokenInfo> {
    const body = await this.call('token lookup-self', signal, async () => await this.nv.tokenLookupSelf({ requestOptions: this.requestOptions() }), true)
    const data = (body as { data?: { ttl?: unknown, renewable?: unknown } } | null)?.data
    if (typeof data?.ttl !== 'number') throw new VaultError(VaultErrorCode.BadResponse, 'token lookup-self: no data.ttl in the answer')
    return { ttlMs: data.ttl * 1000, renewable: data.renewable === true }
  }

  /** `POST /v1/auth/token/renew-self`. The TTL is what Vault granted (capped at the token's max TTL). */
  async renewSelf (signal?: AbortSignal): Promise<TokenInfo> {
    const body = await this.call('token renew-self', signal, async () => await this.nv.tokenRenewSelf({ requestOptions: this.requestOptions() }), true)
    const auth = (body as { auth?: { lease_duration?: unknown, renewable?: unknown } } | null)?.auth
    if (typeof auth?.lease_duration !== 'number') throw new VaultError(VaultErrorCode.BadResponse, 'token renew-self: no auth.lease_duration in the answer')
    return { ttlMs: auth.lease_duration * 1000, renewable: auth.renewable !== false }
  }

  /** `GET /v1/sys/health`: answers (200, 429, 473, 501, 503 …) are all a body node-vault returns. */
  async health (signal?: AbortSignal): Promise<Health> {
    const body = await this.call('sys/health', signal, async () => await this.nv.health({ requestOptions: this.requestOptions() }))
    const b = body as { initialized?: unknown, sealed?: unknown, standby?: unknown } | null
    if (typeof b?.sealed !== 'boolean') throw new VaultError(VaultErrorCode.BadResponse, 'sys/health: no sealed field in the answer')
    return { initialized: b.initialized === true, sealed: b.sealed, standby: b.standby === true }
  }

  private requestOptions (): Record<string, unknown> {
    return { timeout: this.init.requestTimeoutMs, ...(this.init.ca === undefined ? {} : { ca: this.init.ca }) }
  }

  /** One request, bounded by the caller's signal too, with its failure classified. */
  private async call (what: string, signal: AbortSignal | undefined, fn: () => Promise<unknown>, isAuth = false): Promise<unknown> {
    if (signal?.aborted === true) throw new VaultError(VaultErrorCode.Aborted, `${what}: aborted`)
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new VaultError(VaultErrorCode.Aborted, `${what}: aborted`))
      signal?.addEventListener('abort', onAbort, { once: true })
    })
    // The axios request runs on to its own timeout when the caller gives up first; its
    // rejection is then nobody's, and must not become an unhandled rejection.
    const request = fn()
    request.catch(() => {})
    try {
      return await (signal === undefined ? request : Promise.race([request, aborted]))
    } catch (err) {
      throw classify(err, what, isAuth)
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
    }
  }
}

/**
 * A failure as a VaultError. node-vault rejects with its ApiResponseError (`response.statusCode`,
 * `response.body.errors`) for an HTTP answer, with an AxiosError (a Node `code`) for a transport
 * failure. Only Vault's own `errors` strings and Node's codes are quoted, never the request.
 */
export function classify (err: unknown, what: string, isAuth = false): VaultError {
  if (err instanceof VaultError) return err
  const status = (err as { response?: { statusCode?: unknown } } | null)?.response?.statusCode
  if (typeof status === 'number') {
    const body = (err as { response: { body?: unknown } }).response.body
    const errors = (body as { errors?: unknown } | null)?.errors
    const said = Array.isArray(errors) && errors.length > 0 ? errors.map(e => String(e).replace(/\s+/g, ' ').trim()).join('; ') : ''
    const vault = `Vault answered ${status}${said === '' ? '' : `: ${said}`}`
    if (status === 404) {
      const deleted = (body as { data?: { metadata?: { deletion_time?: unknown, destroyed?: unknown } } } | null)?.data?.metadata
      const why = deleted?.destroyed === true ? ' (that version is destroyed)' : typeof deleted?.deletion_time === 'string' && deleted.deletion_time !== '' ? ' (that version is deleted)' : ''
      return new VaultError(VaultErrorCode.NotFound, `${what}: no such secret${why} (${vault})`)
    }
    if (status === 403) return new VaultError(isAuth ? VaultErrorCode.Auth : VaultErrorCode.Forbidden, `${what}: ${isAuth ? 'the token is refused' : 'the token\'s policies do not grant read'} (${vault})`)
    if (status === 400 && isAuth) return new VaultError(VaultErrorCode.Auth, `${what}: refused (${vault})`)
    if (status === 429 || status >= 500) return new VaultError(VaultErrorCode.Unavailable, `${what}: ${vault}`)
    return new VaultError(VaultErrorCode.BadResponse, `${what}: ${vault}`)
  }
  const code = (err as { code?: unknown } | null)?.code
  const codeText = typeof code === 'string' ? code : ''
  if (TLS_CODES.has(codeText) || /certificate|self[- ]signed|SSL/i.test(String((err as Error | null)?.message))) {
    return new VaultError(VaultErrorCode.Tls, `${what}: TLS failed (${codeText === '' ? (err as Error).message : codeText}); check vault.caFile and vault.address`)
  }
  if (codeText === 'ECONNABORTED' || codeText === 'ETIMEDOUT') return new VaultError(VaultErrorCode.Unreachable, `${what}: no answer in time (${codeText})`)
  if (codeText !== '' && codeText !== 'ERR_BAD_RESPONSE' && codeText !== 'ERR_BAD_REQUEST') return new VaultError(VaultErrorCode.Unreachable, `${what}: Vault is unreachable (${codeText})`)
  // tv4 schema errors (node-vault checks arguments) and anything else: ours, or a body not JSON.
  return new VaultError(VaultErrorCode.BadResponse, `${what}: ${(err as Error | null)?.message ?? String(err)}`)
}
