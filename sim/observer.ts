/**
 * The global observer: it sees every host's outputs and the simulated world at once, and
 * checks the invariants no host can check alone. The first violation stops the run; the
 * summary names it, the simulated time and how to replay it.
 *
 * Invariants:
 * - single-leader-per-term: at most one host is elected leader of a site in one term.
 * - host-capacity: the containers that exist on a host never take more slots than it has.
 * - stale-plan-executed: a host only starts containers for a plan of its current term, and
 *   only for a term that had an elected leader.
 * - replicas-within-bounds: a published plan's desired count per service lies within
 *   [minReplicas, maxReplicas] unless the service is failing static, and it never assigns
 *   more replicas than it desires.
 * - container-replaced: a reachable host with a working runtime runs what its plan (or, for
 *   the baselines, the controller's last order) wants within replaceWithin plus twice the
 *   99th-percentile start latency: a lost container is replaced.
 * - core-no-throw: the core never throws.
 * - message-encodable: every message the core publishes encodes within the protocol limits.
 * - codec-round-trip: a sample of published messages (gossip.codecSampleEvery) decodes to the
 *   message that was encoded, and encodes again to the same bytes (simulation.ts).
 */
import type { Plan } from '../protocol/index.js'
import type { ServiceSpec } from '../node/core/service-spec.js'

export type InvariantName =
  | 'single-leader-per-term' | 'host-capacity' | 'stale-plan-executed' | 'replicas-within-bounds'
  | 'container-replaced' | 'core-no-throw' | 'message-encodable' | 'codec-round-trip'

export const INVARIANTS: readonly InvariantName[] = [
  'single-leader-per-term', 'host-capacity', 'stale-plan-executed', 'replicas-within-bounds',
  'container-replaced', 'core-no-throw', 'message-encodable', 'codec-round-trip',
]

export interface Violation {
  invariant: InvariantName
  atMs: number
  site: string
  host: string
  detail: string
}

export class Observer {
  violation: Violation | undefined
  /** "site/term" → leader host id. */
  private readonly leaderOf = new Map<string, string>()
  elections = 0

  fail (v: Violation): void {
    if (this.violation === undefined) this.violation = v
  }

  leaderElected (site: string, term: number, hostId: string, atMs: number): void {
    this.elections++
    const key = `${site}/${term}`
    const prior = this.leaderOf.get(key)
    if (prior !== undefined && prior !== hostId) {
      this.fail({ invariant: 'single-leader-per-term', atMs, site, host: hostId, detail: `${prior} and ${hostId} were both elected leader in term ${term}` })
    }
    this.leaderOf.set(key, hostId)
  }

  hadLeader (site: string, term: number): boolean {
    return this.leaderOf.has(`${site}/${term}`)
  }

  startExecuted (site: string, hostId: string, actionTerm: number, hostTerm: number, atMs: number): void {
    if (actionTerm !== hostTerm) {
      this.fail({ invariant: 'stale-plan-executed', atMs, site, host: hostId, detail: `started a container for a plan of term ${actionTerm} while in term ${hostTerm}` })
    } else if (!this.hadLeader(site, actionTerm)) {
      this.fail({ invariant: 'stale-plan-executed', atMs, site, host: hostId, detail: `started a container for term ${actionTerm}, in which no leader was elected` })
    }
  }

  capacity (site: string, hostId: string, usedSlots: number, slots: number, atMs: number): void {
    if (usedSlots > slots) this.fail({ invariant: 'host-capacity', atMs, site, host: hostId, detail: `containers take ${usedSlots} slots of ${slots}` })
  }

  planPublished (site: string, hostId: string, plan: Plan, specs: ReadonlyMap<string, ServiceSpec>, atMs: number): void {
    const assigned = new Map<string, number>()
    for (const h of plan.hosts) plan.services.forEach((s, i) => assigned.set(s, (assigned.get(s) ?? 0) + h.replicas[i]))
    for (const d of plan.decisions) {
      const spec = specs.get(d.service)
      if (spec === undefined) continue
      if (!d.failingStatic && (d.desired < spec.minReplicas || d.desired > spec.maxReplicas)) {
        this.fail({ invariant: 'replicas-within-bounds', atMs, site, host: hostId, detail: `plan v${plan.version} of term ${plan.term} wants ${d.desired} of ${d.service}, bounds [${spec.minReplicas}, ${spec.maxReplicas}]` })
      }
      if ((assigned.get(d.service) ?? 0) > d.desired) {
        this.fail({ invariant: 'replicas-within-bounds', atMs, site, host: hostId, detail: `plan v${plan.version} assigns ${assigned.get(d.service)} of ${d.service} but desires ${d.desired}` })
      }
    }
  }
}
