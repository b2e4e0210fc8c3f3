/**
 * Benchmark suite `fidelity`: the same 20-host site run for real and in the simulator, and the
 * simulator's figures divided by the real ones (issue 14's fidelity targets: each 0.8–1.25).
 *
 * The site, the same on both sides: 20 hosts (FIDELITY_HOSTS) in one site, the `lan` timing profile, every link
 * FIDELITY_LINK (median and uniform jitter, no loss), one service with no load and minReplicas 0
 * (nothing to run: the messages are the membership's and the plans'). Then the leader is killed
 * FAILOVER_ROUNDS (FIDELITY_ROUNDS, default 6) times, each time restarted and rejoined before the next.
 *
 * - Real: 20 supervisor processes on loopback (the integration tests' harness), each behind a
 *   LatencyRelay (test/daemon/latency-relay.ts, the stand-in for netem, which this kernel lacks)
 *   that delays every byte of every connection to it by the link's latency. Propagation is the
 *   daemons' own `agentmesh_gossip_propagation_seconds` histogram over a quiet window of
 *   QUIET_WINDOW_MS from SETTLE_MS after the start, once every host agrees (sender's
 *   sentAtMs to acceptance, every topic; one machine, one clock), read as Prometheus'
 *   histogram_quantile does. Failover: from the SIGKILL to the new leader's `elected site leader`
 *   log line (its pino `time`), the simulator's own definition (crash to the next election).
 *   Elections: the terms of the `elected site leader` lines between a kill and the survivors'
 *   agreement, per kill.
 * - Sim: the same site as a scenario, on the same hardware: its hosts share this machine's cores
 *   (`gossip.siteCores`, as the 20 processes do; the simulator's default is a core per host).
 *   Propagation over the same kind of quiet window (runs without faults, counted from
 *   SETTLE_MS on: `measureFrom`), counted in the daemon's histogram buckets and read as the
 *   real figure is; failover times from runs whose leader is crashed (supervisor mode) the same
 *   number of times. Each over SIM_SEEDS seeds (each its own connections and leader, as each real
 *   run has): propagation pooled, failover the median over the seeds of each seed's median and
 *   maximum (a maximum over as many kills as the real side's).
 * - CPU per message (`fidelity.cpu_ms_per_msg_real`) and per duplicate copy
 *   (`fidelity.cpu_ms_per_duplicate_real`): each daemon's CPU time (/proc) per second against
 *   the messages it accepted and the duplicate copies it received per second (its
 *   `agentmesh_gossip_received_copies_total` less what it accepted or refused), over the quiet
 *   window and each failover (kill to agreement), fitted by least squares over every host and
 *   window, with an intercept for what an idle host costs. The leader receives every member's
 *   heartbeat (many messages, no duplicates); an election brings every host about 1.5 copies per
 *   message: the two costs come apart. The simulator's `gossip.messageCpuUs`,
 *   `gossip.duplicateCpuUs` and `gossip.idleCpuPct` defaults come from these figures
 *   (sim/defaults.ts says which runs, and why messageCpuUs keeps the quiet window's).
 * - CPU per disconnect (`fidelity.cpu_ms_per_disconnect_real`, the simulator's
 *   `gossip.disconnectCpuUs`): a 3-host site of its own on loopback, a member killed
 *   FIDELITY_DISCONNECT_KILLS times (default 10), each survivor's CPU over the 300 ms after the kill
 *   less an idle 300 ms just before (disconnectCost).
 *
 * Ratios are sim ÷ real. The real side runs 20 processes on this machine's cores and the
 * relays in this process, so its figures include CPU queueing the simulator may not model: that
 * is what the ratio is for.
 */
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { Cluster, metricSum, waitFor, type Supervisor } from '../test/daemon/harness.js'
import type { LinkLatency } from '../test/daemon/latency-relay.js'
import { parseScenario } from '../sim/scenario-parse.js'
import { runScenario } from '../sim/run-scenario.js'
import { runSharded } from '../sim/sharded-run.js'
import type { Scenario } from '../sim/scenario.js'
import { MsHistogram } from '../sim/stats.js'
import { PROPAGATION_BUCKETS_S } from '../node/daemon/metrics.js'
import { packageVersion } from '../cli/package-version.js'
import { quantile } from './mesh-suite.js'
import { median, round, type Figure, type Suite } from './harness.js'

/** Hosts in the site (`FIDELITY_HOSTS` to try another size; the issue's figure is at 20). */
const HOSTS = Number(process.env.FIDELITY_HOSTS ?? 20)
const SITE = 'F'
/** One metro-area site: latency large enough to show next to the CPU cost of a message. */
const FIDELITY_LINK: LinkLatency = { medianMs: 10, jitterMs: 4 }
/** Leader kills on each side (`FIDELITY_ROUNDS`). */
const FAILOVER_ROUNDS = Number(process.env.FIDELITY_ROUNDS ?? 6)
/**
 * Seeds the simulator's side runs (`FIDELITY_SIM_SEEDS`): each lays out its own connections and
 * elects its own leader, as each real run does; one seed's figure moved by 10 % with the layout.
 */
const SIM_SEEDS = Number(process.env.FIDELITY_SIM_SEEDS ?? 5)
/**
 * The quiet window over which propagation is read (from SETTLE_MS, before any kill). A minute:
 * over 20 s (about 1,900 deliveries) one leader digest late to its 19 followers was 1 % of the
 * window and decided the p99 alone (real p99s of 47.5 ms to 1.18 s between runs of the same code).
 */
const QUIET_WINDOW_MS = 60_000
/** The real quiet window is read in slices this long, so that the log says when deliveries were late, and where. */
const QUIET_SLICE_MS = 5000
/** A delivery slower than this is counted as late in the log's slices (a bucket bound of the daemon's histogram). */
const LATE_DELIVERY_S = 0.3
/** Between two kills (real: after every host agrees again; sim: the same spacing). */
const ROUND_SPACING_MS = 20_000
const SERVICE = { name: 'idle', targetPerReplica: 10, minReplicas: 0, maxReplicas: 4 }
/**
 * The quiet window starts this long after the start, on both sides (the site has elected and
 * settled), and on the real side not before every host agrees. Starting the real window at
 * agreement (about 11 s in) counted the start-up's tail: in the window's first 5 s, 103 late
 * deliveries to three hosts (48, 23 and 15 of them) whose meshes were still forming, and a real
 * p99 of 1.77 s; the simulator's window started at 30 s.
 */
const SETTLE_MS = 30_000
/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ). */
const CLOCK_TICKS_PER_S = 100

export const fidelitySuite: Suite = {
  name: 'fidelity',
  description: 'the same 20-host site (FIDELITY_HOSTS) for real (loopback, latency relays) and in the simulator: propagation and failover, sim ÷ real',
  async run (log) {
    if (!(Number.isInteger(HOSTS) && HOSTS >= 3) || !(Number.isInteger(FAILOVER_ROUNDS) && FAILOVER_ROUNDS >= 1) || !(Number.isInteger(SIM_SEEDS) && SIM_SEEDS >= 1) || !(Number.isInteger(DISCONNECT_KILLS) && DISCONNECT_KILLS >= 1)) throw new Error('FIDELITY_HOSTS must be an integer ≥ 3, FIDELITY_ROUNDS, FIDELITY_SIM_SEEDS and FIDELITY_DISCONNECT_KILLS ≥ 1')
    const real = await realSite(log)
    const disconnect = await disconnectCost(log)
    const sim = simSite(log)
    const ratio = (s: number | null, r: number): number => (s === null || !(r > 0) ? NaN : round(s / r, 3))
    const target = '0.8–1.25'
    return [
      { metric: 'fidelity.propagation_p50_ratio', value: ratio(sim.propagationP50Ms, real.propagationP50Ms), unit: `sim ${round(sim.propagationP50Ms ?? NaN, 1)} ms ÷ real ${round(real.propagationP50Ms, 1)} ms`, target },
      { metric: 'fidelity.propagation_p99_ratio', value: ratio(sim.propagationP99Ms, real.propagationP99Ms), unit: `sim ${round(sim.propagationP99Ms ?? NaN, 1)} ms ÷ real ${round(real.propagationP99Ms, 1)} ms`, target },
      { metric: 'fidelity.failover_p50_ratio', value: ratio(sim.failoverP50Ms, real.failoverP50Ms), unit: `sim ${round(sim.failoverP50Ms ?? NaN, 0)} ms ÷ real ${round(real.failoverP50Ms, 0)} ms`, target },
      { metric: 'fidelity.failover_max_ratio', value: ratio(sim.failoverMaxMs, real.failoverMaxMs), unit: `sim ${round(sim.failoverMaxMs ?? NaN, 0)} ms ÷ real ${round(real.failoverMaxMs, 0)} ms`, target },
      { metric: 'fidelity.elections_per_kill_real', value: round(real.electionsPerKill, 2), unit: 'elections', target: '1' },
      { metric: 'fidelity.elections_per_kill_sim', value: round(sim.electionsPerKill, 2), unit: 'elections', target: '1' },
      { metric: 'fidelity.cpu_ms_per_msg_real', value: round(real.cpuMsPerMsg, 3), unit: `ms CPU per accepted message (least squares over hosts and windows; idle ${round(real.idleCpuPct, 2)} % of a core)` },
      { metric: 'fidelity.cpu_ms_per_duplicate_real', value: round(real.cpuMsPerDuplicate, 3), unit: 'ms CPU per duplicate copy received (same fit; the simulator\'s gossip.duplicateCpuUs)' },
      { metric: 'fidelity.cpu_ms_per_disconnect_real', value: round(disconnect.meanMs, 2), unit: `ms CPU per survivor over ${DISCONNECT_WINDOW_MS} ms after a peer's SIGKILL less an idle ${DISCONNECT_WINDOW_MS} ms (standard error ${round(disconnect.standardErrorMs, 2)}, ${disconnect.samples} survivors; the simulator's gossip.disconnectCpuUs)` },
    ]
  },
}

interface SiteFigures {
  cpuMsPerMsg: number
  cpuMsPerDuplicate: number
  idleCpuPct: number
  propagationP50Ms: number
  propagationP99Ms: number
  failoverP50Ms: number
  failoverMaxMs: number
  electionsPerKill: number
}

async function realSite (log: (l: string) => void): Promise<SiteFigures> {
  const hosts = Array.from({ length: HOSTS }, (_, i) => ({ hostId: `f${String(i).padStart(2, '0')}`, site: SITE }))
  const cluster = await Cluster.create({
    hosts,
    latency: FIDELITY_LINK,
    common: { log: { level: 'info' }, runtime: { kind: 'none' }, services: [SERVICE], network: { redialIntervalMs: 500, redialBackoffMaxMs: 5000 } },
  })
  const agreed = async (exclude: string[] = []): Promise<{ leaderId: string, term: number }> => await waitFor('every host to agree and see the others alive', async () => {
    const a = await cluster.siteAgreement(SITE, exclude)
    return a !== undefined && a.statuses.length === HOSTS - exclude.length && a.statuses.every(s => s.peers.filter(p => p.state === 'alive').length >= HOSTS - 1 - exclude.length) ? a : undefined
  }, 180_000, 250)
  try {
    const startedAt = performance.now()
    cluster.startAll()
    await agreed()
    log(`real: ${HOSTS} supervisors agree after ${round((performance.now() - startedAt) / 1000, 1)} s`)
    await new Promise(resolve => setTimeout(resolve, Math.max(0, startedAt + SETTLE_MS - performance.now())))
    const h0 = await Promise.all(cluster.sups.map(histogram))
    const windows: WindowLoad[] = []
    const q0 = await loads(cluster.sups)
    let last = h0
    for (let at = QUIET_SLICE_MS; at <= QUIET_WINDOW_MS; at += QUIET_SLICE_MS) {
      await new Promise(resolve => setTimeout(resolve, QUIET_SLICE_MS))
      const now = await Promise.all(cluster.sups.map(histogram))
      const late = now.map((h, i) => lateCount(h) - lateCount(last[i]))
      if (late.some(n => n > 0)) log(`real: quiet window ${(at - QUIET_SLICE_MS) / 1000}–${at / 1000} s: ${late.reduce((a, b) => a + b, 0)} deliveries over ${LATE_DELIVERY_S * 1000} ms (${late.map((n, i) => n > 0 ? `${cluster.sups[i].hostId} ${n}` : '').filter(Boolean).join(', ')})`)
      last = now
    }
    windows.push(...between(q0, await loads(cluster.sups)))
    const merged = new Map<number, number>()
    last.forEach((h, i) => { for (const [le, n] of h) merged.set(le, (merged.get(le) ?? 0) + n - (h0[i].get(le) ?? 0)) })
    log(`real: ${merged.get(Infinity) ?? 0} deliveries in ${QUIET_WINDOW_MS / 1000} s, ${lateCount(merged)} over ${LATE_DELIVERY_S * 1000} ms`)

    const failovers: number[] = []
    const elections: number[] = []
    for (let round = 0; round < FAILOVER_ROUNDS; round++) {
      const before = await agreed()
      const victim = cluster.byId(before.leaderId)
      const survivors = cluster.sups.filter(s => s !== victim)
      const marks = survivors.map(s => s.lines.length)
      const k0 = await loads(survivors)
      const killedAt = Date.now()
      const electedSince = (): Array<ReturnType<typeof parse>> => survivors.flatMap((s, i) => s.lines.slice(marks[i]).map(parse).filter(l => l?.msg === 'elected site leader' && l.term > before.term))
      await victim.kill('SIGKILL')
      // Until a survivor logs its election, watch the logs this process already reads: asking
      // 19 daemons for their status every 250 ms (agreed()) loaded the very processes, and the
      // relays in this process, whose election is being timed.
      await waitFor('a survivor to log its election', async () => electedSince().length > 0 ? true : undefined, 60_000, 20)
      await agreed([victim.hostId])
      windows.push(...between(k0, await loads(survivors)))
      const elected = electedSince()
      const first = Math.min(...elected.map(l => l!.time))
      failovers.push(first - killedAt)
      elections.push(new Set(elected.map(l => l!.term)).size)
      log(`real: failover ${round + 1}: ${first - killedAt} ms, ${elections[round]} election(s)`)
      victim.start()
      await new Promise(resolve => setTimeout(resolve, ROUND_SPACING_MS / 2))
    }
    // CPU per second against accepted messages and duplicate copies per second, every host in
    // every window (the quiet one and each failover's): what each costs, and the idle rest.
    const [perMsg, perDuplicate, idleMsPerS] = leastSquares(windows.map(w => [w.accepted / w.seconds, w.duplicates / w.seconds, 1]), windows.map(w => w.cpuMs / w.seconds))
    log(`real: CPU per accepted message ${perMsg.toFixed(3)} ms, per duplicate copy ${perDuplicate.toFixed(3)} ms, idle ${(idleMsPerS / 10).toFixed(2)} % of a core (${windows.length} host-windows)`)
    return {
      cpuMsPerMsg: perMsg,
      cpuMsPerDuplicate: perDuplicate,
      idleCpuPct: idleMsPerS / 10,
      propagationP50Ms: quantileOf(merged, 0.5),
      propagationP99Ms: quantileOf(merged, 0.99),
      failoverP50Ms: median(failovers),
      failoverMaxMs: Math.max(...failovers),
      electionsPerKill: elections.reduce((a, b) => a + b, 0) / elections.length,
    }
  } finally {
    await cluster.stopAll()
  }
}

/** Kills of a member in the disconnect measurement (`FIDELITY_DISCONNECT_KILLS`), and the window after each. */
const DISCONNECT_KILLS = Number(process.env.FIDELITY_DISCONNECT_KILLS ?? 10)
const DISCONNECT_WINDOW_MS = 300

/**
 * What a dead peer's connection costs a supervisor: a 3-host site on loopback (no relays: every
 * host connected to every other), a member that does not lead SIGKILLed DISCONNECT_KILLS times.
 * Each survivor's CPU (prom-client's process_cpu_seconds_total, microseconds) over the window
 * after the kill, less its CPU over an idle window just before, both scaled to the window's
 * length: the connection's teardown, gossipsub forgetting the peer, the core's hint, the first
 * re-dial. The simulator charges it before the hint reaches the core (gossip.disconnectCpuUs).
 */
async function disconnectCost (log: (l: string) => void): Promise<{ meanMs: number, standardErrorMs: number, samples: number }> {
  const n = 3
  const site = 'X'
  const cluster = await Cluster.create({
    hosts: Array.from({ length: n }, (_, i) => ({ hostId: `x${i}`, site })),
    common: { log: { level: 'warn' }, runtime: { kind: 'none' }, services: [SERVICE], network: { redialIntervalMs: 500, redialBackoffMaxMs: 5000 } },
  })
  const cpuMs = async (s: Supervisor): Promise<number> => metricSum(await s.metricsText(), 'process_cpu_seconds_total') * 1000
  const window = async (sups: Supervisor[], during: () => Promise<void>): Promise<number[]> => {
    const a = await Promise.all(sups.map(cpuMs))
    const t0 = performance.now()
    await during()
    await new Promise(resolve => setTimeout(resolve, DISCONNECT_WINDOW_MS))
    const b = await Promise.all(sups.map(cpuMs))
    const scale = DISCONNECT_WINDOW_MS / (performance.now() - t0)
    return b.map((x, i) => (x - a[i]) * scale)
  }
  const extra: number[] = []
  try {
    cluster.startAll()
    for (let k = 0; k < DISCONNECT_KILLS; k++) {
      const agreement = await waitFor('the 3 hosts to agree and see each other alive', async () => {
        const a = await cluster.siteAgreement(site)
        return a !== undefined && a.statuses.length === n && a.statuses.every(s => s.peers.filter(p => p.state === 'alive').length === n - 1) ? a : undefined
      }, 60_000, 100)
      await new Promise(resolve => setTimeout(resolve, 1500))
      const victim = cluster.sups.find(s => s.hostId !== agreement.leaderId)!
      const survivors = cluster.sups.filter(s => s !== victim)
      const idle = await window(survivors, async () => {})
      const killed = await window(survivors, async () => { await victim.kill('SIGKILL') })
      killed.forEach((ms, i) => extra.push(ms - idle[i]))
      victim.start()
    }
  } finally {
    await cluster.stopAll()
  }
  const meanMs = extra.reduce((a, b) => a + b, 0) / extra.length
  const sd = Math.sqrt(extra.reduce((a, b) => a + (b - meanMs) ** 2, 0) / Math.max(1, extra.length - 1))
  log(`real: CPU per disconnect ${meanMs.toFixed(2)} ms (median ${median(extra).toFixed(2)} ms, standard error ${(sd / Math.sqrt(extra.length)).toFixed(2)} ms, ${extra.length} survivors)`)
  return { meanMs, standardErrorMs: sd / Math.sqrt(extra.length), samples: extra.length }
}

function quantileOf (h: Map<number, number>, q: number): number {
  return quantile(h, q) * 1000
}

function simSite (log: (l: string) => void): { propagationP50Ms: number | null, propagationP99Ms: number | null, failoverP50Ms: number | null, failoverMaxMs: number | null, electionsPerKill: number } {
  const firstKillS = SETTLE_MS / 1000
  const spacingS = ROUND_SPACING_MS / 1000
  const kills = Array.from({ length: FAILOVER_ROUNDS }, (_, i) => `  - { at: ${firstKillS + i * spacingS}s, kind: crash, host: leader, site: ${SITE}, mode: supervisor, restartAfter: ${spacingS / 2}s }`)
  const seeds = Array.from({ length: SIM_SEEDS }, (_, i) => i + 1)
  // Propagation: every seed's quiet window in one histogram (each seed its own connections and leader).
  const quiet = simScenario(`duration: ${(SETTLE_MS + QUIET_WINDOW_MS) / 1000}s`, `measureFrom: ${SETTLE_MS / 1000}s`, 'faults: []')
  const propagation = new MsHistogram()
  for (const seed of seeds) propagation.merge(runSharded(quiet, { policy: 'agentmesh', seed, durationMs: quiet.durationMs, reportPoints: 0, workers: 1 }).figures.propagation)
  // Read as the real figure is: counted in the daemon's histogram buckets, interpolated within one.
  const bucketed = daemonBuckets(propagation)
  const q = { p50: quantileOf(bucketed, 0.5), p99: quantileOf(bucketed, 0.99) }
  log(`sim: ${propagation.count} deliveries over ${seeds.length} seeds, propagation over the quiet window p50 ${round(q.p50, 1)} ms, p99 ${round(q.p99, 1)} ms in the daemon's buckets (${propagation.percentile(50) ?? '-'} and ${propagation.percentile(99) ?? '-'} ms exact, to the ms)`)
  // Failover: each seed kills the leader as many times as the real side does; its median and its
  // maximum (a maximum of as many kills as the real one's), then the median of those over the seeds.
  const perSeed = seeds.map(seed => {
    const p = runSim(seed, `duration: ${firstKillS + FAILOVER_ROUNDS * spacingS + 10}s`, 'faults:', ...kills).summary.policies[0]
    // The first election (start-up) is not a failover's.
    return { p50: (p.failoverS?.p50 ?? NaN) * 1000, max: (p.failoverS?.max ?? NaN) * 1000, count: p.failoverS?.count ?? 0, electionsPerKill: (p.elections - 1) / FAILOVER_ROUNDS }
  })
  log(`sim: failover per seed (${FAILOVER_ROUNDS} kills each) p50 ${perSeed.map(r => round(r.p50, 0)).join(', ')} ms, max ${perSeed.map(r => round(r.max, 0)).join(', ')} ms; elections per kill ${perSeed.map(r => round(r.electionsPerKill, 2)).join(', ')}`)
  const complete = perSeed.filter(r => r.count === FAILOVER_ROUNDS)
  return {
    propagationP50Ms: propagation.count > 0 ? q.p50 : null,
    propagationP99Ms: propagation.count > 0 ? q.p99 : null,
    failoverP50Ms: complete.length === seeds.length ? median(perSeed.map(r => r.p50)) : null,
    failoverMaxMs: complete.length === seeds.length ? median(perSeed.map(r => r.max)) : null,
    electionsPerKill: perSeed.reduce((a, r) => a + r.electionsPerKill, 0) / perSeed.length,
  }
}

/**
 * A histogram of whole milliseconds as the daemon's propagation histogram would have counted
 * it: cumulative counts at each of its upper bounds (PROPAGATION_BUCKETS_S, s), and +Inf.
 */
export function daemonBuckets (h: MsHistogram): Map<number, number> {
  const { counts, maxMs, overflow } = h.toJSON()
  // Beyond maxMs only a count is kept: it must lie above the last bound.
  if (maxMs < PROPAGATION_BUCKETS_S[PROPAGATION_BUCKETS_S.length - 1] * 1000) throw new Error(`a histogram to ${maxMs} ms cannot be counted in buckets up to ${PROPAGATION_BUCKETS_S[PROPAGATION_BUCKETS_S.length - 1]} s`)
  const out = new Map<number, number>()
  let seen = 0
  let ms = 0
  for (const le of PROPAGATION_BUCKETS_S) {
    for (; ms <= maxMs && ms <= le * 1000 + 1e-9; ms++) seen += counts[ms]
    out.set(le, seen)
  }
  for (; ms <= maxMs; ms++) seen += counts[ms]
  out.set(Infinity, seen + overflow)
  return out
}

/** The fidelity site as a scenario, with `lines` (duration, faults, …) appended; run once under agentmesh. */
function runSim (seed: number, ...lines: string[]): ReturnType<typeof runScenario> {
  const scenario = simScenario(...lines)
  return runScenario({ scenario, policies: ['agentmesh'], seed, durationMs: scenario.durationMs, version: packageVersion(), reportPoints: 10 })
}

/** The fidelity site as a scenario, with `lines` (duration, faults, …) appended. */
function simScenario (...lines: string[]): Scenario {
  const text = [
    'name: fidelity',
    `description: the fidelity benchmark's site (bench/fidelity-suite.ts)`,
    'policies: [agentmesh]',
    // The real site's processes share this machine's cores.
    `gossip: { siteCores: ${availableParallelism()} }`,
    'sites:',
    `  - { name: ${SITE}, kind: on-prem, hosts: ${HOSTS}, slots: 4, profile: lan, latency: { medianMs: ${FIDELITY_LINK.medianMs}, jitterMs: ${FIDELITY_LINK.jitterMs}, loss: 0 } }`,
    'services:',
    `  - { name: ${SERVICE.name}, targetPerReplica: ${SERVICE.targetPerReplica}, minReplicas: ${SERVICE.minReplicas}, maxReplicas: ${SERVICE.maxReplicas}, drainPerReplica: 10, sla: 1000 }`,
    'load:',
    `  - { service: ${SERVICE.name}, shape: constant, rate: 0 }`,
    ...lines,
  ].join('\n')
  return parseScenario(text, { file: 'fidelity.yaml', baseDir: process.cwd() })
}

/** One host over one window: its CPU and what it received. */
interface WindowLoad { seconds: number, cpuMs: number, accepted: number, duplicates: number }

interface LoadSnapshot { atMs: number, cpuMs: number, accepted: number, refused: number, copies: number }

/** Each supervisor's CPU time (/proc) and gossip counters, now. */
async function loads (sups: Supervisor[]): Promise<LoadSnapshot[]> {
  return await Promise.all(sups.map(async s => {
    const atMs = performance.now()
    const cpuMs = cpuTicks(s) / CLOCK_TICKS_PER_S * 1000
    const text = await s.metricsText()
    return { atMs, cpuMs, accepted: metricSum(text, 'agentmesh_gossip_received_messages_total'), refused: metricSum(text, 'agentmesh_gossip_rejected_messages_total'), copies: metricSum(text, 'agentmesh_gossip_received_copies_total') }
  }))
}

/** Per host, what changed between two snapshots of the same hosts; duplicates are the copies neither accepted nor refused. */
function between (a: LoadSnapshot[], b: LoadSnapshot[]): WindowLoad[] {
  return a.map((x, i) => {
    const y = b[i]
    const accepted = y.accepted - x.accepted
    return { seconds: (y.atMs - x.atMs) / 1000, cpuMs: y.cpuMs - x.cpuMs, accepted, duplicates: Math.max(0, (y.copies - x.copies) - accepted - (y.refused - x.refused)) }
  })
}

/** Coefficients c minimising Σ (y − Σ c·x)², by the normal equations (a handful of regressors). */
function leastSquares (x: number[][], y: number[]): number[] {
  const k = x[0].length
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0))
  for (let i = 0; i < x.length; i++) {
    for (let p = 0; p < k; p++) {
      a[p][k] += x[i][p] * y[i]
      for (let q = 0; q < k; q++) a[p][q] += x[i][p] * x[i][q]
    }
  }
  for (let p = 0; p < k; p++) {
    let pivot = p
    for (let r = p + 1; r < k; r++) if (Math.abs(a[r][p]) > Math.abs(a[pivot][p])) pivot = r;
    [a[p], a[pivot]] = [a[pivot], a[p]]
    if (a[p][p] === 0) return new Array<number>(k).fill(NaN)
    for (let r = 0; r < k; r++) {
      if (r === p) continue
      const f = a[r][p] / a[p][p]
      for (let q = p; q <= k; q++) a[r][q] -= f * a[p][q]
    }
  }
  return a.map((row, p) => row[k] / row[p])
}

function cpuTicks (s: Supervisor): number {
  const fields = readFileSync(`/proc/${s.proc!.pid!}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** Deliveries slower than LATE_DELIVERY_S in cumulative bucket counts (it must be one of their bounds). */
function lateCount (h: Map<number, number>): number {
  if (h.size > 0 && !h.has(LATE_DELIVERY_S)) throw new Error(`LATE_DELIVERY_S (${LATE_DELIVERY_S} s) is not a bound of the propagation histogram's buckets`)
  return (h.get(Infinity) ?? 0) - (h.get(LATE_DELIVERY_S) ?? 0)
}

/** Cumulative bucket counts of the propagation histogram over every topic, by upper bound. */
async function histogram (s: { metricsText: () => Promise<string> }): Promise<Map<number, number>> {
  const out = new Map<number, number>()
  for (const line of (await s.metricsText()).split('\n')) {
    const m = /^agentmesh_gossip_propagation_seconds_bucket\{le="([^"]+)",topic="[^"]+"\} (\d+)/.exec(line)
    if (m !== null) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1])
      out.set(le, (out.get(le) ?? 0) + Number(m[2]))
    }
  }
  return out
}

function parse (line: string): { msg: string, term: number, time: number } | undefined {
  try { return JSON.parse(line) } catch { return undefined }
}

