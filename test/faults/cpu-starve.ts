/**
 * CPU starvation of one process with a cgroup v1 CPU quota: the process keeps running, at a
 * small share of one core, as on a host whose CPU something else has taken. This machine mounts
 * cgroup v1 (`/sys/fs/cgroup/cpu`); on a machine with only cgroup v2 the scenario that uses this
 * is skipped with that reason (SIGSTOP, the `slow-host` scenario, works everywhere).
 *
 * The cgroup is `amf-RUN-slow`, named with the fault run's id so that the run's teardown
 * (test/services/faults-clean.sh) removes it after a crash.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FaultEnvError, NAME_PREFIX } from './net-hosts.js'

const CPU_V1_ROOT = '/sys/fs/cgroup/cpu'
/** The CFS period the quota is a share of (µs); the kernel's default. */
const CFS_PERIOD_US = 100_000

/** Why starvation cannot be done here, or undefined when it can. */
export function cpuStarveUnavailable (): string | undefined {
  if (!existsSync(join(CPU_V1_ROOT, 'cpu.cfs_quota_us'))) return `no cgroup v1 CPU controller at ${CPU_V1_ROOT} (cgroup v2 only is not supported by this test)`
  return undefined
}

export class CpuStarver {
  private readonly dir: string
  private readonly originalOf = new Map<number, string>()

  constructor (run: string) {
    this.dir = join(CPU_V1_ROOT, `${NAME_PREFIX}-${run}-slow`)
  }

  /** Moves the process into a cgroup allowed `percent` of one core. */
  starve (pid: number, percent: number): void {
    const why = cpuStarveUnavailable()
    if (why !== undefined) throw new FaultEnvError('E_FAULT_SETUP', why)
    if (!(percent >= 1 && percent <= 100)) throw new FaultEnvError('E_FAULT_ARG', `percent must be 1..100, got ${percent}`)
    mkdirSync(this.dir, { recursive: true })
    writeFileSync(join(this.dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US))
    writeFileSync(join(this.dir, 'cpu.cfs_quota_us'), String(Math.round(CFS_PERIOD_US * percent / 100)))
    this.originalOf.set(pid, cpuCgroupOf(pid))
    // cgroup.procs moves every thread of the process (libuv's pool and V8's too).
    writeFileSync(join(this.dir, 'cgroup.procs'), String(pid))
  }

  /** Puts the process back where it was and removes the cgroup. A process gone meanwhile is fine. */
  release (pid: number): void {
    const original = this.originalOf.get(pid)
    this.originalOf.delete(pid)
    if (original !== undefined) {
      try { writeFileSync(join(CPU_V1_ROOT, original, 'cgroup.procs'), String(pid)) } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
      }
    }
    if (this.originalOf.size === 0 && existsSync(this.dir)) rmdirSync(this.dir)
  }
}

/** The process's cgroup path in the v1 cpu hierarchy, from /proc/PID/cgroup (`N:cpu:/path`). */
function cpuCgroupOf (pid: number): string {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':')
    if (controllers !== undefined && path !== undefined && controllers.split(',').includes('cpu')) return path
  }
  throw new FaultEnvError('E_FAULT_SETUP', `process ${pid} is in no cgroup v1 cpu hierarchy`)
}
