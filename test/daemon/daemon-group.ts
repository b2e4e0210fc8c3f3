/**
 * A process that runs several supervisor daemons: `node daemon-group.js [--stagger-ms=N] CONFIG...`,
 * the k-th started k × N ms after the first (default 0: all at once). Each config
 * becomes a `Daemon` with its own libp2p node, peer id, port, data dir and HTTP API; they share
 * this process's event loop, module code and one pino logger (on stderr, so stdout carries only
 * the `ready` line). SIGTERM stops them all gracefully.
 *
 * Why: a supervisor process costs ~85 MB and ~0.5 s of CPU to start, too much 50 times over on
 * a 2-core machine; 50 daemons in one process make one event loop so slow (600 ms a turn) that
 * the seed, which libuv lets accept one connection per turn, falls behind its dialers for good.
 * A few groups of ten use both cores and keep every loop responsive.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { pino } from 'pino'
import { loadConfig } from '../../node/daemon/config.js'
import { Daemon } from '../../node/daemon/daemon.js'

// AGENTMESH_GROUP_LOG_DIR: each group logs to its own file there (group-<pid>.log) instead of
// stderr, whose last lines only the harness keeps: per-host timelines of a whole start.
const LOG_DIR = process.env.AGENTMESH_GROUP_LOG_DIR
const logger = pino({ level: process.env.AGENTMESH_GROUP_LOG_LEVEL ?? 'warn' }, pino.destination(LOG_DIR === undefined ? 2 : join(LOG_DIR, `group-${process.pid}.log`)))
// AGENTMESH_GROUP_CPU_PROF_MS: a V8 CPU profile of this group's first N ms, written to
// AGENTMESH_GROUP_LOG_DIR (the harness SIGKILLs groups, so --cpu-prof would never write one).
const CPU_PROF_MS = Number(process.env.AGENTMESH_GROUP_CPU_PROF_MS ?? 0)
// With a log dir, a line a second of this process's CPU time and event-loop delay.
if (LOG_DIR !== undefined) {
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  setInterval(() => {
    const cpu = process.cpuUsage()
    logger.info({ cpuMs: Math.round((cpu.user + cpu.system) / 1000), loopDelayMsMax: Math.round(delay.max / 1e6), loopDelayMsP50: Math.round(delay.percentile(50) / 1e6) }, 'group stats')
    delay.reset()
  }, 1000).unref()
}
if (CPU_PROF_MS > 0 && LOG_DIR !== undefined) {
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object): Promise<any> => new Promise((resolve, reject) => session.post(method, params, (err, res) => { if (err !== null) reject(err); else resolve(res) }))  // eslint-disable-line @typescript-eslint/no-explicit-any
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 1000 })
  await post('Profiler.start')
  setTimeout(() => {
    void post('Profiler.stop').then((r: { profile: object }) => writeFileSync(join(LOG_DIR, `group-${process.pid}.cpuprofile`), JSON.stringify(r.profile)))
  }, CPU_PROF_MS).unref()
}
const STAGGER_FLAG = '--stagger-ms='
const args = process.argv.slice(2)
const staggerMs = Number(args.find(a => a.startsWith(STAGGER_FLAG))?.slice(STAGGER_FLAG.length) ?? 0)
const daemons = args.filter(a => !a.startsWith('--')).map(file => new Daemon(loadConfig(file, { env: {} }), { logger }))
for (const d of daemons) d.onFatal = (err) => { logger.fatal({ err: err.message }, 'daemon failed'); process.exit(1) }

// The parent holds our stdin: when it goes away (killed or crashed), so does this group.
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
// And when the parent is gone without closing the pipe (killed while the loop was busy), the
// group is re-parented: checked once a second.
const PARENT_PID = process.ppid
setInterval(() => { if (process.ppid !== PARENT_PID) process.exit(0) }, 1000).unref()

let stopping = false
process.on('SIGTERM', () => {
  if (stopping) return
  stopping = true
  void Promise.allSettled(daemons.map(async d => { await d.stop() })).then(() => process.exit(0))
})

const started = await Promise.allSettled(daemons.map(async (d, k) => {
  if (k > 0 && staggerMs > 0) await new Promise(resolve => setTimeout(resolve, k * staggerMs))
  await d.start()
}))
const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
if (failed !== undefined) {
  logger.fatal({ err: (failed.reason as Error).message }, 'a daemon did not start')
  process.exit(1)
}
process.stdout.write(JSON.stringify({ ready: daemons.length }) + '\n')
