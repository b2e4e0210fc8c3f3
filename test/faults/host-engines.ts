/**
 * One real Docker engine per test host: `dockerd` started inside the host's network namespace
 * with its own data root, exec root, socket, pid file and cgroup parent, so containers with
 * network mode `host` share that host's namespace, and "the engine on host 3 stops" is dockerd
 * on host 3 stopping (it stops that host's containers, as a real engine does).
 *
 * `nsenter --net` and not `ip netns exec`: the latter also mounts a fresh /sys for the
 * namespace, which hides the cgroup v1 hierarchies dockerd needs ("Devices cgroup isn't
 * mounted"). Only the network is separate; the engines share the machine's mount namespace,
 * which is why their mounts are cleaned by path (test/services/faults-clean.sh).
 *
 * No image can be pulled here: the agent image is saved once from the machine's main engine
 * (test/services/images.sh builds it) into a tar kept by image id, and loaded into each engine.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import Docker from 'dockerode'
import { OWNER_LABELS } from '../../node/core/reconcile.js'
import { AGENT_IMAGE } from '../services/services.js'
import { FAULTS_DIR, FaultEnvError, run, type NetHosts } from './net-hosts.js'

/** An engine answers its socket within this after start (a loaded 2-core machine: seconds). */
const ENGINE_START_TIMEOUT_MS = 60_000
/** A graceful stop (containers stopped first, each within its stop timeout) ends within this, else SIGKILL. */
const ENGINE_STOP_TIMEOUT_MS = 30_000
/** `docker load` of the agent image (~100 MB). */
const IMAGE_LOAD_TIMEOUT_MS = 120_000
/** Polling interval while waiting for an engine to answer. */
const ENGINE_POLL_MS = 100
/** One API call to an engine (listing containers, say). */
const ENGINE_CALL_TIMEOUT_MS = 10_000

export interface EngineContainer {
  id: string
  /** Docker's state: running, exited, created, restarting, dead … */
  state: string
  service: string
  site: string
  host: string
  term: number
}

export class HostEngine {
  readonly dir: string
  readonly socket: string
  private proc: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private readonly client: Docker

  constructor (readonly net: NetHosts, readonly index: number) {
    this.dir = join(net.dir, `h${index}`)
    this.socket = join(this.dir, 'docker.sock')
    this.client = new Docker({ socketPath: this.socket })
  }

  get running (): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }

  /** Starts dockerd in the host's namespace (again, after a stop: same data root) and waits until it answers. */
  async start (): Promise<void> {
    if (this.running) return
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const ns = this.net.host(this.index).ns
    const log = openSync(join(this.dir, 'dockerd.log'), 'a')
    const proc = spawn('nsenter', [`--net=/run/netns/${ns}`, 'dockerd',
      '--data-root', join(this.dir, 'data'),
      '--exec-root', join(this.dir, 'exec'),
      '-H', `unix://${this.socket}`,
      '--pidfile', join(this.dir, 'docker.pid'),
      // The cgroup parent names the run, so a crashed run's cgroups are found by name.
      '--cgroup-parent', `/${ns}`,
      // No bridge and no firewall changes: containers use the host's (namespace's) network.
      '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip6tables=false',
    ], { stdio: ['ignore', log, log] })
    closeSync(log)
    this.proc = proc
    this.exited = new Promise(resolve => proc.once('exit', () => resolve()))
    const deadline = Date.now() + ENGINE_START_TIMEOUT_MS
    for (;;) {
      if (!this.running) throw new FaultEnvError('E_FAULT_SETUP', `dockerd of host ${this.index} exited at start (log: ${join(this.dir, 'dockerd.log')})`)
      if (await this.ping()) return
      if (Date.now() > deadline) throw new FaultEnvError('E_FAULT_SETUP', `dockerd of host ${this.index} did not answer within ${ENGINE_START_TIMEOUT_MS} ms (log: ${join(this.dir, 'dockerd.log')})`)
      await new Promise(resolve => setTimeout(resolve, ENGINE_POLL_MS))
    }
  }

  /** True when the engine answers on its socket. */
  async ping (): Promise<boolean> {
    // dockerode's ping takes options (an abort signal) though its types list only a callback.
    const ping = this.client.ping.bind(this.client) as unknown as (opts: object) => Promise<unknown>
    return await ping({ abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS) }).then(() => true, () => false)
  }

  /**
   * Stops the engine as `systemctl stop docker` would (SIGTERM: it stops its containers, then
   * exits); SIGKILL after ENGINE_STOP_TIMEOUT_MS. Resolves once dockerd has exited.
   */
  async stop (): Promise<void> {
    if (!this.running) return
    this.proc!.kill('SIGTERM')
    const timer = setTimeout(() => this.proc?.kill('SIGKILL'), ENGINE_STOP_TIMEOUT_MS)
    await this.exited
    clearTimeout(timer)
  }

  /** The engine's log from byte `offset` on (see `logBytes`). */
  logSince (offset: number): string {
    const file = join(this.dir, 'dockerd.log')
    return existsSync(file) ? readFileSync(file).subarray(offset).toString('utf8') : ''
  }

  /** Current size of the engine's log, to read what it logs from now on. */
  logBytes (): number {
    const file = join(this.dir, 'dockerd.log')
    return existsSync(file) ? statSync(file).size : 0
  }

  async loadImage (tar: string): Promise<void> {
    await run('docker', ['-H', `unix://${this.socket}`, 'load', '-q', '-i', tar], IMAGE_LOAD_TIMEOUT_MS)
  }

  /** Every agentmesh container of `site` in this engine, in any state, from the engine itself. */
  async containers (site: string): Promise<EngineContainer[]> {
    const list = await this.client.listContainers({ all: true, filters: { label: [`${OWNER_LABELS.site}=${site}`] }, abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS) } as Docker.ContainerListOptions)
    return list.map(c => ({
      id: c.Id.slice(0, 12),
      state: c.State,
      service: c.Labels[OWNER_LABELS.service] ?? '',
      site: c.Labels[OWNER_LABELS.site] ?? '',
      host: c.Labels[OWNER_LABELS.host] ?? '',
      term: Number(c.Labels[OWNER_LABELS.term] ?? NaN),
    })).sort((a, b) => a.id.localeCompare(b.id))
  }

  /** Force-removes every container of `site` here (between runs, and before a stop at teardown). */
  async removeAll (site: string): Promise<void> {
    for (const c of await this.containers(site)) {
      await this.client.getContainer(c.id).remove({ force: true, abortSignal: AbortSignal.timeout(ENGINE_CALL_TIMEOUT_MS) } as object).catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw err
      })
    }
  }
}

/**
 * The agent image as a tar, saved from the main engine once per image id and kept in
 * FAULTS_DIR (older tars are removed), so each run only loads it.
 */
export async function agentImageTar (): Promise<string> {
  const id = (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', AGENT_IMAGE])).replace(/^sha256:/, '').slice(0, 16)
  const tar = join(FAULTS_DIR, `agent-image-${id}.tar`)
  if (existsSync(tar)) return tar
  mkdirSync(FAULTS_DIR, { recursive: true, mode: 0o700 })
  for (const f of readdirSync(FAULTS_DIR)) {
    if (/^agent-image-[0-9a-f]+\.tar$/.test(f)) rmSync(join(FAULTS_DIR, f), { force: true })
  }
  const tmp = `${tar}.${process.pid}.tmp`
  await run('docker', ['save', '-o', tmp, AGENT_IMAGE], IMAGE_LOAD_TIMEOUT_MS)
  renameSync(tmp, tar)
  return tar
}
