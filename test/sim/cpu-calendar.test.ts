/**
 * The simulator's CPU calendar (sim/cpu-calendar.ts): work booked out of arrival order takes the
 * earliest gap long enough for it, never overlaps other work, and booked in arrival order it is
 * the single "busy until" queue it replaced.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Rng } from '../../node/core/rng.js'
import { bookCpu, CpuCalendar } from '../../sim/cpu-calendar.js'

/** Every interval booked, per calendar, to check them against each other. */
function overlaps (intervals: Array<[number, number]>): boolean {
  const s = [...intervals].sort((a, b) => a[0] - b[0])
  for (let i = 1; i < s.length; i++) if (s[i][0] < s[i - 1][1] - 1e-9) return true
  return false
}

describe('the simulator\'s CPU calendar', () => {
  it('booked in arrival order, queues as one "busy until" does', () => {
    const rng = new Rng(3)
    const cal = new CpuCalendar()
    let busyUntil = 0
    let t = 0
    for (let i = 0; i < 500; i++) {
      t += rng.int(4)
      const cost = 0.5 + rng.int(30) / 10
      const expected = Math.max(t, busyUntil) + cost
      busyUntil = expected
      assert.equal(bookCpu(cal, [], t, cost), expected)
    }
  })

  it('lets work that arrives sooner take the gap before work booked ahead of it', () => {
    const cal = new CpuCalendar()
    // A relayed copy, booked first, arrives at 100; a direct one, booked after it, at 10.
    assert.equal(bookCpu(cal, [], 100, 5), 105)
    assert.equal(bookCpu(cal, [], 10, 5), 15)
    // Work that does not fit in a gap goes after what fills it.
    assert.equal(bookCpu(cal, [], 98, 5), 110)
    assert.equal(cal.lastEndMs, 110)
    cal.prune(106)
    assert.equal(bookCpu(cal, [], 106, 2), 112)
  })

  it('never runs two pieces of work at once on a host or a core, whatever the booking order', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rng = new Rng(seed)
      const hosts = Array.from({ length: 6 }, () => new CpuCalendar())
      const cores = [new CpuCalendar(), new CpuCalendar()]
      const perHost: Array<Array<[number, number]>> = hosts.map(() => [])
      const all: Array<[number, number]> = []
      for (let i = 0; i < 400; i++) {
        const h = rng.int(hosts.length)
        const ready = rng.int(300)
        const cost = 1 + rng.int(20) / 4
        const done = bookCpu(hosts[h], cores, ready, cost)
        assert.ok(done >= ready + cost - 1e-9, 'never before it arrives')
        perHost[h].push([done - cost, done])
        all.push([done - cost, done])
      }
      for (const [h, iv] of perHost.entries()) assert.ok(!overlaps(iv), `seed ${seed}: host ${h} ran two at once`)
      // Two cores: at no time do three pieces of work run.
      const edges = all.flatMap(([a, b]) => [[a, 1], [b, -1]] as Array<[number, number]>).sort((x, y) => x[0] - y[0] || x[1] - y[1])
      let running = 0
      for (const [, d] of edges) { running += d; assert.ok(running <= 2, `seed ${seed}: ${running} at once on 2 cores`) }
    }
  })

  it('answers as a plain list of intervals does, through bookings out of order and pruning', () => {
    // The reference: every busy interval kept in a sorted list, merged when they touch.
    for (const seed of [5, 6, 7]) {
      const rng = new Rng(seed)
      const cal = new CpuCalendar()
      let ref: Array<[number, number]> = []
      const refFree = (from: number, len: number): number => {
        let t = from
        for (const [a, b] of ref) { if (b <= t) continue; if (a >= t + len) break; t = b }
        return t
      }
      let now = 0
      for (let i = 0; i < 3000; i++) {
        if (rng.int(8) === 0) {
          // Time moves on: both forget what ended.
          now += rng.int(60)
          cal.prune(now)
          ref = ref.filter(([, b]) => b > now)
        }
        // Short work spread far ahead: up to about 45 disjoint intervals booked at once, pruned
        // from the front as time moves on.
        const from = now + rng.int(400)
        const len = 1 + rng.int(4)
        const t = cal.firstFree(from, len)
        assert.equal(t, refFree(from, len), `seed ${seed}, step ${i}: the first free time`)
        cal.book(t, t + len)
        ref.push([t, t + len])
        ref.sort((x, y) => x[0] - y[0])
        const merged: Array<[number, number]> = []
        for (const iv of ref) { const last = merged[merged.length - 1]; if (last !== undefined && last[1] === iv[0]) last[1] = iv[1]; else merged.push([iv[0], iv[1]]) }
        ref = merged
        assert.equal(cal.lastEndMs, ref.length === 0 ? -Infinity : ref[ref.length - 1][1], `seed ${seed}, step ${i}: the last end`)
      }
    }
  })

  it('takes the earliest time both the host and a core are free', () => {
    const host = new CpuCalendar()
    const cores = [new CpuCalendar()]
    // The core is taken by another host's work over [0, 10); this host is busy over [10, 20).
    bookCpu(new CpuCalendar(), cores, 0, 10)
    host.book(10, 20)
    assert.equal(bookCpu(host, cores, 0, 5), 25)
  })
})
