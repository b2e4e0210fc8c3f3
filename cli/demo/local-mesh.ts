/**
 * Supervisor processes on this machine's loopback, for the demo: each is
 * `node dist/cli/agentmesh.js supervise --config FILE` with its own data dir, ports checked free by
 * binding them, and a host key written up front so that every peer id (and so every bootstrap
 * address) is known before anything starts. The same approach as the integration tests'
 * harness (test/daemon/harness.ts), without its test-only knobs.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { loadOrCreateHostKey, writeNewSwarmKey } from '../../node/daemon/identity.js'
import { DemoError, DemoErrorCode } from './errors.js'

/** The built CLI (this file runs from dist/cli/demo/). */
export const CLI_PATH = fileURLToPath(new URL('../agentmesh.js', import.meta.url))

/**
 * Ports are drawn at random from below the kernel's usual ephemeral range (32768+), where the
 * outbound connections of the running supervisors cannot take one before its daemon binds it.
 */
const PORT_MIN = 20_000
const PORT_MAX = 32_000
const PORT_ATTEMPTS_MAX = 200
/** Last lines of a supervisor's log shown when it fails. */
const LOG_TAIL_LINES = 15

export interface MeshHost {
  hostId: string
  site: string
  dir: string
  configFile: string
  logFile: string
  p2pPort: number
  httpPort: number
  peerId: string
}

export interface MeshPlanInit {
  /** Root folder; every host gets `<dir>/<hostId>/`. */
  dir: string
  sites: string[]
  hostsPerSite: number
  /** Config fields every host gets (runtime, services, signals…), over the mesh's own. */
  common: (site: string) => Record<string, unknown>
  signal?: AbortSignal
}

const handedOut = new Set<number>()

export async function freePort (): Promise<number> {
  for (let attempt = 0; attempt < PORT_ATTEMPTS_MAX; attempt++) {
    const port = PORT_MIN + Math.floor(Math.random() * (PORT_MAX - PORT_MIN))
    if (handedOut.has(port)) continue
    if (await canBind(port)) { handedOut.add(port); return port }
  }
  throw new DemoError(DemoErrorCode.MeshStart, `no free port found in ${PORT_MIN}-${PORT_MAX} after ${PORT_ATTEMPTS_MAX} tries`)
}

async function canBind (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

/** Host id `s<site>-h<host>`, both from 1: short, for the table. */
export function demoHostId (siteIndex: number, hostIndex: number): string {
  return `s${siteIndex + 1}-h${hostIndex + 1}`
}

/**
 * Writes the swarm key, every host key and every config. Every host bootstraps from the first
 * host of its own site and the first host of the first site, so the sites form one mesh (the
 * global topic carries site summaries across) and each site finds itself quickly.
 */
export async function planMesh (init: MeshPlanInit): Promise<MeshHost[]> {
  const swarmKeyFile = join(init.dir, 'swarm.key')
  writeNewSwarmKey(swarmKeyFile)
  const hosts: MeshHost[] = []
  for (const [s, site] of init.sites.entries()) {
    for (let h = 0; h < init.hostsPerSite; h++) {
      init.signal?.throwIfAborted()
      const hostId = demoHostId(s, h)
      const dir = join(init.dir, hostId)
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      const { key } = await loadOrCreateHostKey(join(dir, 'host.key'))
      hosts.push({
        hostId, site, dir,
        configFile: join(dir, 'config.yaml'),
        logFile: join(dir, 'supervisor.log'),
        p2pPort: await freePort(),
        httpPort: await freePort(),
        peerId: key.publicKey.toString(),
      })
    }
  }
  const addr = (h: MeshHost): string => `/ip4/127.0.0.1/tcp/${h.p2pPort}/p2p/${h.peerId}`
  for (const h of hosts) {
    const seeds = [hosts.find(x => x.site === h.site)!, hosts[0]].filter((x, i, all) => x !== h && all.indexOf(x) === i)
    const config = {
      hostId: h.hostId,
      site: h.site,
      dataDir: h.dir,
      bootstrapExpect: init.hostsPerSite,
      capacity: { slots: 4 },
      profile: 'lan',
      network: {
        listen: [`/ip4/127.0.0.1/tcp/${h.p2pPort}`],
        bootstrap: seeds.map(addr),
        swarmKeyFile,
        privateKeyFile: join(h.dir, 'host.key'),
        redialIntervalMs: 250,
        redialBackoffMaxMs: 2000,
      },
      http: { listen: `127.0.0.1:${h.httpPort}` },
      log: { level: 'warn' },
      ...init.common(h.site),
    }
    writeFileSync(h.configFile, stringify(config))
  }
  return hosts
}

/** The demo's environment without AGENTMESH_* variables, which would override the configs. */
function supervisorEnv (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('AGENTMESH_')))
}

/** One supervisor child process. Its output goes to `host.logFile`. */
export class MeshSupervisor {
  private proc: ChildProcess | undefined
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string | null> = Promise.resolve(null)
  /** Set by the demo when it asked the process to stop: an exit after that is expected. */
  stopping = false

  constructor (readonly host: MeshHost) {}

  get url (): string { return `http://127.0.0.1:${this.host.httpPort}` }
  get pid (): number | undefined { return this.proc?.pid }
  get running (): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }

  start (): void {
    const fd = openSync(this.host.logFile, 'a')
    try {
      // Own process group: a Ctrl-C on the terminal reaches the demo only, which then stops
      // every supervisor in order (gracefully, then the agents, then the broker).
      this.proc = spawn(process.execPath, [CLI_PATH, 'supervise', '--config', this.host.configFile], {
        stdio: ['ignore', fd, fd],
        detached: true,
        env: supervisorEnv(process.env),
      })
    } finally {
      closeSync(fd)
    }
    const proc = this.proc
    this.exited = new Promise(resolve => proc.once('exit', (code, signal) => resolve(code ?? signal)))
  }

  /** SIGTERM (graceful: the site hears a goodbye), then SIGKILL after `graceMs`. */
  async stop (graceMs: number): Promise<void> {
    this.stopping = true
    if (!this.running) return
    this.proc!.kill('SIGTERM')
    const timer = setTimeout(() => { if (this.running) this.proc!.kill('SIGKILL') }, graceMs)
    await this.exited
    clearTimeout(timer)
  }

  logTail (): string {
    try {
      return readFileSync(this.host.logFile, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n')
    } catch { return '(no log)' }
  }
}
