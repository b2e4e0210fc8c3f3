/**
 * Seeded pseudo-random generator (mulberry32). The core draws every random choice from one of
 * these, so a run is decided by its seed alone.
 */
export class Rng {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next (): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Uniform integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  /** A new generator whose sequence is independent of this one's remaining draws. */
  fork (salt: number): Rng {
    return new Rng((this.next() * 4294967296) ^ Math.imul(salt | 0, 0x9e3779b1))
  }
}

