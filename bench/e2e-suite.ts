/**
 * Benchmark suite `e2e`: reaction time with real parts (test/e2e/workload-site.ts): a 3-host
 * site of supervisor processes on the default `lan` timings, the Docker engine, the agent image
 * and Mosquitto (started by test/services/*.sh when absent).
 *
 * One trial: the site runs nothing for a zero backlog; the backlog steps to 10 (one replica's
 * worth), published retained on MQTT at t0; the figure is the engine's own `start` event of the
 * new container (`docker events`, nanosecond time, same machine so same clock) minus t0. Between
 * trials the backlog goes back to zero and the site scales to nothing (a 500 ms window).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { waitFor } from '../test/daemon/harness.js'
import { WorkloadSite } from '../test/e2e/workload-site.js'
import { median, percentile, round, type Figure, type Suite } from './harness.js'

const TRIALS = 10
/** The site settles this long at zero before a step, so every host has read the zero. */
const SETTLE_MS = 1500
const STEP_TIMEOUT_MS = 60_000

export const e2eSuite: Suite = {
  name: 'e2e',
  description: 'real parts: MQTT backlog step to a running Docker container in a 3-host site',
  async run (log) {
    const site = await WorkloadSite.create({
      hosts: 3,
      scaleDownWindowMs: 500,
      common: { log: { level: 'error' } },
    })
    const starts = new DockerStartEvents(site.site)
    try {
      await site.setBacklog(0)
      site.startAll()
      await site.leader()
      const reactions: number[] = []
      for (let trial = 1; trial <= TRIALS; trial++) {
        await site.setBacklog(0)
        await waitFor('the site runs nothing', async () => (await site.containers()).length === 0 ? true : undefined, STEP_TIMEOUT_MS, 100)
        await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
        const t0 = Date.now()
        const started = starts.next(STEP_TIMEOUT_MS)
        await site.setBacklog(10)
        const atMs = await started
        reactions.push(atMs - t0)
        log(`trial ${trial}: ${round(atMs - t0, 1)} ms`)
      }
      return [
        { metric: 'e2e.reaction_ms_median', value: round(median(reactions), 1), unit: 'ms', target: '< 2000' },
        { metric: 'e2e.reaction_ms_p99', value: round(percentile(reactions, 99), 1), unit: 'ms (max of 10)' },
        { metric: 'e2e.reaction_ms_min', value: round(Math.min(...reactions), 1), unit: 'ms' },
      ] satisfies Figure[]
    } finally {
      starts.close()
      await site.close()
    }
  },
}

/** The engine's container `start` events for one site, in order, as wall-clock ms. */
class DockerStartEvents {
  private readonly proc: ChildProcess
  private readonly queue: number[] = []
  private waiter: ((atMs: number) => void) | undefined

  constructor (site: string) {
    this.proc = spawn('docker', ['events', '--filter', 'type=container', '--filter', 'event=start', '--filter', `label=agentmesh.site=${site}`, '--format', '{{.TimeNano}}'], { stdio: ['ignore', 'pipe', 'inherit'] })
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const atMs = Number(BigInt(line.trim()) / 1000n) / 1000
      if (this.waiter !== undefined) { const w = this.waiter; this.waiter = undefined; w(atMs) } else this.queue.push(atMs)
    })
  }

  /** The next start from now on (earlier ones are dropped). */
  async next (timeoutMs: number): Promise<number> {
    this.queue.length = 0
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = undefined; reject(new Error(`no container started within ${timeoutMs} ms`)) }, timeoutMs)
      this.waiter = (atMs) => { clearTimeout(timer); resolve(atMs) }
    })
  }

  close (): void { this.proc.kill() }
}
