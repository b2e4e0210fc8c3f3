/**
 * The Vault STAND-IN (vault-stand-in.ts) as a process of its own, for tests: started, stopped
 * (SIGKILL: Vault gone, connections refused) and started again on the same port with the same
 * storage, and driven through Vault's own documented API with the root token (write a secret
 * version, change a role's policies, seal and unseal). Optionally over TLS with a CA made here by
 * openssl, so the client's `vault.caFile` path is exercised too.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RequestRecord, StandInSeed } from './vault-stand-in.js'

const MAIN = fileURLToPath(new URL('./vault-stand-in-main.js', import.meta.url))
const START_TIMEOUT_MS = 10_000

export interface StandInOptions {
  seed: Omit<StandInSeed, 'rootToken' | 'unsealKey'>
  /** Serve HTTPS with a certificate for 127.0.0.1 signed by a CA made for this run. */
  tls?: boolean
}

export class VaultProcess {
  readonly dir: string
  readonly rootToken = `hvs.root-${randomBytes(12).toString('hex')}`
  readonly unsealKey = randomBytes(16).toString('hex')
  /** PEM of the CA that signed the server certificate (tls only). */
  readonly caFile: string | undefined
  readonly requests: RequestRecord[] = []
  private proc: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private port = 0
  private readonly certFiles: [string, string] | undefined
  private readonly ca: Buffer | undefined

  constructor (opts: StandInOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'agentmesh-vault-stand-in-'))
    const seed: StandInSeed = { ...opts.seed, rootToken: this.rootToken, unsealKey: this.unsealKey }
    seed.tokens = [...(seed.tokens ?? []), { token: this.rootToken, policies: ['root'], ttlS: 0, renewable: false }]
    writeFileSync(join(this.dir, 'seed.json'), JSON.stringify(seed))
    if (opts.tls === true) {
      const { caFile, certFile, keyFile } = makeCertificates(this.dir)
      this.caFile = caFile
      this.certFiles = [certFile, keyFile]
      this.ca = readFileSync(caFile)
    }
  }

  get address (): string { return `${this.caFile === undefined ? 'http' : 'https'}://127.0.0.1:${this.port}` }
  get running (): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }

  /** Starts (again, on the same port after the first start). */
  async start (): Promise<void> {
    const args = [MAIN, join(this.dir, 'seed.json'), join(this.dir, 'state.json'), String(this.port), ...(this.certFiles ?? [])]
    // stdin stays open while this process lives: the stand-in exits when it closes.
    const proc = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc = proc
    this.exited = new Promise(resolve => proc.once('exit', () => resolve()))
    let stderr = ''
    proc.stderr!.on('data', (c: Buffer) => { stderr += c.toString() })
    this.port = await new Promise<number>((resolve, reject) => {
      let buf = ''
      const timer = setTimeout(() => reject(new Error(`the Vault stand-in did not start within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS)
      proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the Vault stand-in exited (${String(code)}): ${stderr}`)) })
      proc.stdout!.on('data', (c: Buffer) => {
        buf += c.toString()
        const lines = buf.split('\n')
        buf = lines.pop()!
        for (const line of lines) {
          const msg = JSON.parse(line) as { port?: number, request?: RequestRecord }
          if (msg.request !== undefined) this.requests.push(msg.request)
          if (msg.port !== undefined) { clearTimeout(timer); resolve(msg.port) }
        }
      })
    })
  }

  /** Vault gone: SIGKILL, so clients meet a refused connection. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.proc!.kill('SIGKILL')
    await this.exited
  }

  async dispose (): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** One request to the stand-in with the root token, through Vault's documented API. */
  async call (method: string, path: string, body?: unknown, namespace = ''): Promise<{ status: number, body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const headers: Record<string, string> = { 'x-vault-token': this.rootToken, 'content-type': 'application/json' }
    if (namespace !== '') headers['x-vault-namespace'] = namespace
    const text = body === undefined ? undefined : JSON.stringify(body)
    if (this.ca === undefined) {
      const res = await fetch(`${this.address}/v1/${path}`, { method, headers, ...(text === undefined ? {} : { body: text }), signal: AbortSignal.timeout(5000) })
      const raw = await res.text()
      return { status: res.status, body: raw === '' ? undefined : JSON.parse(raw) }
    }
    return await new Promise((resolve, reject) => {
      const req = request(`${this.address}/v1/${path}`, { method, headers, agent: new Agent({ ca: this.ca }), timeout: 5000 }, (res) => {
        let raw = ''
        res.on('data', (c: Buffer) => { raw += c.toString() })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: raw === '' ? undefined : JSON.parse(raw) }))
      })
      req.on('error', reject)
      req.end(text)
    })
  }

  /** A new version of a KV v2 secret; resolves to its version number. */
  async writeSecret (mount: string, path: string, data: Record<string, string>, namespace = ''): Promise<number> {
    const r = await this.call('POST', `${mount}/data/${path}`, { data }, namespace)
    if (r.status !== 200) throw new Error(`write ${mount}/${path}: ${r.status} ${JSON.stringify(r.body)}`)
    return r.body.data.version as number
  }

  async setRolePolicies (role: string, policies: string[]): Promise<void> {
    const r = await this.call('POST', `auth/approle/role/${role}`, { token_policies: policies })
    if (r.status !== 204) throw new Error(`role ${role}: ${r.status}`)
  }

  async seal (): Promise<void> { await this.call('PUT', 'sys/seal') }
  async unseal (): Promise<void> { await this.call('PUT', 'sys/unseal', { key: this.unsealKey }) }
}

/** A CA and a server certificate for 127.0.0.1 (openssl, 1 day). */
function makeCertificates (dir: string): { caFile: string, certFile: string, keyFile: string } {
  const f = (name: string): string => join(dir, name)
  const run = (args: string[]): void => { execFileSync('openssl', args, { stdio: 'ignore' }) }
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '1', '-subj', '/CN=agentmesh test CA'])
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1'])
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  run(['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '1', '-extfile', f('ext.cnf')])
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') }
}
