/**
 * MQTT signals (the `mqtt` package, MQTT 3.1.1 by default):
 *
 * - **backlog**: a topic (or a wildcard filter) whose messages carry numbers, as the whole
 *   payload or a JSON field (`field: 'queue.depth'`). With a wildcard, the latest value of each
 *   matching topic is summed (per-partition backlogs), at most `maxTopics` topics; a topic
 *   silent for `topicTtlMs` leaves the sum at the next message; an empty payload (a cleared
 *   retained message) removes its topic. The age is that of the newest message, unless
 *   `holdWhileConnected` says a publisher that only publishes on change keeps its value current
 *   while the subscription is up.
 * - **rate**: messages per second on a topic filter over a sliding window (`windowMs`, in
 *   `buckets` steps). While subscribed the rate is a current measurement, even at zero. It
 *   announces a change at most once per bucket, not per message.
 *
 * Reconnects: mqtt.js retries every `reconnectMs`; the subscription is made again on every
 * connect (clean session). While the broker is gone the last value stays, its age grows, and
 * the core fails static. One MQTT connection per signal: a host with many signals on one broker
 * opens as many connections (simple, and cheap at the expected handful).
 */
import type { MqttClient } from 'mqtt'
import { pino, type Logger } from 'pino'
import type { SignalSample } from '../../protocol/index.js'
import {
  Reading, SIGNAL_DEFAULTS, SignalError, SignalErrorCode, checkCommon, parseFieldPath, parseNumber, positive, reportProblems,
  type ServiceSignal, type SignalKind, type SignalStatus,
} from './signal-source.js'
import { redactCredentials, redactUrl } from './redact.js'

export interface MqttSignalInit {
  service: string
  /** true: the value is an upstream's saturation. */
  upstream?: boolean
  /** `mqtt://HOST:PORT` or `mqtts://…`. */
  url: string
  /** Topic or filter (`+` and `#` allowed). */
  topic: string
  clientId?: string
  username?: string
  password?: string
  reconnectMs?: number
  connectTimeoutMs?: number
}

export interface MqttBacklogInit extends MqttSignalInit {
  /** A JSON field path (`a.b.0`, optional leading `$.`); undefined: the payload is the number. */
  field?: string
  maxPayloadBytes?: number
  maxTopics?: number
  topicTtlMs?: number
  /** While subscribed, the last value counts as current (publishers that publish on change only). */
  holdWhileConnected?: boolean
}

export interface MqttRateInit extends MqttSignalInit {
  windowMs?: number
  buckets?: number
}

export interface MqttSignalComponents {
  /** Milliseconds, the same clock as the `nowMs` given to `sample`. Default `Date.now`. */
  clock?: () => number
  log?: Logger
}

function checkMqtt (init: MqttSignalInit, problems: string[]): void {
  checkCommon(init, problems)
  try {
    const u = new URL(init.url)
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(u.protocol)) problems.push(`url ${redactUrl(init.url)}: scheme must be mqtt, mqtts, ws or wss`)
  } catch { problems.push(`url ${redactUrl(String(init.url))} is not a URL`) }
  if (typeof init.topic !== 'string' || init.topic === '' || init.topic.length > 65_535) problems.push('topic must be a non-empty string')
  else if (/#./.test(init.topic) || /[^/]#|[^/]\+|\+[^/]/.test(init.topic)) problems.push(`topic ${init.topic} is not a valid filter`)
  positive(init.reconnectMs, 'reconnectMs', problems)
  positive(init.connectTimeoutMs, 'connectTimeoutMs', problems)
}

/** The connection and subscription, shared by both signal kinds. */
abstract class MqttSignal implements ServiceSignal {
  abstract readonly kind: SignalKind
  readonly service: string
  readonly upstream: boolean
  protected readonly reading = new Reading()
  protected readonly clock: () => number
  protected readonly log: Logger
  /** The broker URL as shown in messages: credentials in it replaced (redact.ts). */
  protected readonly shownUrl: string
  protected connected = false
  private client: MqttClient | undefined
  private starting = false
  /** Counts stop() calls: a start that was stopped while mqtt.js loaded does not connect. */
  private stops = 0

  constructor (protected readonly init: MqttSignalInit, components: MqttSignalComponents) {
    this.service = init.service
    this.upstream = init.upstream ?? false
    this.clock = components.clock ?? Date.now
    this.log = components.log ?? pino({ level: 'silent' })
    this.shownUrl = redactUrl(String(init.url))
  }

  /** Resolves at once: a broker that is down at start is a stale signal, not a failed start. */
  async start (): Promise<void> {
    if (this.client !== undefined || this.starting) return
    this.starting = true
    // Loaded on first use: mqtt.js costs ~10 MB of memory, which a host without MQTT signals
    // (and every daemon of a large test site) should not pay.
    const stopsAtStart = this.stops
    const { default: mqtt } = await import('mqtt').finally(() => { this.starting = false })
    if (this.stops !== stopsAtStart) return
    const client = mqtt.connect(this.init.url, {
      clientId: this.init.clientId ?? `agentmesh-signal-${Math.random().toString(16).slice(2, 10)}`,
      clean: true,
      resubscribe: false, // subscribed on every connect below, so the state is ours to know
      reconnectPeriod: this.init.reconnectMs ?? SIGNAL_DEFAULTS.mqttReconnectMs,
      connectTimeout: this.init.connectTimeoutMs ?? SIGNAL_DEFAULTS.mqttConnectTimeoutMs,
      ...(this.init.username === undefined ? {} : { username: this.init.username }),
      ...(this.init.password === undefined ? {} : { password: this.init.password }),
    })
    this.client = client
    client.on('connect', () => {
      client.subscribe(this.init.topic, { qos: 0 }, (err, granted) => {
        if (err != null || granted?.some(g => g.qos === 128) === true) {
          this.fail(SignalErrorCode.Unavailable, `subscribe to ${this.init.topic} refused${err != null ? `: ${err.message}` : ''}`)
          return
        }
        this.connected = true
        this.onSubscribed(this.clock())
        this.reading.emit()
      })
    })
    client.on('close', () => {
      if (!this.connected) return
      this.connected = false
      this.onDisconnected(this.clock())
      this.fail(SignalErrorCode.Unavailable, `connection to ${this.shownUrl} lost`)
    })
    client.on('error', (err) => this.fail(SignalErrorCode.Unavailable, `${this.shownUrl}: ${err.message}`))
    client.on('message', (topic, payload) => this.onMessage(topic, payload, this.clock()))
  }

  async stop (): Promise<void> {
    this.stops++
    const client = this.client
    this.client = undefined
    if (client === undefined) return
    this.connected = false
    await client.endAsync(true)
  }

  onChange (listener: () => void): () => void { return this.reading.onChange(listener) }

  sample (nowMs: number): SignalSample | undefined {
    this.refresh(nowMs)
    return this.reading.sample(this.service, this.upstream, nowMs)
  }

  status (nowMs: number): SignalStatus {
    this.refresh(nowMs)
    return { ...this.reading.status({ service: this.service, kind: this.kind, upstream: this.upstream }, nowMs), connected: this.connected }
  }

  protected fail (code: SignalErrorCode, text: string): void {
    const message = redactCredentials(text)
    this.log.debug({ service: this.service, code, err: message }, 'mqtt signal error')
    this.reading.failed(new SignalError(code, message), this.clock())
  }

  protected abstract onSubscribed (nowMs: number): void
  protected abstract onDisconnected (nowMs: number): void
  protected abstract onMessage (topic: string, payload: Buffer, nowMs: number): void
  /** Brings the reading up to `nowMs` before it is read (a rate moves with time). */
  protected abstract refresh (nowMs: number): void
}

class MqttBacklogSignal extends MqttSignal {
  readonly kind = 'mqtt-backlog'
  private readonly field: string[] | undefined
  private readonly topics = new Map<string, { value: number, atMs: number }>()

  constructor (private readonly b: MqttBacklogInit, components: MqttSignalComponents) {
    super(b, components)
    const problems: string[] = []
    checkMqtt(b, problems)
    positive(b.maxPayloadBytes, 'maxPayloadBytes', problems)
    positive(b.maxTopics, 'maxTopics', problems)
    positive(b.topicTtlMs, 'topicTtlMs', problems)
    let field: string[] | undefined
    try { field = b.field === undefined ? undefined : parseFieldPath(b.field) } catch (err) { problems.push((err as Error).message) }
    reportProblems(`mqtt backlog signal for ${String(b.service)}`, problems)
    this.field = field
  }

  protected onSubscribed (): void {}
  protected onDisconnected (nowMs: number): void {
    // Held values stop being current when the connection goes.
    this.refresh(nowMs)
  }

  protected refresh (nowMs: number): void {
    if (this.connected && this.b.holdWhileConnected === true) this.reading.hold(nowMs)
  }

  protected onMessage (topic: string, payload: Buffer, nowMs: number): void {
    const what = `${this.service} backlog on ${topic}`
    const maxBytes = this.b.maxPayloadBytes ?? SIGNAL_DEFAULTS.mqttPayloadBytesMax
    if (payload.length > maxBytes) { this.fail(SignalErrorCode.TooLarge, `${what}: payload of ${payload.length} bytes is over ${maxBytes}`); return }
    if (payload.length === 0) { // a retained value cleared: the topic is gone
      if (this.topics.delete(topic)) this.publishSum(nowMs)
      return
    }
    let value: number
    try {
      value = parseNumber(payload.toString('utf8'), this.field, what)
    } catch (err) {
      this.fail((err as SignalError).code, (err as Error).message)
      return
    }
    const maxTopics = this.b.maxTopics ?? SIGNAL_DEFAULTS.mqttTopicsMax
    if (!this.topics.has(topic) && this.topics.size >= maxTopics) {
      this.fail(SignalErrorCode.Limit, `${what}: more than ${maxTopics} topics match ${this.init.topic}; ignored`)
      return
    }
    this.topics.set(topic, { value, atMs: nowMs })
    this.publishSum(nowMs)
  }

  private publishSum (nowMs: number): void {
    const ttl = this.b.topicTtlMs ?? SIGNAL_DEFAULTS.mqttTopicTtlMs
    let sum = 0
    for (const [t, v] of this.topics) {
      if (nowMs - v.atMs > ttl) { this.topics.delete(t); continue }
      sum += v.value
    }
    this.reading.good(sum, nowMs)
  }
}

class MqttRateSignal extends MqttSignal {
  readonly kind = 'mqtt-rate'
  private readonly bucketMs: number
  private readonly counts: number[]
  private readonly bucketNos: number[]
  private subscribedAtMs = 0

  constructor (private readonly r: MqttRateInit, components: MqttSignalComponents) {
    super(r, components)
    const problems: string[] = []
    checkMqtt(r, problems)
    positive(r.windowMs, 'windowMs', problems)
    const buckets = r.buckets ?? SIGNAL_DEFAULTS.mqttRateBuckets
    if (!(Number.isInteger(buckets) && buckets >= 2 && buckets <= 1_000)) problems.push('buckets must be an integer from 2 to 1000')
    reportProblems(`mqtt rate signal for ${String(r.service)}`, problems)
    this.bucketMs = (r.windowMs ?? SIGNAL_DEFAULTS.mqttRateWindowMs) / buckets
    this.counts = new Array<number>(buckets).fill(0)
    this.bucketNos = new Array<number>(buckets).fill(-1)
  }

  protected onSubscribed (nowMs: number): void {
    // A new measurement starts: counts from before the gap would inflate it.
    this.counts.fill(0)
    this.bucketNos.fill(-1)
    this.subscribedAtMs = nowMs
    this.refresh(nowMs)
  }

  protected onDisconnected (nowMs: number): void {
    // Freeze the rate as it was when the connection went; from here on it only ages.
    this.reading.good(this.rateAt(nowMs), nowMs)
  }

  protected onMessage (_topic: string, _payload: Buffer, nowMs: number): void {
    const no = Math.floor(nowMs / this.bucketMs)
    const slot = no % this.counts.length
    const newBucket = this.bucketNos[slot] !== no
    if (newBucket) { this.bucketNos[slot] = no; this.counts[slot] = 0 }
    this.counts[slot]++
    // At most one change event per bucket, not one per message: a busy topic must not flood
    // whoever listens (the daemon may feed the core on change).
    if (newBucket) this.reading.emit()
  }

  protected refresh (nowMs: number): void {
    if (!this.connected) return
    const rate = this.rateAt(nowMs)
    // A measurement over a live subscription is current whatever it says; no event per message.
    this.reading.value = rate
    this.reading.readAtMs = nowMs
  }

  /** Messages per second over the window (or over the time since subscribing, if shorter). */
  private rateAt (nowMs: number): number {
    const no = Math.floor(nowMs / this.bucketMs)
    let count = 0
    for (let i = 0; i < this.counts.length; i++) {
      if (this.bucketNos[i] > no - this.counts.length && this.bucketNos[i] <= no) count += this.counts[i]
    }
    const windowSpanMs = (this.counts.length - 1) * this.bucketMs + (nowMs - no * this.bucketMs)
    const spanMs = Math.max(this.bucketMs, Math.min(windowSpanMs, nowMs - this.subscribedAtMs))
    return count / (spanMs / 1000)
  }
}

export function createMqttBacklogSignal (init: MqttBacklogInit, components: MqttSignalComponents = {}): ServiceSignal {
  return new MqttBacklogSignal(init, components)
}

export function createMqttRateSignal (init: MqttRateInit, components: MqttSignalComponents = {}): ServiceSignal {
  return new MqttRateSignal(init, components)
}
