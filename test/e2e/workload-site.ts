/**
 * One site of real supervisor processes scaling real agent containers under Docker on real
 * MQTT backlog (Mosquitto from test/services), for the end-to-end tests and the e2e benchmark.
 *
 * Every supervisor of the site runs `runtime.kind: docker` against the machine's one engine;
 * the site's name is unique per run, and the agents carry it as `agentmesh.site`, which is how
 * this module lists and finally removes them. Each supervisor reaches the engine through a
 * socket relay of its own (`DockerSocketRelay`), so a test can make Docker unreachable for one
 * host while the others (and other test files) keep using the engine: a stand-in for stopping
 * one host's engine, on a machine that has a single engine shared by every simulated host.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { Cluster, waitFor, type Supervisor } from '../daemon/harness.js'
import { AGENT_IMAGE, MQTT_URL, docker, ensureServices, newRunId, removeContainersByLabel } from '../services/services.js'

export const DOCKER_SOCKET = '/var/run/docker.sock'

/** Relays a Unix socket to the Docker engine's; `cut()` makes the engine unreachable through it. */
export class DockerSocketRelay {
  private server: Server | undefined
  private readonly live = new Set<Socket>()

  constructor (readonly path: string, private readonly target = DOCKER_SOCKET) {}

  async open (): Promise<void> {
    rmSync(this.path, { force: true })
    const server = createServer((client) => {
      const upstream = createConnection(this.target)
      this.live.add(client)
      this.live.add(upstream)
      const drop = (): void => { client.destroy(); upstream.destroy(); this.live.delete(client); this.live.delete(upstream) }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    this.server = server
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(this.path, () => resolve()) })
  }

  /** Closes the relay and every connection through it (the Docker event stream included). */
  async cut (): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.live) s.destroy()
    this.live.clear()
    if (server !== undefined) await new Promise<void>(resolve => server.close(() => resolve()))
    rmSync(this.path, { force: true })
  }
}

export interface AgentContainer {
  id: string
  state: string
  host: string
  service: string
  term: number
  site: string
}

export interface WorkloadSiteOptions {
  hosts?: number
  /** Scale-down stabilisation window, ms (shortened from the HPA's 300 s). */
  scaleDownWindowMs?: number
  maxReplicas?: number
  /** Extra config merged into every host. */
  common?: Record<string, unknown>
}

export class WorkloadSite {
  readonly run: string
  readonly site: string
  readonly backlogTopic: string
  readonly workTopic: string
  private client: MqttClient | undefined

  private constructor (readonly cluster: Cluster, readonly relays: DockerSocketRelay[], run: string) {
    this.run = run
    this.site = run
    this.backlogTopic = `${run}/backlog`
    this.workTopic = `${run}/work`
  }

  static async create (opts: WorkloadSiteOptions = {}): Promise<WorkloadSite> {
    await ensureServices()
    const run = newRunId('e2e')
    const n = opts.hosts ?? 3
    const hosts = Array.from({ length: n }, (_, i) => ({ hostId: `${run}-h${i + 1}`, site: run }))
    // A short folder of its own: a Unix socket path must stay under 108 bytes.
    const relayDir = `/tmp/${run}`
    mkdirSync(relayDir, { recursive: true, mode: 0o700 })
    const relays = hosts.map(h => new DockerSocketRelay(join(relayDir, `${h.hostId}.sock`)))
    const cluster = await Cluster.create({
      hosts: hosts.map((h, i) => ({ ...h, extra: { runtime: { dockerSocket: relays[i]!.path } } })),
      common: commonConfig(run, opts),
    })
    for (const r of relays) await r.open()
    const site = new WorkloadSite(cluster, relays, run)
    site.client = await mqtt.connectAsync(MQTT_URL, { clientId: `${run}-test`, reconnectPeriod: 500 })
    return site
  }

  get sups (): Supervisor[] { return this.cluster.sups }

  startAll (): void { this.cluster.startAll() }

  async leader (timeoutMs = 30_000): Promise<Supervisor> {
    const agreed = await waitFor('one leader agreed by the site', async () => await this.cluster.siteAgreement(this.site).catch(() => undefined), timeoutMs, 100)
    return this.cluster.byId(agreed.leaderId)
  }

  /** Publishes the site's backlog (retained, as a queue-depth exporter would). */
  async setBacklog (value: number): Promise<void> {
    await this.client!.publishAsync(this.backlogTopic, String(value), { retain: true, qos: 1 })
  }

  /** Every container of this run's site, from the engine itself (not from any supervisor). */
  async containers (): Promise<AgentContainer[]> {
    const out = await docker(['ps', '-a', '--filter', `label=agentmesh.site=${this.site}`, '--format',
      '{{.ID}} {{.State}} {{.Label "agentmesh.host"}} {{.Label "agentmesh.service"}} {{.Label "agentmesh.term"}} {{.Label "agentmesh.site"}}'])
    return out.split('\n').filter(Boolean).map(line => {
      const [id, state, host, service, term, site] = line.split(' ')
      return { id: id!, state: state!, host: host!, service: service!, term: Number(term), site: site! }
    })
  }

  async running (): Promise<AgentContainer[]> {
    return (await this.containers()).filter(c => c.state === 'running')
  }

  /** Waits until exactly `n` containers run and none is in another state (no leftovers). */
  async waitForRunning (n: number, timeoutMs: number, what = `${n} agents running`): Promise<AgentContainer[]> {
    return await waitFor(what, async () => {
      const all = await this.containers()
      return all.length === n && all.every(c => c.state === 'running') ? all : undefined
    }, timeoutMs, 100)
  }

  async close (): Promise<void> {
    await this.client?.endAsync(true).catch(() => {})
    await this.cluster.stopAll()
    for (const r of this.relays) await r.cut()
    rmSync(`/tmp/${this.run}`, { recursive: true, force: true })
    await removeContainersByLabel('agentmesh.site', this.site)
  }
}

function commonConfig (run: string, opts: WorkloadSiteOptions): Record<string, unknown> {
  return {
    log: { level: 'warn' },
    runtime: { kind: 'docker', resyncIntervalMs: 2000 },
    capacity: { slots: 4 },
    services: [{
      name: 'worker',
      targetPerReplica: 10,
      minReplicas: 0,
      maxReplicas: opts.maxReplicas ?? 8,
      upstream: { name: 'broker', saturatedAt: 0.9 },
      scaleDown: { stabilizationMs: opts.scaleDownWindowMs ?? 3000, policies: [{ type: 'percent', value: 100, periodMs: 1000 }] },
      agent: {
        image: AGENT_IMAGE,
        env: { AGENT_MQTT_URL: MQTT_URL, AGENT_TOPIC: `${run}/work` },
        networkMode: 'host',
        stopTimeoutMs: 1000,
      },
    }],
    signals: [
      { service: 'worker', kind: 'mqtt-backlog', url: MQTT_URL, topic: `${run}/backlog`, scope: 'site', holdWhileConnected: true },
      { upstream: 'broker', kind: 'push', scope: 'site' },
    ],
    ...opts.common,
  }
}
