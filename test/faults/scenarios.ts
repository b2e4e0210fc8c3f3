/**
 * The fault scenarios, each a function over a steady FaultSite: inject one real fault, hold it
 * until its effect is visible from outside (never for a fixed time, except the clock jump and the
 * CPU starvation, which have no effect to wait for: their holds are named and argued below), heal,
 * and report. The runner then waits (bounded, polling)
 * until the site is steady again and counts containers from every engine.
 *
 * After every scenario: no term claimed by two hosts (throughout, not only at the end), and no
 * container lost, duplicated or orphaned once the site is steady. Recovery is measured from the
 * heal to the first of the steady polls.
 *
 * Default timings (`lan`): leader timeout 1 s, lease 2 s, a silent host is dead after 5 s.
 */
import { DEFAULT_TIMINGS } from '../../node/core/config.js'
import { waitFor, type Supervisor } from '../daemon/harness.js'
import { CpuStarver, cpuStarveUnavailable } from './cpu-starve.js'
import { SERVICE, type Counts, type FaultSite } from './fault-site.js'

/** A fault's effect (a new leader, replicas moved) shows within this, on a loaded 2-core machine. */
export const HOLD_TIMEOUT_MS = 45_000
/** After a heal the site is steady again within this, or the scenario fails with the reason. */
export const RECOVERY_TIMEOUT_MS = 60_000
/** Polling interval of the holds. */
const HOLD_POLL_MS = 200
/**
 * How long a moved wall clock is left moved. Nothing in the daemon should notice at all (its
 * clock is monotonic), so there is no effect to wait for; the hold is long enough for every
 * timing the core has to run out once — the leader's lease, a peer's death — had the jump
 * leaked into them.
 */
export const CLOCK_JUMP_HOLD_MS = DEFAULT_TIMINGS.deadAfterMs + DEFAULT_TIMINGS.leaderLeaseMs
/** The starved leader's share of one core. At 2 % it gets 20 ms of CPU a second: enough for a few heartbeats, not for everything it has to do. */
const CPU_STARVE_PERCENT = 2
/**
 * How long the leader is starved. A starved leader may keep its leadership or lose it; both are
 * correct, so there is no effect to wait for; the hold lets its lease and its peers'
 * dead-after run out once.
 */
export const CPU_STARVE_HOLD_MS = DEFAULT_TIMINGS.deadAfterMs + DEFAULT_TIMINGS.leaderLeaseMs
/** How far the clocks jump: an hour, forward on one host and back on another. */
const CLOCK_JUMP_S = 3600
/** A process's clock counts as moved (or back) when its HTTP Date is within this of the target (Date has 1 s resolution; libfaketime rereads its file each second). */
const CLOCK_SEEN_TOLERANCE_S = 60

export interface ScenarioOutcome {
  /** When the fault was healed (Date.now()); recovery counts from here. */
  healedAtMs: number
  /** Checks particular to the scenario that failed while it ran. */
  problems: string[]
  /** Checks particular to the scenario, once the site is steady again (adoption, for one). */
  verify?: () => Promise<string[]>
}

export interface Scenario {
  name: string
  description: string
  /** What `verify` checks, as a sentence (a separate test in the solo file). */
  verifies?: string
  /**
   * A daemon or core bug this scenario's `verify` is known to find, with its evidence in
   * docs/testing.md; the solo test reports that check as a todo (visible, not failing the run) until it
   * is fixed. Safety (split brain, lost, duplicated, orphaned) is never marked so.
   */
  knownBug?: string
  /** Why the scenario cannot run on this machine (then it is skipped, saying so), or undefined. */
  unavailable?: () => string | undefined
  run: (site: FaultSite, log: (line: string) => void) => Promise<ScenarioOutcome>
}

export interface ScenarioResult {
  name: string
  splitBrain: Array<{ term: number, hosts: string[] }>
  counts: Counts
  /** Heal to steady, ms; undefined when the site did not become steady in time. */
  recoveryMs: number | undefined
  problems: string[]
  /** What `verify` found once steady (empty: as it should be). */
  verifyProblems: string[]
  /** Most owned, running containers seen at once during the scenario (informational). */
  peakRunning: number
  /** True when the site was steady again after the heal (later scenarios need it). */
  steady: boolean
  /** Containers stuck in an engine (see Counts.stuckInEngine) first seen after this scenario. */
  newlyStuck: string[]
}

/**
 * What the solo test reports as a todo when an engine is left with containers it could not
 * remove; docs/testing.md has the evidence.
 */
export const ENGINE_STUCK_KNOWN_BUG = 'known: Docker 20.10 can leave a container created while the engine shuts down "Removal In Progress" for good (its overlay still mounted; moby/moby#45510)'

// ---- helpers ----

async function holdUntil<T> (what: string, fn: () => Promise<T | undefined>): Promise<T> {
  return await waitFor(what, fn, HOLD_TIMEOUT_MS, HOLD_POLL_MS)
}

/**
 * The given hosts agree on a leader among them whose plan is met on them alone: every replica
 * runs on one of them, as the plan places it. This is how a fault's effect is seen: the
 * survivors have taken over.
 */
async function survivorsTookOver (site: FaultSite, survivors: readonly Supervisor[], notTerm?: number): Promise<{ leader: Supervisor, term: number } | undefined> {
  const agreed = await site.agreement(survivors)
  if (agreed === undefined || agreed.term === notTerm) return undefined
  const plan = await agreed.leader.get<{ plan: { term: number, services: string[], hosts: Array<{ hostId: string, replicas: number[] }> } | null }>('/v1/plan').catch(() => undefined)
  const p = plan?.plan
  if (p == null || p.term !== agreed.term) return undefined
  const k = p.services.indexOf(SERVICE)
  const ids = new Set(survivors.map(s => s.hostId))
  let placed = 0
  for (const h of p.hosts) {
    const n = h.replicas[k] ?? 0
    if (n > 0 && !ids.has(h.hostId)) return undefined
    placed += n
  }
  if (placed !== site.opts.replicas) return undefined
  const byHost = await site.containersByHost()
  for (const s of survivors) {
    const running = (byHost.get(s) ?? []).filter(c => c.state === 'running' && c.host === s.hostId).length
    const share = p.hosts.find(h => h.hostId === s.hostId)?.replicas[k] ?? 0
    if (running !== share) return undefined
  }
  return agreed
}

async function currentLeader (site: FaultSite): Promise<{ leader: Supervisor, term: number }> {
  return await site.leader(HOLD_TIMEOUT_MS)
}

/** A follower that runs at least one replica (there is one: replicas outnumber a single host's share). */
async function busyFollower (site: FaultSite, leader: Supervisor): Promise<Supervisor> {
  const byHost = await site.containersByHost()
  const s = site.sups.find(x => x !== leader && (byHost.get(x) ?? []).some(c => c.state === 'running'))
  if (s === undefined) throw new Error('no follower runs a replica')
  return s
}

// ---- the scenarios ----

/**
 * A follower with replicas is stopped with `signal` and started again at once: it must adopt
 * its own containers (the same ids keep running, none replaced).
 */
function restartScenario (signal: 'SIGTERM' | 'SIGKILL', name: string, knownBug?: string): Scenario {
  return {
    name,
    description: `a follower with replicas gets ${signal} and starts again at once`,
    verifies: 'it adopts its own containers (the same ones run)',
    ...(knownBug === undefined ? {} : { knownBug }),
    async run (site, log) {
      const { leader } = await currentLeader(site)
      const target = await busyFollower(site, leader)
      const before = (await site.containersByHost()).get(target)!.filter(c => c.state === 'running').map(c => c.id).sort()
      await target.kill(signal)
      log(`  ${target.hostId} stopped (${signal}); it ran ${before.join(', ')}`)
      const healedAtMs = Date.now()
      target.start()
      return {
        healedAtMs,
        problems: [],
        async verify () {
          const after = (await site.containersByHost()).get(target)!.filter(c => c.state === 'running').map(c => c.id).sort()
          return after.join() === before.join() ? [] : [`${target.hostId} did not adopt its containers: before ${before.join(', ')}, after ${after.join(', ') || 'none'}`]
        },
      }
    },
  }
}

export const SCENARIOS: Scenario[] = [
  restartScenario('SIGTERM', 'supervisor-restart'),
  restartScenario('SIGKILL', 'supervisor-crash-restart'),
  {
    name: 'engine-restart',
    description: 'a follower\'s Docker engine stops (its containers with it) and starts again',
    async run (site, log) {
      const { leader } = await currentLeader(site)
      const target = await busyFollower(site, leader)
      const engine = site.engineOf(target)
      const logFrom = engine.logBytes()
      await engine.stop()
      // Evidence, not a check: how often the supervisor tried to start a replacement while its
      // engine was shutting down (each refused start is one line in the engine's log).
      const refused = (engine.logSince(logFrom).match(/POST \/v[0-9.]+\/containers\/[0-9a-f]+\/start returned error/g) ?? []).length
      log(`  engine of ${target.hostId} stopped; ${refused} container starts were refused while it stopped`)
      try {
        await holdUntil(`${target.hostId} reports its runtime down and the leader sees it`, async () => {
          const own = await site.statusOf(target) as unknown as { runtime?: { ok: boolean } } | undefined
          const lead = await site.statusOf(leader) as unknown as { peers?: Array<{ hostId: string, runtimeOk: boolean }> } | undefined
          return own?.runtime?.ok === false && lead?.peers?.some(p => p.hostId === target.hostId && !p.runtimeOk) === true ? true : undefined
        })
      } finally {
        // Also when the hold fails: the scenarios after this one need every engine.
        await engine.start()
      }
      log(`  engine of ${target.hostId} started again`)
      // Timed from the engine answering again (its own start-up, a second or two, is not the site's).
      return { healedAtMs: Date.now(), problems: [] }
    },
  },
  {
    name: 'clock-jump',
    description: `the leader's wall clock jumps ${CLOCK_JUMP_S} s forward and a follower's as far back, for ${CLOCK_JUMP_HOLD_MS} ms: nothing may change`,
    async run (site, log) {
      // The heal's start: recovery is timed from the first moment the fault begins to go away.
      let healedAtMs = 0
      const before = await currentLeader(site)
      const follower = site.sups.find(s => s !== before.leader)!
      site.setClockOffset(before.leader, `+${CLOCK_JUMP_S}`)
      site.setClockOffset(follower, `-${CLOCK_JUMP_S}`)
      const problems: string[] = []
      try {
        // The jump is real once each process's own wall clock shows it: Node's HTTP server
        // stamps every response with its Date.
        await holdUntil('both processes see their moved clocks', async () => {
          const skews = await Promise.all([before.leader, follower].map(async s => await wallSkewS(s)))
          return Math.abs(skews[0]! - CLOCK_JUMP_S) < CLOCK_SEEN_TOLERANCE_S && Math.abs(skews[1]! + CLOCK_JUMP_S) < CLOCK_SEEN_TOLERANCE_S ? true : undefined
        })
        log(`  ${before.leader.hostId} is ${CLOCK_JUMP_S} s ahead, ${follower.hostId} ${CLOCK_JUMP_S} s behind`)
        const deadline = Date.now() + CLOCK_JUMP_HOLD_MS
        while (Date.now() < deadline) {
          const now = await site.agreement()
          if (now !== undefined && (now.leader !== before.leader || now.term !== before.term)) {
            problems.push(`the leader or term changed while clocks were moved: ${before.leader.hostId}/${before.term} → ${now.leader.hostId}/${now.term}`)
            break
          }
          await new Promise(resolve => setTimeout(resolve, HOLD_POLL_MS))
        }
      } finally {
        healedAtMs = Date.now()
        site.setClockOffset(before.leader, '+0')
        site.setClockOffset(follower, '+0')
      }
      await holdUntil('both clocks back', async () => {
        const skews = await Promise.all([before.leader, follower].map(async s => await wallSkewS(s)))
        return skews.every(x => Math.abs(x) < CLOCK_SEEN_TOLERANCE_S) ? true : undefined
      })
      return { healedAtMs, problems }
    },
  },
  {
    name: 'slow-host',
    description: 'the leader is frozen (SIGSTOP) until the others have a new leader and run every replica, then continues (SIGCONT) with its old term and plan',
    async run (site, log) {
      // The heal's start: recovery is timed from the first moment the fault begins to go away.
      let healedAtMs = 0
      const before = await currentLeader(site)
      const pid = before.leader.pid!
      process.kill(pid, 'SIGSTOP')
      log(`  ${before.leader.hostId} (leader, term ${before.term}) stopped`)
      try {
        // Past the leader timeout and past the 5 s after which it is dead: when it wakes, its
        // replicas run elsewhere and its own plan is two terms old.
        const others = site.sups.filter(s => s !== before.leader)
        const after = await holdUntil('the others run every replica under a new leader', async () => await survivorsTookOver(site, others, before.term))
        log(`  ${after.leader.hostId} leads in term ${after.term} and runs the plan`)
      } finally {
        healedAtMs = Date.now()
        process.kill(pid, 'SIGCONT')
      }
      return { healedAtMs, problems: [] }
    },
  },
  {
    name: 'cpu-starved-leader',
    description: `the leader's supervisor gets ${CPU_STARVE_PERCENT} % of one core (a cgroup CPU quota) for ${CPU_STARVE_HOLD_MS} ms, then all it wants`,
    unavailable: cpuStarveUnavailable,
    async run (site, log) {
      // The heal's start: recovery is timed from the first moment the fault begins to go away.
      let healedAtMs = 0
      const before = await currentLeader(site)
      const pid = before.leader.pid!
      const starver = new CpuStarver(site.world.net.run)
      starver.starve(pid, CPU_STARVE_PERCENT)
      log(`  ${before.leader.hostId} (leader, term ${before.term}) starved`)
      let seen = `${before.leader.hostId} kept leading`
      try {
        const deadline = Date.now() + CPU_STARVE_HOLD_MS
        while (Date.now() < deadline) {
          const others = await site.agreement(site.sups.filter(s => s !== before.leader))
          if (others !== undefined && others.term > before.term) seen = `${others.leader.hostId} took over in term ${others.term}`
          await new Promise(resolve => setTimeout(resolve, HOLD_POLL_MS))
        }
      } finally {
        healedAtMs = Date.now()
        starver.release(pid)
      }
      log(`  released; meanwhile ${seen}`)
      return { healedAtMs, problems: [] }
    },
  },
  {
    name: 'minority-partition',
    description: 'a follower\'s link goes down until the rest have moved its replicas, then comes back',
    async run (site, log) {
      // The heal's start: recovery is timed from the first moment the fault begins to go away.
      let healedAtMs = 0
      const { leader, term } = await currentLeader(site)
      const target = await busyFollower(site, leader)
      await site.world.net.isolate(site.indexOf(target))
      log(`  ${target.hostId} cut off (link down)`)
      try {
        const rest = site.sups.filter(s => s !== target)
        const after = await holdUntil('the rest run every replica', async () => await survivorsTookOver(site, rest))
        log(`  the rest run the plan (leader ${after.leader.hostId}, term ${after.term}; was ${term})`)
      } finally {
        healedAtMs = Date.now()
        await site.world.net.heal()
      }
      return { healedAtMs, problems: [] }
    },
  },
  {
    name: 'majority-partition',
    description: 'the leader and one follower are split from the other hosts (2 | 3) until the three have a leader and run every replica, then healed',
    async run (site, log) {
      // The heal's start: recovery is timed from the first moment the fault begins to go away.
      let healedAtMs = 0
      const before = await currentLeader(site)
      const mate = site.sups.find(s => s !== before.leader)!
      const minority = [before.leader, mate]
      const majority = site.sups.filter(s => !minority.includes(s))
      await site.world.net.partition([minority.map(s => site.indexOf(s)), majority.map(s => site.indexOf(s))])
      log(`  split: ${minority.map(s => s.hostId).join(', ')} | ${majority.map(s => s.hostId).join(', ')}`)
      try {
        const after = await holdUntil('the majority elects a leader and runs every replica', async () => await survivorsTookOver(site, majority, before.term))
        log(`  majority leader ${after.leader.hostId} in term ${after.term}`)
      } finally {
        healedAtMs = Date.now()
        await site.world.net.heal()
      }
      return { healedAtMs, problems: [] }
    },
  },
  {
    name: 'leader-sigkill',
    description: 'the leader is killed (SIGKILL) until the others run every replica, then starts again',
    async run (site, log) {
      // The heal's start: recovery is timed from the first moment the fault begins to go away.
      let healedAtMs = 0
      const before = await currentLeader(site)
      await before.leader.kill('SIGKILL')
      log(`  ${before.leader.hostId} (leader, term ${before.term}) killed`)
      const others = site.sups.filter(s => s !== before.leader)
      try {
        const after = await holdUntil('the others run every replica', async () => await survivorsTookOver(site, others, before.term))
        log(`  ${after.leader.hostId} leads in term ${after.term} and runs the plan`)
      } finally {
        healedAtMs = Date.now()
        before.leader.start()
      }
      return { healedAtMs, problems: [] }
    },
  },
]

/** The wall clock of a supervisor's process minus this one's, in seconds (from its HTTP Date). */
async function wallSkewS (s: Supervisor): Promise<number> {
  const res = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(2000) })
  await res.arrayBuffer()
  const date = res.headers.get('date')
  if (date === null) throw new Error(`${s.hostId}: no Date header`)
  return (Date.parse(date) - Date.now()) / 1000
}

/** Runs one scenario on a steady site and checks it. */
export async function runScenario (site: FaultSite, scenario: Scenario, log: (line: string) => void): Promise<ScenarioResult> {
  const pre = await site.waitSteady(RECOVERY_TIMEOUT_MS)
  if (!pre.steady) throw new Error(`the site is not steady before ${scenario.name}: ${pre.why}`)
  log(`${scenario.name}: ${scenario.description}`)
  site.resetPeakRunning()
  const outcome = await scenario.run(site, log)
  const post = await site.waitSteady(RECOVERY_TIMEOUT_MS)
  const counts = await site.counts()
  const problems = [...outcome.problems]
  if (!post.steady) problems.push(`not steady within ${RECOVERY_TIMEOUT_MS} ms of the heal: ${post.why}`)
  const verifyProblems = post.steady && outcome.verify !== undefined ? await outcome.verify() : []
  const result: ScenarioResult = {
    name: scenario.name,
    splitBrain: site.splitBrainTerms(),
    counts,
    recoveryMs: post.steady ? Math.max(0, post.atMs - outcome.healedAtMs) : undefined,
    problems,
    verifyProblems,
    peakRunning: site.peakRunning,
    steady: post.steady,
    newlyStuck: counts.stuckInEngine.filter(x => !site.stuckSeen.has(x)),
  }
  for (const x of result.newlyStuck) site.stuckSeen.add(x)
  const found = [...problems, ...verifyProblems, ...result.newlyStuck.map(x => `stuck in the engine: ${x}`)]
  log(`  → recovery ${result.recoveryMs ?? 'none'} ms; split brain ${result.splitBrain.length}, lost ${counts.lost}, duplicates ${counts.duplicates}, orphans ${counts.orphans}; at most ${result.peakRunning} running at once${found.length > 0 ? `; problems: ${found.join('; ')}` : ''}`)
  return result
}
