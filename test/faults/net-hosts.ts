/**
 * Test hosts with real network separation, for the fault suite: one network namespace per host,
 * all joined to one Ethernet bridge, so that cutting a host off is a link going down or a
 * firewall dropping packets, not a hook inside the daemon.
 *
 * Layout of one run (RUN: 6 hex digits, unique per run):
 *
 *   amf-RUN-sw     the switch: a namespace holding only the bridge `br0` and one port per host.
 *                  The bridge lives apart from the root namespace so that the machine's own
 *                  bridge netfilter settings and firewall never see the hosts' traffic, and so
 *                  that every run can use the same data subnet, 10.77.0.0/24, without clashing.
 *   amf-RUN-hN     host N: `eth0` (10.77.0.N/24, its cable into switch port `hN`), loopback,
 *                  and `mgmt0`, a point-to-point link to the root namespace (root side
 *                  `amfRUNmN`) that only the test uses, to reach the host's HTTP API while its
 *                  data link is cut. The management subnets are /30s in 10.78.M.0/24, M claimed
 *                  per run; a host has no route to another host's management address, and its
 *                  firewall admits only the HTTP API's port on `mgmt0`.
 *
 * Faults: `isolate(N)` takes switch port hN down (the cable pulled); `partition(groups)` installs
 * DROP rules in each host's own firewall (chain AMF) for the addresses of the other groups;
 * `heal()` undoes both. No netem here (the kernel lacks it), and no latency or loss relay: the
 * suite's scenarios need only cuts.
 *
 * Teardown is `test/services/faults-clean.sh --run RUN`, the same script that removes the
 * leftovers of a crashed run (found by the name prefix and a dead owner pid).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from '../services/services.js'

const execFileAsync = promisify(execFile)

/** Where runs keep their folders (engine data, sockets, the owner pid). */
export const FAULTS_DIR = process.env.AGENTMESH_FAULTS_DIR ?? '/var/tmp/agentmesh-faults'
/** Names: namespaces `amf-RUN-…`, root-side links `amfRUNm…` (≤ 15 bytes: IFNAMSIZ). */
export const NAME_PREFIX = 'amf'
/** Hosts' data subnet; private to each run's switch namespace, so the same for every run. */
export const DATA_SUBNET = '10.77.0'
/** Management /30s are carved from 10.78.M.0/24, M claimed per run (they live in the root namespace). */
const MGMT_NET = '10.78'
/** Most hosts one run can have: 64 /30s fit in a /24, and host addresses must stay below .254. */
export const HOSTS_MAX = 32
/** Any single ip/iptables/nsenter call. */
const COMMAND_TIMEOUT_MS = 15_000
/** Any run of the cleanup script (it waits up to 10 s per namespace for killed processes). */
const CLEAN_TIMEOUT_MS = 120_000
/** iptables chain holding the partition rules in each host. */
const PARTITION_CHAIN = 'AMF'

export class FaultEnvError extends Error {
  constructor (readonly code: 'E_FAULT_COMMAND' | 'E_FAULT_SETUP' | 'E_FAULT_ARG', message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'FaultEnvError'
  }
}

/** Runs a command; rejects with E_FAULT_COMMAND naming it and its stderr. */
export async function run (cmd: string, args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 })
    return stdout.trim()
  } catch (err) {
    const e = err as { stderr?: string, message: string }
    throw new FaultEnvError('E_FAULT_COMMAND', `${cmd} ${args.join(' ')}: ${(e.stderr ?? '').trim() || e.message}`, { cause: err })
  }
}

export interface NetHost {
  /** 1-based. */
  index: number
  ns: string
  /** Address on the bridge: what supervisors listen on and dial. */
  dataIp: string
  /** Address on the management link, reachable from the root namespace. */
  mgmtIp: string
  /** The host's port on the switch (in the switch namespace). */
  switchPort: string
}

export interface NetHostsOptions {
  hosts: number
  /** TCP port the test reaches on each host's management link (the HTTP API's). */
  mgmtPort: number
}

export class NetHosts {
  readonly switchNs: string
  readonly dir: string
  readonly hosts: NetHost[] = []
  private destroyed = false

  private constructor (readonly run: string, private readonly mgmtOctet: number) {
    this.switchNs = `${NAME_PREFIX}-${run}-sw`
    this.dir = join(FAULTS_DIR, run)
  }

  /**
   * Removes leftovers of earlier runs whose owner died, then builds N hosts. On any failure the
   * half-built run is torn down before the error is thrown.
   */
  static async create (opts: NetHostsOptions): Promise<NetHosts> {
    if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > HOSTS_MAX) {
      throw new FaultEnvError('E_FAULT_ARG', `hosts must be 1..${HOSTS_MAX}, got ${opts.hosts}`)
    }
    await cleanLeftovers()
    const runId = randomBytes(3).toString('hex')
    const dir = join(FAULTS_DIR, runId)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    writeFileSync(join(dir, 'owner'), String(process.pid))
    const octet = claimMgmtSubnet(runId)
    const net = new NetHosts(runId, octet)
    try {
      await net.build(opts)
    } catch (err) {
      await net.destroy()
      throw new FaultEnvError('E_FAULT_SETUP', `building the test hosts failed: ${(err as Error).message}`, { cause: err })
    }
    return net
  }

  private async build (opts: NetHostsOptions): Promise<void> {
    await run('ip', ['netns', 'add', this.switchNs])
    await run('ip', ['-n', this.switchNs, 'link', 'set', 'lo', 'up'])
    await run('ip', ['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge'])
    await run('ip', ['-n', this.switchNs, 'link', 'set', 'br0', 'up'])
    for (let i = 1; i <= opts.hosts; i++) this.hosts.push(await this.buildHost(i, opts.mgmtPort))
  }

  private async buildHost (index: number, mgmtPort: number): Promise<NetHost> {
    const h: NetHost = {
      index,
      ns: `${NAME_PREFIX}-${this.run}-h${index}`,
      dataIp: `${DATA_SUBNET}.${index}`,
      mgmtIp: `${MGMT_NET}.${this.mgmtOctet}.${4 * (index - 1) + 2}`,
      switchPort: `h${index}`,
    }
    const rootEnd = `${NAME_PREFIX}${this.run}m${index}`
    const rootIp = `${MGMT_NET}.${this.mgmtOctet}.${4 * (index - 1) + 1}`
    await run('ip', ['netns', 'add', h.ns])
    await run('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up'])
    // The data cable: eth0 in the host, hN on the switch.
    await run('ip', ['link', 'add', 'eth0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.switchPort, 'netns', this.switchNs])
    await run('ip', ['-n', this.switchNs, 'link', 'set', h.switchPort, 'master', 'br0', 'up'])
    await run('ip', ['-n', h.ns, 'addr', 'add', `${h.dataIp}/24`, 'dev', 'eth0'])
    await run('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up'])
    // The management link: a /30 between this host and the root namespace only.
    await run('ip', ['link', 'add', 'mgmt0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', rootEnd])
    await run('ip', ['addr', 'add', `${rootIp}/30`, 'dev', rootEnd])
    await run('ip', ['link', 'set', rootEnd, 'up'])
    await run('ip', ['-n', h.ns, 'addr', 'add', `${h.mgmtIp}/30`, 'dev', 'mgmt0'])
    await run('ip', ['-n', h.ns, 'link', 'set', 'mgmt0', 'up'])
    // Firewall: the management link carries only the HTTP API; the partition chain starts empty.
    await this.iptables(h, ['-A', 'INPUT', '-i', 'mgmt0', '-p', 'tcp', '--dport', String(mgmtPort), '-j', 'ACCEPT'])
    await this.iptables(h, ['-A', 'INPUT', '-i', 'mgmt0', '-j', 'DROP'])
    await this.iptables(h, ['-N', PARTITION_CHAIN])
    await this.iptables(h, ['-A', 'INPUT', '-j', PARTITION_CHAIN])
    await this.iptables(h, ['-A', 'OUTPUT', '-j', PARTITION_CHAIN])
    return h
  }

  host (index: number): NetHost {
    const h = this.hosts[index - 1]
    if (h === undefined) throw new FaultEnvError('E_FAULT_ARG', `no host ${index} (hosts 1..${this.hosts.length})`)
    return h
  }

  /** The command prefix that runs a program inside host N's network namespace. */
  execPrefix (index: number): string[] {
    return ['ip', 'netns', 'exec', this.host(index).ns]
  }

  /** Runs a program inside host N's network namespace only (the mount namespace is shared). */
  async exec (index: number, cmd: string, args: readonly string[]): Promise<string> {
    return await run('nsenter', [`--net=/run/netns/${this.host(index).ns}`, cmd, ...args])
  }

  private async iptables (h: NetHost, args: readonly string[]): Promise<void> {
    // -w: wait for the xtables lock instead of failing when another iptables call holds it.
    await run('nsenter', [`--net=/run/netns/${h.ns}`, 'iptables', '-w', '5', ...args])
  }

  /** Pulls host N's cable: its switch port goes down; nothing reaches it or leaves it. */
  async isolate (index: number): Promise<void> {
    await run('ip', ['-n', this.switchNs, 'link', 'set', this.host(index).switchPort, 'down'])
  }

  /**
   * Splits the hosts into groups that cannot reach each other: each host drops packets from
   * and to the data addresses of every host outside its group. Hosts not named stay reachable
   * by all.
   */
  async partition (groups: readonly (readonly number[])[]): Promise<void> {
    const seen = new Set<number>()
    for (const g of groups) for (const i of g) {
      this.host(i)
      if (seen.has(i)) throw new FaultEnvError('E_FAULT_ARG', `host ${i} is in two groups`)
      seen.add(i)
    }
    for (const g of groups) {
      const others = groups.filter(o => o !== g).flat().map(i => this.host(i).dataIp)
      for (const i of g) {
        const h = this.host(i)
        for (const ip of others) {
          await this.iptables(h, ['-A', PARTITION_CHAIN, '-s', ip, '-j', 'DROP'])
          await this.iptables(h, ['-A', PARTITION_CHAIN, '-d', ip, '-j', 'DROP'])
        }
      }
    }
  }

  /** Every cable back in, every partition rule gone. */
  async heal (): Promise<void> {
    for (const h of this.hosts) {
      await run('ip', ['-n', this.switchNs, 'link', 'set', h.switchPort, 'up'])
      await this.iptables(h, ['-F', PARTITION_CHAIN])
    }
  }

  /** Removes everything of this run (namespaces, processes in them, links, mounts, folder). */
  async destroy (): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    await runCleanScript(['--run', this.run])
  }
}

/** Removes what crashed runs left (their owner pid is gone); runs of live owners are kept. */
export async function cleanLeftovers (): Promise<void> {
  await runCleanScript([])
}

async function runCleanScript (args: string[]): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'test/services/faults-clean.sh'), ...args], CLEAN_TIMEOUT_MS)
}

/**
 * Claims a third octet M for this run's management /30s in 10.78.M.0/24, which live in the
 * root namespace and so must not clash with a run going on meanwhile. A claim is a folder
 * `subnet-M` holding the run id, made by an atomic rename: of two runs racing for one M, one
 * rename fails and that run tries the next.
 */
function claimMgmtSubnet (runId: string): number {
  mkdirSync(FAULTS_DIR, { recursive: true, mode: 0o700 })
  const start = parseInt(runId.slice(0, 2), 16)
  for (let k = 0; k < 256; k++) {
    const octet = (start + k) % 256
    const tmp = mkdtempSync(join(FAULTS_DIR, `.claim-${runId}-`))
    writeFileSync(join(tmp, 'run'), runId + '\n')
    try {
      renameSync(tmp, join(FAULTS_DIR, `subnet-${octet}`))
      return octet
    } catch {
      rmSync(tmp, { recursive: true, force: true })
    }
  }
  throw new FaultEnvError('E_FAULT_SETUP', `no free management subnet in ${MGMT_NET}.0.0/16 (256 runs at once?)`)
}
