/**
 * A binary min-heap under a comparator. Iterative, no recursion. It sifts with a hole instead
 * of swaps: the comparisons a swapping heap makes, so the same order, even between items that
 * tie. The placement (placement.ts) and the simulator's far events (sim/event-queue.ts) use it.
 */
export class BinaryHeap<T> {
  private readonly items: T[] = []

  /** `less(a, b)`: a comes out before b. */
  constructor (private readonly less: (a: T, b: T) => boolean) {}

  get size (): number {
    return this.items.length
  }

  /** The item pop() would return, left in place. */
  peek (): T | undefined {
    return this.items[0]
  }

  push (item: T): void {
    const items = this.items
    let i = items.length
    items.push(item)
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent]
      if (!this.less(item, p)) break
      items[i] = p
      i = parent
    }
    items[i] = item
  }

  pop (): T | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop()!
    const n = items.length
    if (n > 0) {
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m: T = last
        let mi = i
        if (l < n && this.less(items[l], m)) { m = items[l]; mi = l }
        if (r < n && this.less(items[r], m)) { m = items[r]; mi = r }
        if (mi === i) break
        items[i] = m
        i = mi
      }
      items[i] = last
    }
    return top
  }
}
