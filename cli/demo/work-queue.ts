/**
 * One site's work queue, as the demo's load generator keeps it: no I/O and no clock (the time is
 * passed in), so it is tested by feeding it events.
 *
 * Why the generator keeps the queue rather than the broker: the agents take work with MQTT QoS 0
 * from a shared subscription, and a QoS 0 message published while no agent is subscribed, or
 * queued inside an agent that is then stopped, is simply gone. A queue that only counted
 * published − acked would then never drain. So the generator works like a queue with a
 * visibility timeout (SQS, say): arrivals wait in `pending`; at most `windowCount()` messages are
 * out with the agents at once; a message not acknowledged within `visibilityTimeoutMs` is put
 * back and sent again. The window follows what the agents manage (twice the acks of the last
 * second), so a message waits about two seconds inside an agent at most and is not sent twice
 * while it still waits there.
 *
 * Backlog = pending + out with the agents: the number the site's supervisors scale on.
 */

export interface WorkQueueLimits {
  /** Messages out with the agents at once, at least (so a first agent gets work). */
  windowMin: number
  /** Messages out with the agents at once, at most. */
  windowMax: number
  /** Window = this many seconds of the agents' recent ack rate. */
  windowSecondsOfAcks: number
  /** A message out this long without an ack is put back and sent again, ms. */
  visibilityTimeoutMs: number
  /** Pending messages kept at most; arrivals beyond it are dropped and counted (shed). */
  pendingMax: number
}

export const WORK_QUEUE_LIMITS: WorkQueueLimits = {
  windowMin: 20,
  windowMax: 2_000,
  windowSecondsOfAcks: 2,
  visibilityTimeoutMs: 5_000,
  pendingMax: 100_000,
}

/** Slack on the fractional arrivals carried between calls (floating-point sums). */
const ARRIVAL_EPSILON = 1e-9
/** The ack rate is measured over this sliding window, ms. */
const ACK_RATE_WINDOW_MS = 1_000

if (WORK_QUEUE_LIMITS.visibilityTimeoutMs <= WORK_QUEUE_LIMITS.windowSecondsOfAcks * 1000) {
  throw new Error('visibilityTimeoutMs must exceed the time a full window takes to drain')
}

export interface WorkQueueCounters {
  /** Messages that arrived (the load). */
  arrivedCount: number
  /** Messages acknowledged by an agent (each id once). */
  ackedCount: number
  /** Messages sent again after their visibility timeout. */
  redeliveredCount: number
  /** Acks for an id that was not out (a second copy, or an unknown id). */
  duplicateAckCount: number
  /** Arrivals dropped because `pendingMax` was reached. */
  shedCount: number
}

export class WorkQueue {
  private pending: number[] = []
  private pendingHead = 0
  /** id → time sent, in send order (Map keeps insertion order). */
  private readonly outstanding = new Map<number, number>()
  private readonly ackTimesMs: number[] = []
  private nextId = 1
  private arrivalsCarry = 0
  readonly counters: WorkQueueCounters = { arrivedCount: 0, ackedCount: 0, redeliveredCount: 0, duplicateAckCount: 0, shedCount: 0 }

  constructor (private readonly limits: WorkQueueLimits = WORK_QUEUE_LIMITS) {
    if (!(limits.windowMin >= 1 && limits.windowMax >= limits.windowMin)) throw new RangeError('need 1 ≤ windowMin ≤ windowMax')
  }

  /** Adds `ratePerS × elapsedMs` arrivals, carrying the fraction to the next call. */
  arrive (ratePerS: number, elapsedMs: number): void {
    this.arrivalsCarry += Math.max(0, ratePerS) * Math.max(0, elapsedMs) / 1000
    // The epsilon: ten arrivals of 0.1 make one message, not 0.9999999999999999 of one.
    const whole = Math.floor(this.arrivalsCarry + ARRIVAL_EPSILON)
    this.arrivalsCarry = Math.max(0, this.arrivalsCarry - whole)
    for (let i = 0; i < whole; i++) {
      this.counters.arrivedCount++
      if (this.pendingCount() >= this.limits.pendingMax) { this.counters.shedCount++; continue }
      this.pending.push(this.nextId++)
    }
  }

  /** Puts back what timed out, then returns the ids to send now (marked as out at `nowMs`). */
  takeToSend (nowMs: number): number[] {
    this.expire(nowMs)
    const out: number[] = []
    const room = this.windowCount(nowMs) - this.outstanding.size
    for (let i = 0; i < room && this.pendingHead < this.pending.length; i++) {
      const id = this.pending[this.pendingHead++]
      this.outstanding.set(id, nowMs)
      out.push(id)
    }
    if (this.pendingHead > 4096 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead)
      this.pendingHead = 0
    }
    return out
  }

  /** An agent acknowledged message `id`. */
  ack (id: number, nowMs: number): void {
    if (!this.outstanding.delete(id)) { this.counters.duplicateAckCount++; return }
    this.counters.ackedCount++
    this.ackTimesMs.push(nowMs)
  }

  /** Acks per second over the last second. */
  ackRatePerS (nowMs: number): number {
    while (this.ackTimesMs.length > 0 && this.ackTimesMs[0] <= nowMs - ACK_RATE_WINDOW_MS) this.ackTimesMs.shift()
    return this.ackTimesMs.length * 1000 / ACK_RATE_WINDOW_MS
  }

  windowCount (nowMs: number): number {
    const want = Math.ceil(this.ackRatePerS(nowMs) * this.limits.windowSecondsOfAcks)
    return Math.min(this.limits.windowMax, Math.max(this.limits.windowMin, want))
  }

  pendingCount (): number { return this.pending.length - this.pendingHead }

  outstandingCount (): number { return this.outstanding.size }

  /** The number the site scales on: waiting plus out with the agents. */
  backlogCount (): number { return this.pendingCount() + this.outstanding.size }

  private expire (nowMs: number): void {
    const back: number[] = []
    for (const [id, sentMs] of this.outstanding) {
      if (sentMs > nowMs - this.limits.visibilityTimeoutMs) break // in send order: the rest is younger
      back.push(id)
    }
    if (back.length === 0) return
    for (const id of back) this.outstanding.delete(id)
    this.counters.redeliveredCount += back.length
    // Put back at the head: the oldest work goes out first again.
    this.pending = [...back, ...this.pending.slice(this.pendingHead)]
    this.pendingHead = 0
  }
}
