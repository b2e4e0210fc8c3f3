/**
 * The Vault parts of the daemon's config: the `vault` section's rules beyond one field's range
 * (auth method and its files, TLS), each service's `secrets` list, and the swarm key and API
 * token taken from Vault. Like the rest of config.ts, every problem is reported with its field
 * (and line), all at once. A config names secrets (mount, path, key); it never holds one.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { memoryFsProblem, ownershipProblem } from '../secrets/tmpfs.js'
import { VAULT_DEFAULTS } from '../secrets/vault-defaults.js'
import type { ServiceSecret } from '../secrets/agent-secrets.js'
import type { AgentSpec } from '../runtime/container-runtime.js'
import type { DaemonConfig } from './config.js'
import { ENV_NAME_RE, type FieldDoc, type Where } from './config-workload.js'
import { secretFileProblem } from './secret-file.js'

/** One key of one KV v2 secret (the swarm key, the API token). */
export interface VaultKeyRef { mount: string, path: string, key: string }

/** The fields of a `services[].secrets[]` entry, for docs/configuration.md and the JSON Schema. */
export const SECRET_FIELDS: readonly FieldDoc[] = [
  { path: 'path', default: 'required', doc: 'Path of the KV v2 secret under its mount (`agents/ingest`), as `vault kv get -mount=MOUNT PATH` takes it.' },
  { path: 'mount', default: 'secret', doc: 'The KV version 2 mount.' },
  { path: 'key', default: 'required', doc: 'The key inside the secret\'s data.' },
  { path: 'version', default: '0 (the latest)', doc: 'Pin one version of the secret.' },
  { path: 'env', default: 'env or file required', doc: 'The environment variable the value becomes (not `AGENTMESH_*`, not one `agent.env` sets).' },
  { path: 'file', default: 'env or file required', doc: 'Or: the file (a plain name) the value becomes, in the agent\'s secrets folder on a tmpfs: `agent.secretsPath` inside a container, `$AGENTMESH_SECRETS_DIR` in both runtimes. Rewritten in place when the secret changes.' },
  { path: 'restartOnChange', default: 'false', doc: 'When a new version of this secret is read, restart this service\'s agents on this host, one at a time (each waits for the previous replacement to run; each host decides on its own, at its own refresh).' },
]

const SECRET_KEYS = SECRET_FIELDS.map(f => f.path)
/** Mount and path: Vault path segments, no empty segment, no `..`. */
export const VAULT_PATH_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/
export const SECRET_FILE_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/

function isMapping (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function show (v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s
}

function vaultPathProblem (v: unknown): string | undefined {
  if (typeof v !== 'string' || !VAULT_PATH_RE.test(v) || v.split('/').includes('..')) return `must be a Vault path (segments of letters, digits, _.- separated by /, no ..), got ${show(v)}`
  return undefined
}

/** Reads `services[i].secrets`. `agent`: the service's agent spec, if valid (its env names may not be taken twice). */
export function readServiceSecrets (v: unknown, path: ReadonlyArray<string | number>, agent: AgentSpec | undefined, where: Where): ServiceSecret[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) { where(path, 'must be a list of {path, key, env | file, ...}'); return [] }
  if (v.length > VAULT_DEFAULTS.secretsPerServiceMax) where(path, `at most ${VAULT_DEFAULTS.secretsPerServiceMax} secrets per service`)
  const out: ServiceSecret[] = []
  const envs = new Set(Object.keys(agent?.env ?? {}))
  const files = new Set<string>()
  v.forEach((e: unknown, i) => {
    const at = [...path, i]
    if (!isMapping(e)) { where(at, 'must be a mapping {path, key, env | file, ...}'); return }
    let ok = true
    const bad = (k: string | undefined, msg: string): void => { ok = false; where(k === undefined ? at : [...at, k], msg) }
    for (const k of Object.keys(e)) if (!SECRET_KEYS.includes(k)) bad(k, `unknown field; known: ${SECRET_KEYS.join(', ')}`)
    const mount = e.mount ?? 'secret'
    const mountProblem = vaultPathProblem(mount)
    if (mountProblem !== undefined) bad('mount', mountProblem)
    const pathProblem = e.path === undefined ? 'is required' : vaultPathProblem(e.path)
    if (pathProblem !== undefined) bad('path', pathProblem)
    if (typeof e.key !== 'string' || e.key === '') bad('key', `is required: the key inside the secret, got ${show(e.key)}`)
    const version = e.version ?? 0
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) bad('version', `must be a whole number ≥ 0 (0: the latest), got ${show(e.version)}`)
    if ((e.env === undefined) === (e.file === undefined)) bad(undefined, 'needs exactly one of env or file')
    if (e.env !== undefined) {
      if (typeof e.env !== 'string' || !ENV_NAME_RE.test(e.env)) bad('env', `must be an environment variable name, got ${show(e.env)}`)
      else if (e.env.startsWith('AGENTMESH_')) bad('env', 'AGENTMESH_* names are the supervisor\'s own')
      else if (envs.has(e.env)) bad('env', `${e.env} is given twice (agent.env or another secret)`)
      else envs.add(e.env)
    }
    if (e.file !== undefined) {
      if (typeof e.file !== 'string' || !SECRET_FILE_RE.test(e.file) || e.file.length > 255) bad('file', `must be a plain file name (letters, digits, ._-), got ${show(e.file)}`)
      else if (files.has(e.file)) bad('file', `${e.file} is given twice`)
      else files.add(e.file)
    }
    const restart = e.restartOnChange ?? false
    if (typeof restart !== 'boolean') bad('restartOnChange', `must be true or false, got ${show(e.restartOnChange)}`)
    if (!ok) return
    out.push({
      mount: mount as string, path: e.path as string, version: version as number, key: e.key as string, restartOnChange: restart as boolean,
      ...(e.env === undefined ? {} : { env: e.env as string }),
      ...(e.file === undefined ? {} : { file: e.file as string }),
    })
  })
  return out
}

type Fail = (path: ReadonlyArray<string | number>, field: string, msg: string) => void

/** The Vault section's relations, the secrets that need it, and the secrets folder. */
export function checkVaultSection (config: DaemonConfig, opts: { explicitSwarmKeyFile: boolean }, fail: Fail): void {
  const vault = config.vault
  const needsVault: Array<[Array<string | number>, string]> = []
  if (config.network.swarmKeyVault !== undefined) needsVault.push([['network', 'swarmKeyVault', 'path'], 'network.swarmKeyVault.path'])
  if (config.http.tokenVault !== undefined) needsVault.push([['http', 'tokenVault', 'path'], 'http.tokenVault.path'])
  config.services.forEach((s, i) => { if ((config.secrets[s.name] ?? []).length > 0) needsVault.push([['services', i, 'secrets'], `services[${i}].secrets`]) })
  if (vault === undefined) {
    for (const [path, field] of needsVault) fail(path, field, 'needs vault.address: secrets come from Vault')
    return
  }
  checkAddress(vault.address, vault.caFile, fail)
  checkAuth(vault.auth, fail)
  if (vault.retryMsMin > vault.retryMsMax) fail(['vault', 'retryMsMin'], 'vault.retryMsMin', `must be at most vault.retryMsMax (${vault.retryMsMax})`)
  if (vault.namespace !== '' && vaultPathProblem(vault.namespace) !== undefined) fail(['vault', 'namespace'], 'vault.namespace', vaultPathProblem(vault.namespace)!)
  const refs: Array<[string, VaultKeyRef | undefined]> = [['network.swarmKeyVault', config.network.swarmKeyVault], ['http.tokenVault', config.http.tokenVault]]
  for (const [field, ref] of refs) {
    if (ref === undefined) continue
    for (const k of ['path', 'mount'] as const) {
      const problem = vaultPathProblem(ref[k])
      if (problem !== undefined) fail([...field.split('.'), k], `${field}.${k}`, problem)
    }
    if (ref.key === '') fail([...field.split('.'), 'key'], `${field}.key`, 'must name the key')
  }
  if (config.network.swarmKeyVault !== undefined && opts.explicitSwarmKeyFile) fail(['network', 'swarmKeyVault', 'path'], 'network.swarmKeyVault.path', 'give network.swarmKeyFile or network.swarmKeyVault, not both')
  if (config.http.tokenVault !== undefined && config.http.tokenFile !== '') fail(['http', 'tokenVault', 'path'], 'http.tokenVault.path', 'give http.tokenFile or http.tokenVault, not both')
  const files = Object.values(config.secrets).some(list => list.some(s => s.file !== undefined))
  if (files && config.runtime.kind !== 'none') {
    const problem = memoryFsProblem(config.runtime.secretsDir) ?? ownershipProblem(config.runtime.secretsDir)
    if (problem !== undefined) fail(['runtime', 'secretsDir'], 'runtime.secretsDir', problem)
  }
}

function checkAddress (address: string, caFile: string, fail: Fail): void {
  let url: URL | undefined
  try { url = new URL(address) } catch { /* reported below */ }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    fail(['vault', 'address'], 'vault.address', `must be https://HOST:PORT (or http:// for a lab), without a path or user info, got ${show(address.replace(/\/\/[^@/]*@/, '//***@'))}`)
    return
  }
  if (caFile === '') return
  if (url.protocol !== 'https:') fail(['vault', 'caFile'], 'vault.caFile', 'needs an https:// vault.address')
  else if (!existsSync(caFile)) fail(['vault', 'caFile'], 'vault.caFile', `no CA file at ${caFile}`)
  else {
    try {
      if (!readFileSync(caFile, 'utf8').includes('-----BEGIN CERTIFICATE-----')) fail(['vault', 'caFile'], 'vault.caFile', `${caFile} holds no PEM certificate`)
    } catch (err) {
      fail(['vault', 'caFile'], 'vault.caFile', `cannot read ${caFile}: ${(err as Error).message}`)
    }
  }
}

function checkAuth (auth: NonNullable<DaemonConfig['vault']>['auth'], fail: Fail): void {
  const secretFile = (file: string, field: string, what: string): void => {
    if (file === '') { fail(['vault', 'auth', field], `vault.auth.${field}`, `is required with vault.auth.method ${auth.method}`); return }
    const problem = existsSync(file) ? secretFileProblem(file, what) : `no ${what} at ${file}`
    if (problem !== undefined) fail(['vault', 'auth', field], `vault.auth.${field}`, problem)
  }
  if (auth.method === 'token') {
    secretFile(auth.tokenFile, 'tokenFile', 'Vault token file')
    return
  }
  if (auth.roleId === '') fail(['vault', 'auth', 'roleId'], 'vault.auth.roleId', 'is required with vault.auth.method approle')
  secretFile(auth.secretIdFile, 'secretIdFile', 'AppRole secret id file')
  const problem = vaultPathProblem(auth.mount)
  if (problem !== undefined) fail(['vault', 'auth', 'mount'], 'vault.auth.mount', problem)
}

/**
 * Where secret files go when `runtime.secretsDir` is empty: systemd's RuntimeDirectory (a tmpfs
 * under /run, owned by the unit's user), the user's runtime folder, or /dev/shm.
 */
export function defaultSecretsDir (env: Record<string, string | undefined>): string {
  const systemd = env.RUNTIME_DIRECTORY?.split(':')[0]
  if (systemd !== undefined && systemd !== '') return join(systemd, 'secrets')
  if (env.XDG_RUNTIME_DIR !== undefined && env.XDG_RUNTIME_DIR !== '') return join(env.XDG_RUNTIME_DIR, 'agentmesh', 'secrets')
  return `/dev/shm/agentmesh-${typeof process.getuid === 'function' ? process.getuid() : 'user'}/secrets`
}
