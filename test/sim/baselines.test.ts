/**
 * The baselines of sim/central-controller.ts on fixed inputs: a signal that is a step function
 * of time, hosts that are up or not, sites that are reachable or not. Each test names the
 * expected replica trajectory and the times decisions are made, worked out by hand from the
 * documentation each baseline cites (the HPA's sync and behaviour, KEDA's pollingInterval and
 * cooldownPeriod, the leader-election lease). A change that makes a baseline slower, or faster,
 * than its documentation says fails here.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { CentralController, type ControllerPorts } from '../../sim/central-controller.js'
import { LoadModel } from '../../sim/load-model.js'
import { parseScenario } from '../../sim/scenario-parse.js'
import type { BaselineName } from '../../sim/scenario.js'
import type { PlacementHost } from '../../node/core/placement.js'
import { ROOT } from './sim-helpers.js'

const S = 1000

interface Run {
  /** (time in s, desired) every time the count changed. */
  trajectory: [number, number][]
  /** Times (s) at which the controller sent orders to a host of site 0. */
  decisions: number[]
  decisionsSite1: number[]
}

interface Setup {
  policy: BaselineName
  /** The service's fields and the baseline's, as YAML flow mappings. */
  service?: string
  baseline?: string
  sites?: number
  /** The backlog each site's signal shows at time t (ms). */
  signal: (tMs: number, site: number) => number | undefined
  /** Host indices (0, 1, 2 are site 0's) that are down from a time, as [fromMs, host]. */
  down?: [number, number][]
  /** Site 0's hosts cannot reach site 1 during [fromMs, toMs). */
  cut?: [number, number]
  phaseMs?: (periodMs: number) => number
  untilMs: number
}

function run (setup: Setup): Run {
  const sites = setup.sites ?? 1
  const yaml = `name: t
sites: [${Array.from({ length: sites }, (_, i) => `{ name: s${i}, kind: on-prem, hosts: 3 }`).join(', ')}]
services: [ { name: svc, targetPerReplica: 100, drainPerReplica: 50, sla: 1000, ${setup.service ?? 'minReplicas: 1, maxReplicas: 20'} } ]
signals: { delay: 0s }
baseline: { controllerSite: s0${setup.baseline !== undefined ? `, ${setup.baseline}` : ''} }
`
  const scenario = parseScenario(yaml, { file: 't.yaml', baseDir: ROOT })
  const load = new LoadModel(scenario)
  const siteHosts = scenario.sites.map((_, s) => [3 * s, 3 * s + 1, 3 * s + 2])
  const siteOf = (h: number): number => Math.floor(h / 3)
  let now = 0
  const isUp = (h: number): boolean => !(setup.down ?? []).some(([from, host]) => host === h && now >= from)
  const reach = (from: number, site: number): boolean => {
    const cut = setup.cut
    if (cut === undefined || now < cut[0] || now >= cut[1]) return true
    return siteOf(from) === site
  }
  const decisions = new Set<number>()
  const decisionsSite1 = new Set<number>()
  const ports: ControllerPorts = {
    hostUp: isUp,
    reachable: reach,
    readSignal: (from, pair, extraDelayMs) => reach(from, load.pairs[pair].site) ? setup.signal(now - extraDelayMs, load.pairs[pair].site) : undefined,
    reporterSamples: (from, site) => {
      // One reporter per site, its last host (not a controller's), reading the whole backlog.
      const value = reach(from, site) && isUp(siteHosts[site][2]) ? setup.signal(now, site) : undefined
      return [{ host: siteHosts[site][2], signals: value === undefined ? undefined : [{ service: 'svc', value, ageMs: 0, upstream: false }] }]
    },
    // No rate samples here: central's rate policy never learns a drain rate and decides by the
    // HPA rule throughout, so these trajectories pin the shared rule and the control plane.
    ready: () => 0,
    placementHosts: (_from, site) => siteHosts[site].filter(isUp).map((h): PlacementHost => ({ hostId: `h${h}`, labels: new Map(), slots: 100, state: 'alive' })),
    send: (_from, host) => { (siteOf(host) === 0 ? decisions : decisionsSite1).add(now / S) },
    hostIndex: id => Number(id.slice(1)),
    phaseMs: setup.phaseMs ?? (() => 0),
  }
  const c = new CentralController(setup.policy, scenario, load, scenario.sites.map(() => [scenario.services[0].spec]), ports, siteHosts)
  const downAt = new Set((setup.down ?? []).map(([t]) => t))
  const trajectory: [number, number][] = [[0, c.desired(0)]]
  for (;;) {
    const next = Math.min(c.nextDueMs(), ...[...downAt].filter(t => t > now))
    if (next > setup.untilMs) break
    now = next
    if (downAt.has(now)) c.hostChanged(now)
    c.runDue(now)
    const d = c.desired(0)
    if (d !== trajectory[trajectory.length - 1][1]) trajectory.push([now / S, d])
  }
  return { trajectory, decisions: [...decisions], decisionsSite1: [...decisionsSite1] }
}

/** A step: `low` before `atMs`, `high` from it (until `untilMs`, then `low` again). */
function step (atMs: number, high: number, untilMs = Infinity, low = 0): (tMs: number) => number {
  return t => t >= atMs && t < untilMs ? high : low
}

describe('the hpa baseline', () => {
  it('scales on the last 30 s scrape at each 15 s sync, at most max(2×, +4) per 15 s; a value exactly 300 s old has left the window', () => {
    // Load of 1000 (target 100: 10 replicas) from 20 s to 100 s. Scrapes at 0, 30, 60 …, syncs
    // at 0, 15, 30 …: the sync at 15 still sees the scrape of 0. At 30: 10 wanted, max(2, 1+4) = 5
    // allowed. At 45 the change of 30 is exactly 15 s old, out of the period: up to 10. The last
    // recommendation of 10 is made at 105 (on the scrape of 90); the scrape of 120 reads 0; the
    // 300 s window has let go of 105 at 405.
    const r = run({ policy: 'hpa', signal: step(20 * S, 1000, 100 * S), untilMs: 600 * S })
    assert.deepEqual(r.trajectory, [[0, 1], [30, 5], [45, 10], [405, 1]])
    assert.deepEqual(r.decisions.slice(0, 5), [0, 15, 30, 45, 60], 'one decision per 15 s sync')
  })

  it('takes the legacy path when created without behavior: max(2 × current, 4) per sync, the downscale window inclusive', () => {
    const r = run({ policy: 'hpa', baseline: 'hpaBehavior: legacy', signal: step(20 * S, 1000, 100 * S), untilMs: 600 * S })
    // From 1: max(2, 4) = 4; from 4: 8; from 8: 10 (wanted). Down at 420: legacy counts the
    // recommendation of 105 at exactly 300 s (not Before(cutoff)), the behavior path does not.
    assert.deepEqual(r.trajectory, [[0, 1], [30, 4], [45, 8], [60, 10], [420, 1]])
  })

  it('adds hpaMetricDelay to the scraped value and honours a slower scrape', () => {
    // Scrapes every 60 s, each showing the backlog of 20 s before: the scrape at 60 reads t = 40.
    const r = run({ policy: 'hpa', baseline: 'hpaScrape: 60s, hpaMetricDelay: 20s', signal: step(30 * S, 1000), untilMs: 100 * S })
    assert.deepEqual(r.trajectory, [[0, 1], [60, 5], [75, 10]])
  })

  it('changes nothing while the metric cannot be scraped (the series goes stale)', () => {
    const r = run({ policy: 'hpa', signal: t => t < 40 * S ? 1000 : undefined, untilMs: 400 * S })
    assert.deepEqual(r.trajectory, [[0, 1], [0, 5], [15, 10]])
  })
})

describe('the keda baseline', () => {
  it('activates 0→1 at a 30 s poll, scales 1..N at the 15 s HPA sync on a live value, back to 0 a cooldown after the last active poll', () => {
    // Polls at 0, 30, 60 …; HPA syncs at 5, 20, 35 … Load 1000 from 40 s to 200 s. Poll 60
    // activates (1); sync 65 reads the live 1000: 5, sync 80: 10. The last active poll is 180;
    // at 480 it has been inactive for the 300 s cooldown: 0 (the HPA's own window would have
    // held 10 until 485: KEDA's scale to zero does not wait for it).
    const r = run({
      policy: 'keda', service: 'minReplicas: 0, maxReplicas: 20, activationThreshold: 5', signal: step(40 * S, 1000, 200 * S),
      phaseMs: p => p === 15 * S ? 5 * S : 0, untilMs: 700 * S,
    })
    assert.deepEqual(r.trajectory, [[0, 0], [60, 1], [65, 5], [80, 10], [480, 0]])
    assert.ok(r.decisions.includes(65) && r.decisions.includes(60), 'the HPA decides at its sync, KEDA at its poll')
  })

  it('does not activate at or below the activation threshold, and never scales to zero on an unreadable metric', () => {
    const quiet = run({ policy: 'keda', service: 'minReplicas: 0, maxReplicas: 20, activationThreshold: 5', signal: () => 5, untilMs: 300 * S })
    assert.deepEqual(quiet.trajectory, [[0, 0]], 'activation is strictly above the threshold')
    const dark = run({
      policy: 'keda', service: 'minReplicas: 0, maxReplicas: 20, activationThreshold: 5', signal: t => t < 20 * S ? 1000 : undefined, untilMs: 900 * S,
    })
    // Poll and sync both at 0: activated to 1, then the HPA takes it to 5 in the same instant.
    assert.deepEqual(dark.trajectory, [[0, 0], [0, 5], [15, 10]], 'a scaler error holds the count')
  })

  it('with minReplicas ≥ 1 is the HPA alone, on a live value', () => {
    const r = run({ policy: 'keda', signal: step(20 * S, 1000), untilMs: 100 * S })
    // No Prometheus in between: the sync at 30 sees the load of 20 s at once.
    assert.deepEqual(r.trajectory, [[0, 1], [30, 5], [45, 10]])
  })
})

describe('the central baseline', () => {
  it('runs agentmesh\'s rule every plan interval (1 s on a LAN site) on the signal read every second', () => {
    // From 0 at 10 s: +4 pods (0 % of 0 is 0), at 25 s the period has rolled: 8, at 40 s: 10.
    const r = run({ policy: 'central', service: 'minReplicas: 0, maxReplicas: 10', signal: step(10 * S, 1000), untilMs: 60 * S })
    assert.deepEqual(r.trajectory, [[0, 0], [10, 4], [25, 8], [40, 10]])
    assert.deepEqual(r.decisions.slice(0, 4), [0, 1, 2, 3], 'a decision every second')
  })

  it('stops deciding when the controller\'s host is lost and a standby takes over when the 15 s lease has expired', () => {
    const r = run({ policy: 'central', service: 'minReplicas: 0, maxReplicas: 10', signal: step(10 * S, 1000, 70 * S), down: [[50 * S, 0]], untilMs: 400 * S })
    assert.ok(r.decisions.includes(49) && !r.decisions.some(t => t >= 50 && t < 65) && r.decisions.includes(65), `decisions around the failover: ${r.decisions.filter(t => t > 45 && t < 70)}`)
    // The new leader starts from the count in force, held for a full window: the last
    // recommendation of 10 is at 69 s, so it comes down at 369 s.
    assert.deepEqual(r.trajectory, [[0, 0], [10, 4], [25, 8], [40, 10], [369, 0]])
  })

  it('fails static when it cannot read the reporters, as agentmesh\'s leader does: never scales down on silence', () => {
    // Load 1000 until the reporter (host 2) dies at 100 s, 0 after: nobody can tell.
    const r = run({ policy: 'central', service: 'minReplicas: 0, maxReplicas: 10', signal: step(0, 1000, 100 * S), down: [[100 * S, 2]], untilMs: 900 * S })
    assert.deepEqual(r.trajectory, [[0, 0], [0, 4], [15, 8], [30, 10]])
  })

  it('with one controller cannot scale a site cut off from it; with one per site it can', () => {
    const signal = (t: number, site: number): number => site === 1 && t >= 30 * S ? 1000 : 0
    const single = run({ policy: 'central', sites: 2, signal, cut: [20 * S, 60 * S], untilMs: 80 * S })
    assert.ok(!single.decisionsSite1.some(t => t >= 20 && t < 60), 'no orders reach the cut-off site')
    assert.ok(single.decisionsSite1.includes(60))
    const perSite = run({ policy: 'central', sites: 2, baseline: 'controllerPerSite: true', signal, cut: [20 * S, 60 * S], untilMs: 80 * S })
    assert.ok(perSite.decisionsSite1.includes(30), 'its own controller scales it')
  })
})

describe('every baseline fails over', () => {
  for (const policy of ['hpa', 'keda', 'central'] as const) {
    it(`${policy}: no decision while no controller leads; the standby decides from the lease's expiry`, () => {
      const r = run({ policy, signal: step(10 * S, 500), down: [[100 * S, 0]], untilMs: 200 * S })
      assert.ok(!r.decisions.some(t => t >= 100 && t < 115), `${r.decisions.filter(t => t >= 90 && t < 130)}`)
      assert.ok(r.decisions.includes(115), 'the new leader\'s loops start at once')
    })
  }
})
