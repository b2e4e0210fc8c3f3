/**
 * The container-runtime contract (container-runtime.contract.ts) against both shells: the
 * simulator's runtime, and the daemon's process runtime (real child processes, behind the
 * RuntimeDriver the daemon puts in front of every runtime) and its `none` stand-in. Docker:
 * docker-runtime.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Rng } from '../../node/core/rng.js'
import type { RuntimeObservation } from '../../node/core/ports.js'
import { NullRuntime } from '../../node/daemon/null-ports.js'
import type { AgentSpec } from '../../node/runtime/container-runtime.js'
import { createProcessRuntime } from '../../node/runtime/process-runtime.js'
import { RuntimeDriver } from '../../node/runtime/runtime-driver.js'
import { EventQueue } from '../../sim/event-queue.js'
import { logNormalMs, SimulatedRuntime } from '../../sim/simulated-runtime.js'
import { containerRuntimeContract } from './container-runtime.contract.js'
import { realRuntimeEventually, simulatedEventually } from './shell-time.js'

const HOST = 'contract-h1'
const SITE = 'contract-site'
const SERVICE = 'contract-agent'
/** Bound on one wait, real time: a start and a stop of a child process on a loaded machine. */
const REAL_BOUND_MS = 30_000
/** Bound on one wait, simulated time: far past the 99th percentile of a simulated start. */
const SIM_BOUND_MS = 60_000

containerRuntimeContract('the simulator (SimulatedRuntime)', async () => {
  const queue = new EventQueue<() => void>()
  const rng = new Rng(7)
  const runtime = new SimulatedRuntime({ hostId: HOST, site: SITE, services: new Map([[SERVICE, { pair: 0, slots: 1 }]]) }, {
    now: () => queue.now,
    at: (atMs, fn) => queue.push(atMs, fn),
    drawStart: () => ({ latencyMs: logNormalMs({ medianMs: 800, p99Ms: 5000 }, rng), fails: false }),
    drawCrashAfterMs: () => undefined,
  })
  const wait = simulatedEventually(() => queue.now, t => queue.runUntil(t, fn => fn(), () => false), SIM_BOUND_MS)
  return {
    runtime, hostId: HOST, site: SITE, service: SERVICE, runsContainers: true,
    eventually: async (what, done) => {
      let last: RuntimeObservation = runtime.observe()
      await wait(what, () => done(last = runtime.observe()))
      return last
    },
    exitBehindItsBack: async (id) => { runtime.exit(id) },
    close: async () => {},
  }
})

/** A well-behaved agent: exits 0 on SIGTERM. */
const POLITE = 'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1e9)'

containerRuntimeContract('the daemon\'s process runtime (RuntimeDriver over child processes)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agentmesh-contract-proc-'))
  const rt = createProcessRuntime({ stateDir: dir })
  const spec: AgentSpec = { service: SERVICE, image: 'unused', command: [process.execPath, '-e', POLITE], env: {}, restartPolicy: 'no', networkMode: 'host', stopTimeoutMs: 5_000 }
  const runtime = new RuntimeDriver({ hostId: HOST, site: SITE, specFor: s => s === SERVICE ? spec : undefined }, { runtime: rt })
  await runtime.start()
  return {
    runtime, hostId: HOST, site: SITE, service: SERVICE, runsContainers: true,
    eventually: realRuntimeEventually(runtime, REAL_BOUND_MS),
    exitBehindItsBack: async (id) => { process.kill(rt.pidOf(id)!, 'SIGKILL') },
    close: async () => {
      for (const c of await rt.observe()) await rt.removeAgent(c.id)
      await runtime.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

containerRuntimeContract('the daemon\'s none runtime (a stand-in)', async () => {
  const runtime = new NullRuntime()
  return {
    runtime, hostId: HOST, site: SITE, service: SERVICE, runsContainers: false,
    eventually: realRuntimeEventually(runtime, REAL_BOUND_MS),
    close: async () => {},
  }
})
