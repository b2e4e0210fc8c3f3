/**
 * One large site of real daemons, run as a few processes of several daemons each
 * (daemon-group.ts says why). The integration harness writes the configs, host keys and ports
 * (Cluster.create: every peer id and so every bootstrap address is known up front); every
 * host's single bootstrap address is host 0's. Statuses are read over each daemon's HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { supervisorNodeOptions } from '../../node/daemon/node-options.js'
import { Cluster, REPO_ROOT, waitFor } from './harness.js'

const GROUP_SCRIPT = join(REPO_ROOT, 'dist/test/daemon/daemon-group.js')
const GROUP_START_TIMEOUT_MS = 30_000

export interface GroupedSiteOptions {
  site: string
  hosts: number
  hostsPerProcess: number
  /**
   * Within each process, the k-th daemon starts k × this after the first (default 0); processes
   * start together, so hosts come up at `processes` per this interval.
   */
  staggerMs?: number
  /** Config merged into every host (over the harness's defaults). */
  common?: Record<string, unknown>
}

/** What the convergence check reads from one daemon's /v1/status. */
export interface HostView {
  hostId: string
  role: string
  term: number
  leaderId: string
  aliveCount: number
  connectedCount: number
  siteMeshCount: number
}

interface StatusBody {
  hostId: string
  role: string
  term: number
  leaderId: string
  peers: Array<{ state: string, connected: boolean }>
  gossipMeshPeers: { site: number }
}

export interface Convergence {
  leaderId: string
  term: number
  minConnected: number
  minSiteMesh: number
}

export class GroupedSite {
  readonly procs: ChildProcess[] = []
  readonly stderr: string[] = []

  private constructor (readonly cluster: Cluster) {}

  /** Starts every group at once (a site's hosts booting together); resolves when all are up. */
  static async start (opts: GroupedSiteOptions): Promise<GroupedSite> {
    const hosts = Array.from({ length: opts.hosts }, (_, i) => ({ hostId: `${opts.site.toLowerCase()}${String(i).padStart(2, '0')}`, site: opts.site }))
    const cluster = await Cluster.create({ hosts, common: { debug: { faultInjection: false }, ...opts.common } })
    const site = new GroupedSite(cluster)
    try {
      const ready: Array<Promise<void>> = []
      for (let i = 0; i < hosts.length; i += opts.hostsPerProcess) {
        ready.push(site.spawnGroup(cluster.sups.slice(i, i + opts.hostsPerProcess).map(s => s.configFile), opts.staggerMs ?? 0))
      }
      await Promise.all(ready)
    } catch (err) {
      await site.stop()
      throw err
    }
    return site
  }

  private async spawnGroup (configFiles: string[], staggerMs: number): Promise<void> {
    const proc = spawn(process.execPath, [GROUP_SCRIPT, `--stagger-ms=${staggerMs}`, ...configFiles], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: supervisorNodeOptions(process.env.NODE_OPTIONS) } })
    this.procs.push(proc)
    proc.stderr!.on('data', (chunk: Buffer) => {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') this.stderr.push(l)
      if (this.stderr.length > 2000) this.stderr.splice(0, this.stderr.length - 2000)
    })
    let out = ''
    proc.stdout!.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
    await waitFor(`a daemon group of ${configFiles.length} to start`, () => {
      if (proc.exitCode !== null) throw new Error(`daemon group exited with ${proc.exitCode}: ${this.stderr.slice(-5).join('\n')}`)
      return out.includes('"ready"') || undefined
    }, GROUP_START_TIMEOUT_MS + configFiles.length * staggerMs)
  }

  async views (): Promise<HostView[]> {
    return await Promise.all(this.cluster.sups.map(async s => {
      const st = await s.get<StatusBody>('/v1/status')
      return {
        hostId: st.hostId,
        role: st.role,
        term: st.term,
        leaderId: st.leaderId,
        aliveCount: st.peers.filter(p => p.state === 'alive').length,
        connectedCount: st.peers.filter(p => p.connected).length,
        siteMeshCount: st.gossipMeshPeers.site,
      }
    }))
  }

  /**
   * Converged: every host names the same leader in the same term, that leader says it leads,
   * every host sees all others alive, is connected to at least `minConnected` of them and has
   * at least `minSiteMesh` gossipsub mesh peers on the site topic.
   */
  static convergence (views: HostView[], need: { minConnected: number, minSiteMesh: number }): Convergence | undefined {
    const first = views[0]
    if (first === undefined || first.leaderId === '') return undefined
    const leader = views.find(v => v.hostId === first.leaderId)
    if (leader === undefined || leader.role !== 'leader') return undefined
    for (const v of views) {
      if (v.leaderId !== first.leaderId || v.term !== first.term) return undefined
      if (v.aliveCount !== views.length - 1) return undefined
      if (v.connectedCount < need.minConnected || v.siteMeshCount < need.minSiteMesh) return undefined
    }
    return {
      leaderId: first.leaderId,
      term: first.term,
      minConnected: Math.min(...views.map(v => v.connectedCount)),
      minSiteMesh: Math.min(...views.map(v => v.siteMeshCount)),
    }
  }

  /** One line on how far a site is, for a timeout's message. */
  static describe (views: HostView[]): string {
    const leaders = new Map<string, number>()
    for (const v of views) {
      const k = `${v.leaderId === '' ? '-' : v.leaderId}@${v.term}`
      leaders.set(k, (leaders.get(k) ?? 0) + 1)
    }
    const min = (f: (v: HostView) => number): number => Math.min(...views.map(f))
    return `leaders ${JSON.stringify(Object.fromEntries(leaders))}, min alive ${min(v => v.aliveCount)}, ` +
      `min connected ${min(v => v.connectedCount)}, min site mesh ${min(v => v.siteMeshCount)}`
  }

  /** Resident memory of every group process, summed. */
  rssBytes (): number {
    let sum = 0
    for (const p of this.procs) {
      if (p.exitCode !== null || p.pid === undefined) continue
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))
      sum += Number(m?.[1] ?? 0) * 1024
    }
    return sum
  }

  async stop (): Promise<void> {
    await Promise.all(this.procs.map(async p => {
      if (p.exitCode !== null || p.signalCode !== null) return
      const exited = new Promise(resolve => p.once('exit', resolve))
      p.kill('SIGKILL')
      await exited
    }))
    await this.cluster.stopAll()
  }
}
