/**
 * The demo's sensor load: for every site, work messages to `demo/<site>/work` at the rate of
 * load-shape.ts, held in a WorkQueue (work-queue.ts) until an agent acknowledges them on
 * `demo/<site>/acks`, and the site's backlog published (retained) to `demo/<site>/backlog` every
 * `backlogIntervalMs`: the number each supervisor's `mqtt-backlog` signal reads.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { cycleFraction, loadPhaseAt, siteRatePerS, type LoadPhase } from './load-shape.js'
import { WorkQueue } from './work-queue.js'

/** Arrivals and sends happen on this tick, ms. */
export const LOAD_TICK_MS = 100
/** How often each site's backlog is published, ms (well inside the signals' 5 s staleness). */
export const BACKLOG_INTERVAL_MS = 500
/** Bound on connecting to the embedded broker, ms. */
const CONNECT_TIMEOUT_MS = 5_000

export function siteTopics (site: string): { work: string, acks: string, backlog: string } {
  return { work: `demo/${site}/work`, acks: `demo/${site}/acks`, backlog: `demo/${site}/backlog` }
}

export interface SiteLoad {
  site: string
  phase: LoadPhase | 'waiting'
  /** Arrival rate now, messages per second. */
  ratePerS: number
  /** Acks per second over the last second: what the agents manage. */
  processedPerS: number
  backlog: number
  arrivedCount: number
  ackedCount: number
  redeliveredCount: number
  duplicateAckCount: number
}

export interface LoadGeneratorInit {
  brokerUrl: string
  sites: string[]
  cycleMs: number
  /** Milliseconds now; the demo passes Date.now. */
  nowMs: () => number
}

export class LoadGenerator {
  private client: MqttClient | undefined
  private readonly queues = new Map<string, WorkQueue>()
  private startedAtMs: number | undefined
  private lastTickMs = 0
  private tickTimer: NodeJS.Timeout | undefined
  private backlogTimer: NodeJS.Timeout | undefined

  constructor (private readonly init: LoadGeneratorInit) {
    for (const s of init.sites) this.queues.set(s, new WorkQueue())
  }

  /** Connects and starts publishing backlogs (zero until `beginLoad`). */
  async start (signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    const client = await mqtt.connectAsync(this.init.brokerUrl, { clientId: `demo-load-${process.pid}`, reconnectPeriod: 500, connectTimeout: CONNECT_TIMEOUT_MS })
    this.client = client
    client.on('message', (topic, payload) => this.onAck(topic, payload))
    await client.subscribeAsync(this.init.sites.map(s => siteTopics(s).acks))
    this.lastTickMs = this.init.nowMs()
    this.tickTimer = setInterval(() => this.tick(), LOAD_TICK_MS)
    this.backlogTimer = setInterval(() => this.publishBacklogs(), BACKLOG_INTERVAL_MS)
    this.publishBacklogs()
  }

  /** The load's clock starts: from here work arrives. */
  beginLoad (): void {
    this.startedAtMs ??= this.init.nowMs()
  }

  get loadStarted (): boolean { return this.startedAtMs !== undefined }

  snapshot (): SiteLoad[] {
    const now = this.init.nowMs()
    return this.init.sites.map((site, i) => {
      const q = this.queues.get(site)!
      const elapsed = this.startedAtMs === undefined ? undefined : now - this.startedAtMs
      return {
        site,
        phase: elapsed === undefined ? 'waiting' : loadPhaseAt(cycleFraction(elapsed, this.init.cycleMs, i)),
        ratePerS: elapsed === undefined ? 0 : siteRatePerS(elapsed, this.init.cycleMs, i),
        processedPerS: q.ackRatePerS(now),
        backlog: q.backlogCount(),
        arrivedCount: q.counters.arrivedCount,
        ackedCount: q.counters.ackedCount,
        redeliveredCount: q.counters.redeliveredCount,
        duplicateAckCount: q.counters.duplicateAckCount,
      }
    })
  }

  async stop (): Promise<void> {
    clearInterval(this.tickTimer)
    clearInterval(this.backlogTimer)
    await this.client?.endAsync(true).catch(() => {})
  }

  private tick (): void {
    const now = this.init.nowMs()
    const dt = now - this.lastTickMs
    this.lastTickMs = now
    const client = this.client
    if (client === undefined || !client.connected) return
    this.init.sites.forEach((site, i) => {
      const q = this.queues.get(site)!
      if (this.startedAtMs !== undefined) q.arrive(siteRatePerS(now - this.startedAtMs, this.init.cycleMs, i), dt)
      const topic = siteTopics(site).work
      for (const id of q.takeToSend(now)) {
        client.publish(topic, JSON.stringify({ id, sensor: `${site}-${id % 16}`, value: 20 + (id % 7) }), { qos: 0 })
      }
    })
  }

  private onAck (topic: string, payload: Buffer): void {
    const site = this.init.sites.find(s => siteTopics(s).acks === topic)
    if (site === undefined) return
    try {
      // The agent's ack: {"agent", "processed", "queued", "msg"}, msg echoing the work message.
      const ack = JSON.parse(payload.toString('utf8')) as { msg?: unknown }
      const id = typeof ack.msg === 'string' ? (JSON.parse(ack.msg) as { id?: unknown }).id : undefined
      if (typeof id === 'number') this.queues.get(site)!.ack(id, this.init.nowMs())
    } catch { /* not an ack of ours: ignored */ }
  }

  private publishBacklogs (): void {
    const client = this.client
    if (client === undefined || !client.connected) return
    for (const site of this.init.sites) {
      client.publish(siteTopics(site).backlog, String(this.queues.get(site)!.backlogCount()), { qos: 0, retain: true })
    }
  }
}
