/**
 * The fault suite's world and site: N test hosts (net-hosts.ts), each with its own Docker engine
 * (host-engines.ts), and one site of real supervisor processes, one per host, started inside the
 * host's namespace (`ip netns exec`), listening on the host's bridge address, driving the host's
 * own engine, with its HTTP API on the host's management address.
 *
 * Everything checked here is read from outside the daemons:
 * - leadership: every supervisor's `/v1/status` polled throughout (role, term) and every line it
 *   logs ("elected site leader", "plan published", each with its term), so a leader that lived
 *   between two polls is still seen; a term claimed by two hosts is a split brain;
 * - containers: each engine's own list (owner labels `agentmesh.*`), never a supervisor's view.
 *
 * The site runs a known number of replicas: one service with minReplicas = maxReplicas and no
 * signal (the leader holds it at its bounds), so every count has one right answer.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Cluster, waitFor, type HostPlacement, type Status, type Supervisor } from '../daemon/harness.js'
import { AGENT_IMAGE, ensureServices, newRunId, REPO_ROOT } from '../services/services.js'
import { agentImageTar, HostEngine, type EngineContainer } from './host-engines.js'
import { FaultEnvError, NetHosts, run } from './net-hosts.js'

/** Ports inside each host's namespace: every host has its own port space, so they are fixed. */
export const P2P_PORT = 7420
export const HTTP_PORT = 7421
/** The one service the site runs. */
export const SERVICE = 'worker'
/** Status polling while a scenario runs; 5 hosts × 5 polls a second is far below the API's rate limit. */
export const STATUS_POLL_MS = 200
/** One status request; a stopped (SIGSTOP) supervisor does not answer, and that is no error. */
const STATUS_TIMEOUT_MS = 1000
/** Containers are sampled every this many status polls (each sample lists every engine). */
const CONTAINER_SAMPLE_EVERY_POLLS = 3
/** A steady state must hold for this many polls in a row before it counts (no flicker). */
const STEADY_POLLS = 3
/** libfaketime, preloaded into every supervisor so that one host's wall clock can be moved. */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1'

export interface FaultWorldOptions {
  hosts: number
  log?: (line: string) => void
}

/** The hosts and their engines; built once, used by one site at a time. */
export class FaultWorld {
  private constructor (readonly net: NetHosts, readonly engines: HostEngine[], readonly log: (line: string) => void) {}

  static async create (opts: FaultWorldOptions): Promise<FaultWorld> {
    const log = opts.log ?? (() => {})
    await ensureFaultServices()
    const t0 = Date.now()
    const net = await NetHosts.create({ hosts: opts.hosts, mgmtPort: HTTP_PORT })
    const engines = net.hosts.map(h => new HostEngine(net, h.index))
    const world = new FaultWorld(net, engines, log)
    try {
      const tar = await agentImageTar()
      // One at a time: engines starting together on 2 cores take longer in all than in turn.
      for (const e of engines) {
        await e.start()
        await e.loadImage(tar)
      }
    } catch (err) {
      await world.destroy()
      throw err
    }
    log(`world ${net.run}: ${opts.hosts} hosts with their engines in ${Date.now() - t0} ms`)
    return world
  }

  /** Supervisor placement for host index i (0-based, as the harness counts). */
  placement (i: number, clockFile: string | undefined): HostPlacement {
    const h = this.net.hosts[i]!
    return {
      p2pIp: h.dataIp,
      httpIp: h.mgmtIp,
      p2pPort: P2P_PORT,
      httpPort: HTTP_PORT,
      commandPrefix: this.net.execPrefix(h.index),
      ...(clockFile === undefined
        ? {}
        : {
            env: {
              LD_PRELOAD: LIBFAKETIME,
              FAKETIME_TIMESTAMP_FILE: clockFile,
              // The offset file is read again at most once a second (not on every clock call).
              FAKETIME_CACHE_DURATION: '1',
              // Only the wall clock moves; CLOCK_MONOTONIC, which the daemon's clock and every
              // timer use, stays true, as on a real host whose time is set.
              DONT_FAKE_MONOTONIC: '1',
            },
          }),
    }
  }

  async destroy (): Promise<void> {
    // Engines first, gracefully (their mounts go with them), then everything else by name.
    for (const e of this.engines) await e.stop().catch(() => {})
    await this.net.destroy()
  }
}

/** Installs and starts what the fault suite needs (idempotent): test/services/faults.sh, then the usual services. */
export async function ensureFaultServices (): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'test/services/faults.sh')], 10 * 60_000)
  await ensureServices()
}

export interface FaultSiteOptions {
  /** Replicas the site runs (minReplicas = maxReplicas). */
  replicas: number
  /** Agent slots per host; hosts × slots must leave room when hosts are lost. */
  slotsPerHost: number
}

export interface Claim { term: number, hostId: string, source: 'status' | 'log' }

export interface Counts {
  /** Running containers with the right owner labels, per host. */
  runningByHost: Record<string, number>
  running: number
  lost: number
  duplicates: number
  orphans: number
  /** One line per orphan, for the report. */
  orphanDetails: string[]
  /**
   * Containers the engine was asked to remove and could not (Docker's states `removing` and
   * `dead`): the supervisor did its part, the engine failed. Counted apart from orphans, which
   * are what a supervisor left behind. One line each.
   */
  stuckInEngine: string[]
}

/** Docker states of a container whose removal was asked for and did not finish. */
const ENGINE_STUCK_STATES = new Set(['removing', 'dead'])

export class FaultSite {
  readonly claims = new Map<number, Map<string, Claim>>()
  private polling = false
  private pollLoop: Promise<void> = Promise.resolve()
  /** Most owned, running containers seen at once since the last reset (all engines together). */
  peakRunning = 0
  /** Containers stuck in an engine already reported (they stay stuck). */
  readonly stuckSeen = new Set<string>()
  readonly clockFiles: string[]

  private constructor (readonly world: FaultWorld, readonly cluster: Cluster, readonly site: string, readonly opts: FaultSiteOptions, clockFiles: string[]) {
    this.clockFiles = clockFiles
    for (const s of cluster.sups) s.onLine = (line) => this.readLine(s, line)
  }

  static async create (world: FaultWorld, opts: FaultSiteOptions): Promise<FaultSite> {
    const site = newRunId('faults')
    const n = world.net.hosts.length
    const clockFiles = world.net.hosts.map(h => join(world.net.dir, `h${h.index}`, 'faketime.rc'))
    const withClock = existsSync(LIBFAKETIME)
    for (const f of clockFiles) writeFileSync(f, '+0\n')
    const cluster = await Cluster.create({
      hosts: world.net.hosts.map((h, i) => ({
        hostId: `${site}-h${h.index}`,
        site,
        extra: { runtime: { dockerSocket: world.engines[i]!.socket } },
      })),
      // Every host knows every other: a restarted host finds the site whoever is up.
      bootstrapOf: (i) => Array.from({ length: n }, (_, j) => j).filter(j => j !== i),
      placementOf: (i) => world.placement(i, withClock ? clockFiles[i] : undefined),
      common: {
        log: { level: 'info' },
        runtime: { kind: 'docker', resyncIntervalMs: 2000 },
        capacity: { slots: opts.slotsPerHost },
        services: [{
          name: SERVICE,
          minReplicas: opts.replicas,
          maxReplicas: opts.replicas,
          agent: {
            image: AGENT_IMAGE,
            // No broker is reachable inside the namespaces: the agent keeps retrying (capped
            // backoff), which is all a replica needs to do here: run until stopped.
            env: { AGENT_MQTT_URL: 'mqtt://127.0.0.1:1', AGENT_TOPIC: `${site}/work` },
            networkMode: 'host',
            stopTimeoutMs: 1000,
          },
        }],
      },
    })
    return new FaultSite(world, cluster, site, opts, withClock ? clockFiles : [])
  }

  get sups (): Supervisor[] { return this.cluster.sups }

  /** Host index (1-based) of a supervisor. */
  indexOf (s: Supervisor): number { return this.sups.indexOf(s) + 1 }

  engineOf (s: Supervisor): HostEngine { return this.world.engines[this.sups.indexOf(s)]! }

  startAll (): void {
    this.cluster.startAll()
    this.polling = true
    this.pollLoop = this.poll()
  }

  async close (): Promise<void> {
    this.polling = false
    await this.pollLoop
    await this.cluster.stopAll()
    for (const e of this.world.engines) if (e.running) await e.removeAll(this.site)
  }

  // ---- leadership, from outside ----

  private claim (term: number, hostId: string, source: Claim['source']): void {
    if (!Number.isSafeInteger(term) || term <= 0) return
    let byHost = this.claims.get(term)
    if (byHost === undefined) { byHost = new Map(); this.claims.set(term, byHost) }
    if (!byHost.has(hostId)) byHost.set(hostId, { term, hostId, source })
  }

  private readLine (s: Supervisor, line: string): void {
    if (!line.startsWith('{')) return
    let rec: { msg?: unknown, term?: unknown }
    try { rec = JSON.parse(line) as typeof rec } catch { return }
    if (rec.msg === 'elected site leader' || rec.msg === 'plan published') this.claim(Number(rec.term), s.hostId, 'log')
  }

  resetPeakRunning (): void { this.peakRunning = 0 }

  private async poll (): Promise<void> {
    for (let round = 0; this.polling; round++) {
      const started = Date.now()
      await Promise.all(this.sups.map(async s => {
        const st = await this.statusOf(s)
        if (st?.role === 'leader') this.claim(st.term, st.hostId, 'status')
      }))
      if (round % CONTAINER_SAMPLE_EVERY_POLLS === 0) await this.samplePeak()
      await new Promise(resolve => setTimeout(resolve, Math.max(0, STATUS_POLL_MS - (Date.now() - started))))
    }
  }

  async statusOf (s: Supervisor): Promise<Status | undefined> {
    if (!s.running) return undefined
    try {
      const res = await fetch(`${s.url}/v1/status`, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) })
      return res.ok ? await res.json() as Status : undefined
    } catch { return undefined }
  }

  /** Terms in which more than one host claimed leadership (every term ever seen, not only new ones). */
  splitBrainTerms (): Array<{ term: number, hosts: string[] }> {
    return [...this.claims.entries()].filter(([, m]) => m.size > 1).map(([term, m]) => ({ term, hosts: [...m.keys()].sort() }))
  }

  /** Running containers owned by their engine's host, whether or not a supervisor runs there. */
  private async samplePeak (): Promise<void> {
    let n = 0
    for (const s of this.sups) {
      const e = this.engineOf(s)
      if (!e.running) continue
      const list = await e.containers(this.site).catch(() => [])
      n += list.filter(c => c.state === 'running' && c.host === s.hostId).length
    }
    this.peakRunning = Math.max(this.peakRunning, n)
  }

  // ---- agreement among a set of supervisors ----

  /**
   * The members given (default: every running one) all name one leader among them in one term,
   * and that leader says it leads. Undefined otherwise (or when one does not answer).
   */
  async agreement (members: readonly Supervisor[] = this.sups.filter(s => s.running)): Promise<{ leader: Supervisor, term: number } | undefined> {
    const statuses = await Promise.all(members.map(async s => await this.statusOf(s)))
    const first = statuses[0]
    if (first === undefined || first.leaderId === '') return undefined
    for (const st of statuses) {
      if (st === undefined || st.leaderId !== first.leaderId || st.term !== first.term) return undefined
      if (st.hostId === first.leaderId && st.role !== 'leader') return undefined
    }
    const leader = members.find(m => m.hostId === first.leaderId)
    return leader === undefined ? undefined : { leader, term: first.term }
  }

  async leader (timeoutMs: number): Promise<{ leader: Supervisor, term: number }> {
    return await waitFor('one leader agreed by the site', async () => await this.agreement(), timeoutMs, STATUS_POLL_MS)
  }

  // ---- containers, from every engine ----

  async containersByHost (): Promise<Map<Supervisor, EngineContainer[]>> {
    const out = new Map<Supervisor, EngineContainer[]>()
    for (const s of this.sups) {
      const e = this.engineOf(s)
      out.set(s, e.running ? await e.containers(this.site) : [])
    }
    return out
  }

  /**
   * Counts from every engine's own list. An orphan is a container labelled for another host
   * than its engine's, one on a host whose supervisor is not running (nobody adopted it), or one
   * that is not running (an exited container left behind). Lost and duplicated compare the
   * running, owned containers with the site's desired count.
   */
  async counts (): Promise<Counts> {
    const runningByHost: Record<string, number> = {}
    const orphanDetails: string[] = []
    const stuckInEngine: string[] = []
    let running = 0
    for (const [s, list] of await this.containersByHost()) {
      runningByHost[s.hostId] = 0
      for (const c of list) {
        if (c.host === s.hostId && ENGINE_STUCK_STATES.has(c.state)) { stuckInEngine.push(`${c.id} in the engine of ${s.hostId}: ${c.state}`); continue }
        const why = c.host !== s.hostId
          ? `labelled for ${c.host}`
          : !s.running ? 'its supervisor is not running' : c.state !== 'running' ? `left ${c.state}` : c.service !== SERVICE ? `unknown service ${c.service}` : undefined
        if (why !== undefined) { orphanDetails.push(`${c.id} in the engine of ${s.hostId}: ${why}`); continue }
        runningByHost[s.hostId]!++
        running++
      }
    }
    const desired = this.opts.replicas
    return {
      runningByHost,
      running,
      lost: Math.max(0, desired - running),
      duplicates: Math.max(0, running - desired),
      orphans: orphanDetails.length,
      orphanDetails,
      stuckInEngine,
    }
  }

  /**
   * The site is steady when every supervisor runs, all agree on one leader and term, the leader's
   * plan (of that term) gives the desired replicas, every engine runs exactly its host's share
   * of that plan, and nothing else is left in any engine (but what the engine itself failed to
   * remove, counted apart). Returns a reason when it is not.
   */
  async steady (): Promise<{ ok: true, term: number, leader: string } | { ok: false, why: string }> {
    if (this.sups.some(s => !s.running)) return { ok: false, why: 'a supervisor is not running' }
    if (this.world.engines.some(e => !e.running)) return { ok: false, why: 'an engine is not running' }
    const agreed = await this.agreement()
    if (agreed === undefined) return { ok: false, why: 'no leader agreed by all' }
    const plan = await agreed.leader.get<{ plan: { term: number, services: string[], hosts: Array<{ hostId: string, replicas: number[] }>, decisions: Array<{ service: string, desired: number }> } | null }>('/v1/plan').catch(() => undefined)
    const p = plan?.plan
    if (p == null || p.term !== agreed.term) return { ok: false, why: 'the leader has no plan of its term yet' }
    const k = p.services.indexOf(SERVICE)
    const desired = p.decisions.find(d => d.service === SERVICE)?.desired
    if (k < 0 || desired !== this.opts.replicas) return { ok: false, why: `the plan wants ${desired ?? 'nothing'} of ${SERVICE}, not ${this.opts.replicas}` }
    const share = new Map(p.hosts.map(h => [h.hostId, h.replicas[k] ?? 0]))
    const planned = [...share.values()].reduce((a, b) => a + b, 0)
    if (planned !== desired) return { ok: false, why: `the plan places ${planned} of ${desired}` }
    const counts = await this.counts()
    if (counts.orphans > 0) return { ok: false, why: `orphans: ${counts.orphanDetails.join('; ')}` }
    for (const s of this.sups) {
      if ((counts.runningByHost[s.hostId] ?? 0) !== (share.get(s.hostId) ?? 0)) {
        return { ok: false, why: `${s.hostId} runs ${counts.runningByHost[s.hostId] ?? 0}, its share is ${share.get(s.hostId) ?? 0}` }
      }
    }
    return { ok: true, term: agreed.term, leader: agreed.leader.hostId }
  }

  /**
   * Polls until the site is steady for STEADY_POLLS polls in a row, or the bound passes.
   * Returns when it first became steady (of the final run of steady polls), or the last reason.
   */
  async waitSteady (timeoutMs: number): Promise<{ steady: true, atMs: number, term: number, leader: string } | { steady: false, why: string }> {
    const deadline = Date.now() + timeoutMs
    let since: number | undefined
    let inRow = 0
    let why = 'never polled'
    while (Date.now() <= deadline) {
      const polledAt = Date.now()
      const st = await this.steady().catch((err: Error) => ({ ok: false as const, why: `poll failed: ${err.message}` }))
      if (st.ok) {
        since ??= polledAt
        if (++inRow >= STEADY_POLLS) return { steady: true, atMs: since, term: st.term, leader: st.leader }
      } else {
        since = undefined
        inRow = 0
        why = st.why
      }
      await new Promise(resolve => setTimeout(resolve, STATUS_POLL_MS))
    }
    return { steady: false, why }
  }

  // ---- faults on one host ----

  /** Moves host N's wall clock (libfaketime offset, e.g. `+3600` or `-3600` seconds; `+0` undoes it). */
  setClockOffset (s: Supervisor, offset: string): void {
    const f = this.clockFiles[this.sups.indexOf(s)]
    if (f === undefined) throw new FaultEnvError('E_FAULT_SETUP', `libfaketime is not installed (${LIBFAKETIME}): no clock to move`)
    writeFileSync(f, `${offset}\n`)
  }
}
