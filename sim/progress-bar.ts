/**
 * A progress bar on stderr, only when stderr is a terminal and only once a run has taken a
 * couple of seconds. It reads the wall clock for display only: nothing it sees reaches the run.
 */
import { performance } from 'node:perf_hooks'

const SHOW_AFTER_MS = 2000
const REDRAW_MS = 100
const WIDTH = 30

export class ProgressBar {
  private readonly startMs = performance.now()
  private lastDrawMs = 0
  private shown = false

  constructor (private readonly stream: NodeJS.WriteStream, private readonly enabled: boolean) {}

  static forStderr (quiet: boolean): ProgressBar {
    return new ProgressBar(process.stderr, !quiet && process.stderr.isTTY === true)
  }

  update (label: string, fraction: number): void {
    if (!this.enabled) return
    const now = performance.now()
    if (now - this.startMs < SHOW_AFTER_MS || now - this.lastDrawMs < REDRAW_MS) return
    this.lastDrawMs = now
    this.shown = true
    const f = Math.max(0, Math.min(1, fraction))
    const filled = Math.round(f * WIDTH)
    const elapsedS = (now - this.startMs) / 1000
    this.stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${elapsedS.toFixed(0)} s `)
  }

  done (): void {
    if (this.shown) this.stream.write('\r\x1b[K')
    this.shown = false
  }
}
