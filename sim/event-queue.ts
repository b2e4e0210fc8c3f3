/**
 * The simulator's one global event queue: a timing wheel of one bucket per millisecond for
 * the near future, and a binary heap for events further out.
 *
 * Order is (time, insertion): events of the same millisecond run in the order they were
 * scheduled, exactly as a heap keyed on (atMs, sequence) would run them, but pushing and
 * popping cost O(1) instead of O(log n). That matters: a 10,000-host hour is billions of
 * deliveries. Why the overflow keeps the order: an event goes to the heap only when its time
 * is a whole wheel or more ahead, so every heap event for a millisecond was scheduled before
 * any wheel event for it, and the heap's events of a millisecond run first. Events pushed with
 * pushFront run before all of those, in the order given, however late they were pushed.
 *
 * A bit per wheel slot says whether its bucket holds anything: finding the next busy
 * millisecond reads a few words instead of every bucket on the way. A sharded fleet has
 * hundreds of queues, each run a few milliseconds at a time, and touching their buckets cost
 * a cache miss each (a sixth of a 10,000-host run's time).
 */
import { BinaryHeap } from '../node/core/binary-heap.js'
import { simAssert } from './errors.js'

/** Milliseconds the wheel covers by default; events further ahead wait in the heap. A power of two. */
export const WHEEL_MS = 8192

interface Far<E> { atMs: number, seq: number, event: E }

/** pushFront's orders lie in [0, FRONT_ORDERS); their heap sequences below 0, under every push()'s. */
const FRONT_ORDERS = 2 ** 52

export class EventQueue<E> {
  private readonly wheel: E[][]
  private readonly wheelMs: number
  private readonly mask: number
  /** Bit i: wheel slot i's bucket holds events not yet run. */
  private readonly busy: Uint32Array
  /** The far events, on (atMs, seq). */
  private readonly far = new BinaryHeap<Far<E>>(before)
  private farSeq = 0
  /** Time of the heap's earliest event (Infinity when empty), kept so the hot loop never touches the heap. */
  private farAtMs = Infinity
  /** The millisecond being run. */
  private nowMs = 0
  /** Index of the next event to run in the current bucket. */
  private cursor = 0
  private pending = 0
  /** Events run so far. */
  processed = 0

  /**
   * `wheelMs`, a power of two: a sharded run has a queue per site, hundreds of them, so each
   * site's wheel is smaller (its buckets are arrays that live as long as the queue).
   */
  constructor (wheelMs = WHEEL_MS) {
    simAssert(wheelMs > 0 && (wheelMs & (wheelMs - 1)) === 0, `the wheel covers a power of two ms, got ${wheelMs}`)
    this.wheelMs = wheelMs
    this.mask = wheelMs - 1
    this.wheel = Array.from({ length: wheelMs }, () => [])
    this.busy = new Uint32Array(Math.max(1, wheelMs >>> 5))
  }

  get now (): number { return this.nowMs }
  get size (): number { return this.pending }

  push (atMs: number, event: E): void {
    simAssert(atMs >= this.nowMs && Number.isInteger(atMs), `event scheduled in the past or off the ms grid: ${atMs} < ${this.nowMs}`)
    this.pending++
    if (atMs - this.nowMs < this.wheelMs) {
      const i = atMs & this.mask
      this.wheel[i].push(event)
      this.busy[i >>> 5] |= 1 << (i & 31)
    } else {
      this.far.push({ atMs, seq: this.farSeq++, event })
      if (atMs < this.farAtMs) this.farAtMs = atMs
    }
  }

  /**
   * An event that runs before every event pushed with push() for the same millisecond, and
   * after those of `pushFront` with a lower `order` (a whole number below 2^52): when it was
   * pushed does not matter. A sharded run puts what arrives from other sites here, in the
   * order it was sent, whenever it learns of it (sharded-run.ts).
   */
  pushFront (atMs: number, order: number, event: E): void {
    simAssert(atMs > this.nowMs && Number.isInteger(atMs), `a front event in the future, on the ms grid: ${atMs} after ${this.nowMs}`)
    simAssert(Number.isSafeInteger(order) && order >= 0 && order < FRONT_ORDERS, `front order ${order} within [0, 2^52)`)
    this.pending++
    // Heap events of a millisecond run first, by sequence: below every push()'s.
    this.far.push({ atMs, seq: order - FRONT_ORDERS, event })
    if (atMs < this.farAtMs) this.farAtMs = atMs
  }

  /**
   * Runs events in order until simulated time would pass `untilMs` (events at untilMs run).
   * `run` may schedule more events, including at the current millisecond.
   */
  runUntil (untilMs: number, run: (event: E, nowMs: number) => void, shouldStop: () => boolean): void {
    while (this.pending > 0 && !shouldStop()) {
      // Heap events of this millisecond first (see the header).
      if (this.farAtMs === this.nowMs) {
        const top = this.far.pop()!
        this.farAtMs = this.far.peek()?.atMs ?? Infinity
        this.pending--
        this.processed++
        run(top.event, this.nowMs)
        continue
      }
      const i = this.nowMs & this.mask
      if ((this.busy[i >>> 5] & (1 << (i & 31))) !== 0) {
        const bucket = this.wheel[i]
        if (this.cursor < bucket.length) {
          const event = bucket[this.cursor++]
          this.pending--
          this.processed++
          run(event, this.nowMs)
          continue
        }
        // The bucket is done: clear it.
        bucket.length = 0
        this.busy[i >>> 5] &= ~(1 << (i & 31))
      }
      // Move to the next millisecond that holds anything.
      this.cursor = 0
      if (this.nowMs >= untilMs) return
      this.nowMs = this.nextTime(untilMs)
    }
    if (this.nowMs < untilMs && !shouldStop()) this.advanceIdle(untilMs)
  }

  /** The next millisecond ≤ untilMs with an event, or the earlier of untilMs and the heap's next. */
  private nextTime (untilMs: number): number {
    const limit = Math.min(untilMs, this.farAtMs)
    const end = Math.min(limit, this.nowMs + this.wheelMs)
    for (let t = this.nowMs + 1; t < end;) {
      const i = t & this.mask
      const word = this.busy[i >>> 5] >>> (i & 31)
      if (word === 0) { t += 32 - (i & 31); continue }
      const found = t + 31 - Math.clz32(word & -word)
      return found < end ? found : limit
    }
    // Every wheel event lies within the wheel of now and none was found before the limit:
    // jumping to the limit skips nothing.
    return limit
  }

  /** The bucket at now is done (or never held anything): clear it. */
  private clearNow (): void {
    const i = this.nowMs & this.mask
    if ((this.busy[i >>> 5] & (1 << (i & 31))) === 0) return
    simAssert(this.cursor >= this.wheel[i].length, `events at ${this.nowMs} not run`)
    this.wheel[i].length = 0
    this.busy[i >>> 5] &= ~(1 << (i & 31))
  }

  private advanceIdle (untilMs: number): void {
    if (this.pending !== 0) return
    this.clearNow()
    this.cursor = 0
    this.nowMs = untilMs
  }

  /**
   * Moves the clock to `atMs` without running anything, after runUntil(atMs − 1) ran every
   * event before it: a sharded run does this at a window's start, so what it applies there
   * (a partition, a message from another site) happens at that time, before the window's events.
   */
  advanceTo (atMs: number): void {
    if (atMs <= this.nowMs) return
    simAssert(this.farAtMs >= atMs, `advancing to ${atMs} over events not run (now ${this.nowMs})`)
    this.clearNow()
    this.cursor = 0
    this.nowMs = atMs
  }
}

function before<E> (a: Far<E>, b: Far<E>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)
}
