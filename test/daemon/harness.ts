/**
 * Real supervisor processes for integration tests and the mesh benchmark: each one is
 * `node dist/cli/agentmesh.js supervise --config FILE` on loopback, with ports allocated by binding
 * port 0 first, its own data dir, and a host key written up front so that every peer id (and so
 * every bootstrap address) is known before anything starts. Waiting is always polling with a
 * bound, never a fixed sleep.
 */
import { supervisorNodeOptions } from '../../node/daemon/node-options.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { generateKey } from '@libp2p/pnet'
import { stringify } from 'yaml'
import { freePort } from '../../cli/demo/local-mesh.js'
import { LatencyRelay, type LinkLatency } from './latency-relay.js'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const CLI = join(REPO_ROOT, 'dist/cli/agentmesh.js')

/**
 * Ports for the supervisors under test: the demo's own allocator (random ports below the
 * kernel's ephemeral range, each checked free by binding it), so tests and the demo never differ.
 */
export { freePort }

/** Sum of a metric's samples in a /metrics text whose label text contains `labelPart`: several from one snapshot agree. */
export function metricSum (text: string, name: string, labelPart = ''): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest[0] !== '{' && rest[0] !== ' ') continue
    if (!line.includes(labelPart)) continue
    sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return sum
}

export async function waitFor<T> (what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastErr: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined && v !== false) return v
    } catch (err) { lastErr = err }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr !== undefined ? ` (last error: ${(lastErr as Error).message})` : ''}`)
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
}

export function writeSwarmKey (file: string): void {
  const key = new Uint8Array(95)
  generateKey(key)
  writeFileSync(file, key, { mode: 0o600 })
}

export interface HostSpec {
  hostId: string
  site: string
  priority?: number
  /** Extra config fields, merged over the defaults below. */
  extra?: Record<string, unknown>
}

export interface Status {
  hostId: string
  site: string
  peerId: string
  role: string
  term: number
  leaderId: string
  incarnation: number
  connections: number
  peers: Array<{ hostId: string, state: string, incarnation: number, connected: boolean }>
}

/**
 * Where one supervisor runs: its addresses and the command its node process is started under.
 * The default is loopback with no prefix; the fault suite (test/faults/) puts each supervisor in
 * a network namespace of its own (`ip netns exec NS`) with its own addresses.
 */
export interface HostPlacement {
  /** Address the supervisor listens on for libp2p and is dialled at. */
  p2pIp: string
  /** Address of its HTTP API, as the test reaches it. */
  httpIp: string
  /** Command (and its arguments) the node process runs under; empty: none. */
  commandPrefix: readonly string[]
  /** Environment added to this supervisor's on every start (a preload library, say). */
  env?: Readonly<Record<string, string>>
  /** Fixed ports (a namespace has its own port space); default: free ports of this machine. */
  p2pPort?: number
  httpPort?: number
}

export const LOOPBACK_PLACEMENT: HostPlacement = { p2pIp: '127.0.0.1', httpIp: '127.0.0.1', commandPrefix: [] }

export class Supervisor {
  proc: ChildProcess | undefined
  readonly lines: string[] = []
  exited: Promise<number | null> = Promise.resolve(null)
  /** Called with every output line as it arrives (`lines` keeps only the last 5,000). */
  onLine: ((line: string) => void) | undefined

  constructor (
    readonly spec: HostSpec,
    readonly dir: string,
    readonly configFile: string,
    readonly p2pPort: number,
    readonly httpPort: number,
    readonly peerId: string,
    readonly placement: HostPlacement = LOOPBACK_PLACEMENT,
    /** The port peers dial (a latency relay's, if any). */
    readonly dialPort: number = p2pPort,
  ) {}

  get hostId (): string { return this.spec.hostId }
  get url (): string { return `http://${this.placement.httpIp}:${this.httpPort}` }
  get addr (): string { return `/ip4/${this.placement.p2pIp}/tcp/${this.dialPort}/p2p/${this.peerId}` }
  get running (): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }
  /** The node process's pid while it runs (`ip netns exec` execs node, so it is node's own). */
  get pid (): number | undefined { return this.running ? this.proc!.pid : undefined }

  start (env: Record<string, string> = {}, nodeArgs: string[] = []): void {
    const [prefixCmd, ...prefixArgs] = this.placement.commandPrefix
    const nodeArgv = [...nodeArgs, CLI, 'supervise', '--config', this.configFile]
    const proc = spawn(prefixCmd ?? process.execPath, prefixCmd === undefined ? nodeArgv : [...prefixArgs, process.execPath, ...nodeArgv], {
      env: { ...process.env, NODE_OPTIONS: supervisorNodeOptions(process.env.NODE_OPTIONS), ...this.placement.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.proc = proc
    let buf = ''
    const take = (chunk: Buffer): void => {
      buf += chunk.toString('utf8')
      const parts = buf.split('\n')
      buf = parts.pop()!
      for (const l of parts) {
        this.lines.push(l)
        if (this.lines.length > 5000) this.lines.shift()
        this.onLine?.(l)
      }
    }
    proc.stdout!.on('data', take)
    proc.stderr!.on('data', take)
    this.exited = new Promise(resolve => proc.once('exit', (code) => resolve(code)))
  }

  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return
    this.proc!.kill(signal)
    await this.exited
  }

  async get<T = unknown> (path: string): Promise<T> {
    const res = await fetch(this.url + path, { signal: AbortSignal.timeout(2000) })
    if (!res.ok) throw new Error(`${this.hostId} ${path}: ${res.status} ${await res.text()}`)
    return await res.json() as T
  }

  async status (): Promise<Status> { return await this.get<Status>('/v1/status') }

  async metricsText (): Promise<string> {
    const res = await fetch(this.url + '/metrics', { signal: AbortSignal.timeout(2000) })
    // A refusal (429 under a test's polling, say) must not read as every metric at zero.
    if (!res.ok) throw new Error(`${this.hostId} /metrics: ${res.status} ${await res.text()}`)
    return await res.text()
  }

  /** Sum of a metric's samples whose label text contains `labelPart` (e.g. `reason="malformed"`). */
  async metric (name: string, labelPart = ''): Promise<number> {
    return metricSum(await this.metricsText(), name, labelPart)
  }

  async post (path: string, body: unknown, token: string): Promise<Response> {
    return await fetch(this.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(2000),
    })
  }
}

export interface ClusterOptions {
  hosts: HostSpec[]
  /** Index of each host's single bootstrap peer (default: host 0 for everyone but itself). */
  bootstrapOf?: (i: number) => number[]
  /** Config merged into every host. */
  common?: Record<string, unknown>
  /** Where each host runs (default: loopback, no command prefix). */
  placementOf?: (i: number) => HostPlacement
  /**
   * Latency on every link (loopback placement only): each host gets a LatencyRelay in front of
   * its libp2p port and announces the relay's address, so each connection crosses one delayed link.
   */
  latency?: LinkLatency
}

export const TEST_TOKEN = 'test-token-0123456789abcdef'

/** A set of supervisors sharing a temp dir and a swarm key. Call `stopAll()` in `after`. */
export class Cluster {
  readonly dir: string
  readonly swarmKeyFile: string
  readonly tokenFile: string
  readonly sups: Supervisor[] = []
  private readonly relays: LatencyRelay[] = []

  private constructor () {
    this.dir = mkdtempSync(join(tmpdir(), 'agentmesh-test-'))
    this.swarmKeyFile = join(this.dir, 'swarm.key')
    this.tokenFile = join(this.dir, 'token')
    writeSwarmKey(this.swarmKeyFile)
    writeFileSync(this.tokenFile, TEST_TOKEN, { mode: 0o600 })
  }

  static async create (opts: ClusterOptions): Promise<Cluster> {
    const c = new Cluster()
    const prepared: Array<{ spec: HostSpec, dir: string, peerId: string, p2p: number, http: number }> = []
    const placements = opts.hosts.map((_, i) => opts.placementOf?.(i) ?? LOOPBACK_PLACEMENT)
    for (const [i, spec] of opts.hosts.entries()) {
      const key = await generateKeyPair('Ed25519')
      const dir = join(c.dir, spec.hostId)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      writeFileSync(join(dir, 'host.key'), privateKeyToProtobuf(key), { mode: 0o600 })
      prepared.push({ spec, dir, peerId: key.publicKey.toString(), p2p: placements[i].p2pPort ?? await freePort(), http: placements[i].httpPort ?? await freePort() })
    }
    // With latency, peers dial a host through its relay, the only address it announces.
    const dialPorts: number[] = []
    for (const [i, p] of prepared.entries()) {
      if (opts.latency === undefined) { dialPorts.push(p.p2p); continue }
      if (placements[i].p2pIp !== '127.0.0.1') throw new Error('Cluster: latency needs the loopback placement')
      const relay = await LatencyRelay.start(p.p2p, opts.latency)
      c.relays.push(relay)
      dialPorts.push(relay.port)
    }
    const addr = (i: number): string => `/ip4/${placements[i].p2pIp}/tcp/${dialPorts[i]}/p2p/${prepared[i].peerId}`
    prepared.forEach((p, i) => {
      const boot = opts.bootstrapOf?.(i) ?? (i === 0 ? [] : [0])
      const siteSize = opts.hosts.filter(h => h.site === p.spec.site).length
      const config = deepMerge({
        hostId: p.spec.hostId,
        site: p.spec.site,
        priority: p.spec.priority ?? 0,
        dataDir: p.dir,
        bootstrapExpect: siteSize,
        network: {
          listen: [`/ip4/${placements[i].p2pIp}/tcp/${p.p2p}`],
          ...(opts.latency === undefined ? {} : { announce: [`/ip4/${placements[i].p2pIp}/tcp/${dialPorts[i]}`] }),
          bootstrap: boot.map(addr),
          swarmKeyFile: c.swarmKeyFile,
          redialIntervalMs: 250,
          redialBackoffMaxMs: 2000,
        },
        http: { listen: `${placements[i].httpIp}:${p.http}`, tokenFile: c.tokenFile },
        debug: { faultInjection: true },
        log: { level: 'info' },
      }, deepMerge(opts.common ?? {}, p.spec.extra ?? {}))
      const file = join(p.dir, 'config.yaml')
      writeFileSync(file, stringify(config))
      c.sups.push(new Supervisor(p.spec, p.dir, file, p.p2p, p.http, p.peerId, placements[i], dialPorts[i]))
    })
    return c
  }

  startAll (): void { for (const s of this.sups) s.start() }

  site (name: string): Supervisor[] { return this.sups.filter(s => s.spec.site === name) }

  byId (hostId: string): Supervisor { return this.sups.find(s => s.hostId === hostId)! }

  async stopAll (): Promise<void> {
    await Promise.all(this.sups.map(async s => await s.kill('SIGKILL')))
    await Promise.all(this.relays.map(async r => await r.close()))
    rmSync(this.dir, { recursive: true, force: true })
  }

  /**
   * Every running member of the site names the same leader (running too) in the same term,
   * and that leader says it leads. Returns the leader's status, else undefined.
   */
  async siteAgreement (site: string, exclude: string[] = []): Promise<{ leaderId: string, term: number, statuses: Status[] } | undefined> {
    const members = this.site(site).filter(s => s.running && !exclude.includes(s.hostId))
    const statuses = await Promise.all(members.map(async s => await s.status()))
    const first = statuses[0]
    if (first === undefined || first.leaderId === '') return undefined
    if (!members.some(m => m.hostId === first.leaderId)) return undefined
    for (const st of statuses) {
      if (st.leaderId !== first.leaderId || st.term !== first.term) return undefined
      if (st.hostId === first.leaderId && st.role !== 'leader') return undefined
    }
    return { leaderId: first.leaderId, term: first.term, statuses }
  }
}

export function deepMerge (a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a }
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k]
    out[k] = isPlain(cur) && isPlain(v) ? deepMerge(cur, v) : v
  }
  return out
}

function isPlain (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * A bare libp2p node that is not a supervisor: for the tests of a peer without the network key
 * and of a peer that publishes garbage. `swarmKey` undefined: no private network at all.
 */
export async function createRawNode (swarmKey: Uint8Array | undefined): Promise<RawNode> {
  await import('../../node/daemon/polyfill.js')
  const { createLibp2p } = await import('libp2p')
  const { tcp } = await import('@libp2p/tcp')
  const { noise } = await import('@libp2p/noise')
  const { yamux } = await import('@libp2p/yamux')
  const { identify } = await import('@libp2p/identify')
  const { gossipsub } = await import('@libp2p/gossipsub')
  const { preSharedKey } = await import('@libp2p/pnet')
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    ...(swarmKey === undefined ? {} : { connectionProtector: preSharedKey({ psk: swarmKey }) }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, globalSignaturePolicy: 'StrictSign' }) },
  })
  return node as unknown as RawNode
}

export interface RawNode {
  peerId: { toString: () => string }
  dial: (ma: unknown, opts?: { signal?: AbortSignal }) => Promise<unknown>
  stop: () => Promise<void>
  services: { pubsub: { subscribe: (t: string) => void, publish: (t: string, d: Uint8Array) => Promise<unknown>, getSubscribers: (t: string) => Array<{ toString: () => string }> } }
}
