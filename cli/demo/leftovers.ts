/**
 * Making sure the demo leaves nothing behind. A supervisor that stops leaves its agents running
 * on purpose (a restarted supervisor adopts them), so after the supervisors have stopped the demo
 * removes the agents itself:
 * - Docker: every container whose `agentmesh.site` label starts with the run's prefix (the site
 *   names are unique per run, so nothing of another run or of a real deployment is touched).
 * - Processes: every live process whose command line holds the run's marker argument, found in
 *   /proc, plus every pid the process runtime's state files still list whose start time matches
 *   (so a recycled pid is never signalled).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import Docker from 'dockerode'
import { readProcStat, STATE_FILE_NAME } from '../../node/runtime/process-runtime.js'

/** The site label the runtimes put on every agent (node/core/reconcile.ts OWNER_LABELS). */
const SITE_LABEL = 'agentmesh.site'
/** How often a stop checks whether the agents have gone, ms. */
const EXIT_POLL_MS = 100

export interface DemoContainer { id: string, site: string, state: string }

export async function listDemoContainers (socketPath: string, sitePrefix: string): Promise<DemoContainer[]> {
  const docker = new Docker({ socketPath, timeout: 10_000 })
  const list = await docker.listContainers({ all: true, filters: { label: [SITE_LABEL] } })
  return list
    .filter(c => (c.Labels[SITE_LABEL] ?? '').startsWith(sitePrefix))
    .map(c => ({ id: c.Id, site: c.Labels[SITE_LABEL], state: c.State }))
}

/** Force-removes every container of the run; returns how many there were. */
export async function removeDemoContainers (socketPath: string, sitePrefix: string): Promise<number> {
  const docker = new Docker({ socketPath, timeout: 30_000 })
  const found = await listDemoContainers(socketPath, sitePrefix)
  await Promise.all(found.map(async c => {
    await docker.getContainer(c.id).remove({ force: true }).catch((err: { statusCode?: number }) => {
      if (err.statusCode !== 404) throw err // 404: gone meanwhile
    })
  }))
  return found.length
}

function alive (pid: number): boolean {
  const st = readProcStat(pid)
  return st !== undefined && st.state !== 'Z' // a zombie has ended; only its parent's wait is due
}

/** Pids of live processes whose argv holds `marker` as one argument. */
export function processesWithMarker (marker: string): number[] {
  const out: number[] = []
  let names: string[]
  try { names = readdirSync('/proc') } catch { return out } // no /proc: the state files must do
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')
      if (argv.includes(marker) && alive(Number(name))) out.push(Number(name))
    } catch { /* exited meanwhile */ }
  }
  return out
}

/** Pids the process runtime's state files in `dataDirs` list that still run as recorded. */
export function processesFromStateFiles (dataDirs: string[]): number[] {
  const out: number[] = []
  for (const dir of dataDirs) {
    let agents: Array<{ pid?: unknown, startTicks?: unknown }> = []
    try {
      agents = (JSON.parse(readFileSync(join(dir, 'agents', STATE_FILE_NAME), 'utf8')) as { agents?: typeof agents }).agents ?? []
    } catch { continue } // no file: this host started no agent
    for (const a of agents) {
      if (typeof a.pid !== 'number' || !Number.isInteger(a.pid) || a.pid <= 1 || typeof a.startTicks !== 'string') continue
      const st = readProcStat(a.pid)
      if (st !== undefined && st.state !== 'Z' && st.startTicks === a.startTicks) out.push(a.pid)
    }
  }
  return out
}

/**
 * SIGTERM to each agent's process group (the process runtime makes every agent a group leader),
 * SIGKILL to what is left after `graceMs`. Returns how many there were.
 */
export async function stopProcesses (pids: number[], graceMs: number): Promise<number> {
  const unique = [...new Set(pids)]
  const send = (pid: number, sig: NodeJS.Signals): void => {
    try { process.kill(-pid, sig) } catch { try { process.kill(pid, sig) } catch { /* gone */ } }
  }
  for (const pid of unique) send(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (unique.some(alive) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, EXIT_POLL_MS))
  for (const pid of unique.filter(alive)) send(pid, 'SIGKILL')
  return unique.length
}
