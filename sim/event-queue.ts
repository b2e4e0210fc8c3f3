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
 *
 * A bucket is a linked list through one pool of entries per queue (the event, and the index of
 * the next entry), not an array: an array emptied at the end of its millisecond got a new
 * backing store at its next push, and those refills were a twentieth of what the 10,000-host
 * fleet's on-prem and cloud sites allocated. The pool grows to the most events ever pending
 * and is reused from then on.
 *
 * A front event within the wheel goes into its bucket too, ahead of the bucket's other events
 * and among the bucket's front events by its order (a bucket holds a few); beyond the wheel it
 * goes to the heap with a sequence below every push()'s. At a millisecond where both hold
 * something, the bucket's front events and the heap's events are taken by that key, then the
 * bucket's others. The heap was a sharded site's way for every record from other sites: its
 * comparisons were a twentieth of the 10,000-host fleet's edge sites.
 */
import { BinaryHeap } from '../node/core/binary-heap.js'
import { simAssert } from './errors.js'

/** Milliseconds the wheel covers by default; events further ahead wait in the heap. A power of two. */
export const WHEEL_MS = 8192

interface Far<E> { atMs: number, seq: number, event: E }

/** pushFront's orders lie in [0, FRONT_ORDERS); their heap sequences below 0, under every push()'s. */
const FRONT_ORDERS = 2 ** 52

/** No entry: the end of a bucket's list, or of the free list. */
const NIL = -1

/** An entry's front order when it was pushed with push(). */
const NOT_FRONT = -1

export class EventQueue<E> {
  private readonly wheelMs: number
  private readonly mask: number
  /** Bit i: wheel slot i's bucket holds events not yet run. */
  private readonly busy: Uint32Array
  /** Each wheel slot's first and last entry (NIL: empty). */
  private readonly heads: Int32Array
  private readonly tails: Int32Array
  /** The entries: an event, and the entry after it in its bucket (or in the free list). */
  private items: (E | undefined)[] = []
  private links = new Int32Array(64)
  /** Each entry's front order (pushFront), or NOT_FRONT. */
  private orders = new Float64Array(64)
  /** The first free entry (NIL: none; the pool then grows). */
  private free = NIL
  /** The far events, on (atMs, seq). */
  private readonly far = new BinaryHeap<Far<E>>(before)
  private farSeq = 0
  /** Time of the heap's earliest event (Infinity when empty), kept so the hot loop never touches the heap. */
  private farAtMs = Infinity
  /** The millisecond being run. */
  private nowMs = 0
  private pending = 0
  /** Events run so far. */
  processed = 0

  /**
   * `wheelMs`, a power of two, at least 32: a sharded run has a queue per site, hundreds of
   * them, so each site's wheel is smaller (its bucket heads and tails live as long as the queue).
   */
  constructor (wheelMs = WHEEL_MS) {
    // At least 32: finding the next busy slot reads the busy bits a 32-bit word at a time.
    simAssert(wheelMs >= 32 && (wheelMs & (wheelMs - 1)) === 0, `the wheel covers a power of two ms, at least 32, got ${wheelMs}`)
    this.wheelMs = wheelMs
    this.mask = wheelMs - 1
    this.busy = new Uint32Array(Math.max(1, wheelMs >>> 5))
    this.heads = new Int32Array(wheelMs).fill(NIL)
    this.tails = new Int32Array(wheelMs).fill(NIL)
  }

  get now (): number { return this.nowMs }
  get size (): number { return this.pending }

  push (atMs: number, event: E): void {
    simAssert(atMs >= this.nowMs && Number.isInteger(atMs), `event scheduled in the past or off the ms grid: ${atMs} < ${this.nowMs}`)
    this.pending++
    if (atMs - this.nowMs < this.wheelMs) {
      const i = atMs & this.mask
      const e = this.entry(event)
      const tail = this.tails[i]
      if (tail === NIL) {
        this.heads[i] = e
        this.busy[i >>> 5] |= 1 << (i & 31)
      } else {
        this.links[tail] = e
      }
      this.tails[i] = e
    } else {
      this.far.push({ atMs, seq: this.farSeq++, event })
      if (atMs < this.farAtMs) this.farAtMs = atMs
    }
  }

  /** A free entry holding `event`, last in its list. */
  private entry (event: E): number {
    let e = this.free
    if (e !== NIL) {
      this.free = this.links[e]
      this.items[e] = event
    } else {
      e = this.items.length
      this.items.push(event)
      if (e >= this.links.length) {
        const wider = new Int32Array(this.links.length * 2)
        wider.set(this.links)
        this.links = wider
        const orders = new Float64Array(this.links.length)
        orders.set(this.orders)
        this.orders = orders
      }
    }
    this.links[e] = NIL
    this.orders[e] = NOT_FRONT
    return e
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
    if (atMs - this.nowMs >= this.wheelMs) {
      // Heap events of a millisecond run first, by sequence: below every push()'s.
      this.far.push({ atMs, seq: order - FRONT_ORDERS, event })
      if (atMs < this.farAtMs) this.farAtMs = atMs
      return
    }
    // After the bucket's front events of a lower order, before everything else in it.
    const i = atMs & this.mask
    const e = this.entry(event)
    this.orders[e] = order
    const links = this.links
    const orders = this.orders
    let before = NIL
    let after = this.heads[i]
    while (after !== NIL && orders[after] !== NOT_FRONT && orders[after] < order) {
      before = after
      after = links[after]
    }
    links[e] = after
    if (before === NIL) this.heads[i] = e
    else links[before] = e
    if (after === NIL) this.tails[i] = e
    this.busy[i >>> 5] |= 1 << (i & 31)
  }

  /**
   * Runs events in order until simulated time would pass `untilMs` (events at untilMs run).
   * `run` may schedule more events, including at the current millisecond.
   */
  runUntil (untilMs: number, run: (event: E, nowMs: number) => void, shouldStop: () => boolean): void {
    while (this.pending > 0 && !shouldStop()) {
      // Heap events of this millisecond first, but after the bucket's front events of a lower
      // key (see the header).
      if (this.farAtMs === this.nowMs && !this.frontFirst()) {
        const top = this.far.pop()!
        this.farAtMs = this.far.peek()?.atMs ?? Infinity
        this.pending--
        this.processed++
        run(top.event, this.nowMs)
        continue
      }
      const i = this.nowMs & this.mask
      const e = this.heads[i]
      if (e !== NIL) {
        // Take the bucket's first entry; events pushed for this millisecond meanwhile join its end.
        const event = this.items[e] as E
        this.items[e] = undefined
        const next = this.links[e]
        this.heads[i] = next
        if (next === NIL) {
          this.tails[i] = NIL
          this.busy[i >>> 5] &= ~(1 << (i & 31))
        }
        this.links[e] = this.free
        this.free = e
        this.pending--
        this.processed++
        run(event, this.nowMs)
        continue
      }
      // Move to the next millisecond that holds anything.
      if (this.nowMs >= untilMs) return
      this.nowMs = this.nextTime(untilMs)
    }
    if (this.nowMs < untilMs && !shouldStop()) this.advanceIdle(untilMs)
  }

  /** The bucket of now starts with a front event that runs before the heap's first (of now). */
  private frontFirst (): boolean {
    const head = this.heads[this.nowMs & this.mask]
    return head !== NIL && this.orders[head] !== NOT_FRONT && this.orders[head] - FRONT_ORDERS < this.far.peek()!.seq
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

  /** The bucket at now is done (or never held anything). */
  private assertNowDone (): void {
    simAssert(this.heads[this.nowMs & this.mask] === NIL, `events at ${this.nowMs} not run`)
  }

  private advanceIdle (untilMs: number): void {
    if (this.pending !== 0) return
    this.assertNowDone()
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
    this.assertNowDone()
    this.nowMs = atMs
  }
}

function before<E> (a: Far<E>, b: Far<E>): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq)
}
