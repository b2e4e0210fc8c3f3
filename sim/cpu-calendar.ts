/**
 * When one CPU is busy: the simulator's model of a host's event loop, or of one of a site's
 * shared cores (simulation.ts, runOnCpu). Work is booked when its message is scheduled, not when
 * it arrives, and arrivals are booked out of time order: a relayed copy arrives after the relays'
 * own queues, later than a direct copy booked after it. A single "busy until" would make the
 * direct copy wait behind the relayed one and leave the CPU idle in between; this keeps each busy
 * interval, so a piece of work takes the earliest gap long enough for it at or after its arrival.
 *
 * Intervals that end before the time of a prune are dropped: nothing is booked in the past, so a
 * calendar holds only what is queued ahead (a few intervals, even in a storm of votes).
 */
export class CpuCalendar {
  /**
   * Busy intervals as [start, end) pairs, flat, sorted and disjoint: the first `n` entries. The
   * array is written in place and never shortened: an emptied JS array gets a new backing store
   * at its next push, and a fleet's hosts empty and refill their calendars all the time.
   */
  private readonly busy: number[] = []
  private n = 0

  /** When the last booked work ends (−Infinity: nothing booked). */
  get lastEndMs (): number {
    return this.n === 0 ? -Infinity : this.busy[this.n - 1]
  }

  /** Forgets intervals that end at or before `nowMs`. */
  prune (nowMs: number): void {
    const b = this.busy
    const n = this.n
    if (n === 0 || b[1] > nowMs) return
    let k = 0
    while (k < n && b[k + 1] <= nowMs) k += 2
    for (let i = k; i < n; i++) b[i - k] = b[i]
    this.n = n - k
  }

  /** The earliest t ≥ fromMs with [t, t + lengthMs) free. */
  firstFree (fromMs: number, lengthMs: number): number {
    const b = this.busy
    const n = this.n
    // The usual case: nothing booked ends after it arrives.
    if (n === 0 || b[n - 1] <= fromMs) return fromMs
    let t = fromMs
    for (let i = 0; i < n; i += 2) {
      if (b[i + 1] <= t) continue
      if (b[i] >= t + lengthMs) break
      t = b[i + 1]
    }
    return t
  }

  /** Books [startMs, endMs), which must be free (firstFree found it). */
  book (startMs: number, endMs: number): void {
    if (!(endMs > startMs)) return
    const b = this.busy
    const n = this.n
    // The usual case: after everything booked.
    if (n === 0 || b[n - 1] < startMs) { this.put(n, startMs); this.put(n + 1, endMs); this.n = n + 2; return }
    if (b[n - 1] === startMs) { b[n - 1] = endMs; return }
    // Where it goes: after every interval that starts before it.
    let i = n
    while (i > 0 && b[i - 2] > startMs) i -= 2
    const joinsBefore = i > 0 && b[i - 1] === startMs
    const joinsAfter = i < n && b[i] === endMs
    if (joinsBefore && joinsAfter) {
      // The gap is filled: the two intervals become one.
      b[i - 1] = b[i + 1]
      for (let j = i + 2; j < n; j++) b[j - 2] = b[j]
      this.n = n - 2
      return
    }
    if (joinsBefore) { b[i - 1] = endMs; return }
    if (joinsAfter) { b[i] = startMs; return }
    this.put(n, 0)
    this.put(n + 1, 0)
    for (let j = n - 1; j >= i; j--) b[j + 2] = b[j]
    b[i] = startMs
    b[i + 1] = endMs
    this.n = n + 2
  }

  /** Writes entry i, i ≤ n: within the array, or one past its end. */
  private put (i: number, v: number): void {
    if (i < this.busy.length) this.busy[i] = v
    else this.busy.push(v)
  }
}

/**
 * Books `costMs` of work on `host`'s calendar that arrives at `readyMs`, and on the first of
 * `cores` (a site's shared cores; none: the host has a core of its own) free for as long: the
 * earliest time both are. Returns when the work is done.
 */
export function bookCpu (host: CpuCalendar, cores: readonly CpuCalendar[], readyMs: number, costMs: number): number {
  let t = readyMs
  for (;;) {
    t = host.firstFree(t, costMs)
    if (cores.length === 0) break
    let best = Infinity
    let k = -1
    for (let c = 0; c < cores.length; c++) {
      const free = cores[c].firstFree(t, costMs)
      if (free < best) { best = free; k = c }
    }
    if (best === t) { cores[k].book(t, t + costMs); break }
    // No core is free at t: try again from the earliest one that is (the host may be busy then).
    t = best
  }
  host.book(t, t + costMs)
  return t + costMs
}
