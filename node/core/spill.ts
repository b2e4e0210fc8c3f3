/**
 * Cross-site overflow (pure). A site leader whose service needs more replicas than its site can
 * run (the rate policy asks above maxReplicas, or placement leaves replicas unplaced for want of
 * slots) asks one other site to run the rest: replicas that drain the asking site's queue.
 *
 * - The asking leader picks the site from the site summaries gossiped on the global topic: a
 *   site whose summary is recent, that runs the service itself (configured there) with nothing
 *   unplaced, and has the most free slots (ties: the lowest name). It publishes a spillRequest
 *   naming that site (`toSite`) on the global topic, again every spillIntervalMs while the need
 *   lasts, with the replicas still needed.
 * - The asked site's leader runs up to that many, in slots its own services leave free (its own
 *   services always come first), as a service named `service@origin` in its plan, for
 *   spillLeaseMs after the last request; then they stop. It answers with a spillOffer saying
 *   how many it took.
 * - An `service@origin` replica runs the service's own agent, told the origin site (the daemon
 *   sets AGENTMESH_SPILL_FROM_SITE), so it drains that site's queue.
 *
 * Nothing here is trusted beyond the usual bounds: an asked site takes no more than its free
 * slots and the service's maxReplicas, and only for services it is configured for.
 */
import type { SiteSummary } from '../../protocol/index.js'

/** Between a service and the site whose overflow it runs, in an overflow service's name. */
export const OVERFLOW_SEPARATOR = '@'

export function overflowName (service: string, origin: string): string {
  return `${service}${OVERFLOW_SEPARATOR}${origin}`
}

/** `service@origin` → its parts; undefined for an ordinary service name. */
export function parseOverflowName (name: string): { service: string, origin: string } | undefined {
  const i = name.indexOf(OVERFLOW_SEPARATOR)
  if (i <= 0 || i === name.length - 1) return undefined
  return { service: name.slice(0, i), origin: name.slice(i + 1) }
}

export interface KnownSite {
  summary: SiteSummary
  receivedAtMs: number
}

/**
 * The site to ask for `service`'s overflow: recent summary (within `maxAgeMs`), the service
 * configured there with nothing unplaced, free slots; the most free slots, then the lowest name.
 */
export function chooseSpillSite (sites: ReadonlyMap<string, KnownSite>, ownSite: string, service: string, nowMs: number, maxAgeMs: number): string | undefined {
  let best: { site: string, free: number } | undefined
  for (const [site, known] of sites) {
    if (site === ownSite || nowMs - known.receivedAtMs > maxAgeMs) continue
    const s = known.summary.services.find(x => x.service === service)
    if (s === undefined || s.unplaced > 0 || known.summary.slotsFree <= 0) continue
    const free = known.summary.slotsFree
    if (best === undefined || free > best.free || (free === best.free && site < best.site)) best = { site, free }
  }
  return best?.site
}

interface Hosted { origin: string, service: string, replicas: number, untilMs: number }

/** The overflow this site runs for others, each until its lease runs out. */
export class SpillHosting {
  private readonly entries = new Map<string, Hosted>()

  /** A request from `origin`: keep `replicas` of `service` for it until `untilMs` (a later request replaces it). */
  accept (origin: string, service: string, replicas: number, untilMs: number): void {
    const name = overflowName(service, origin)
    if (replicas <= 0) { this.entries.delete(name); return }
    this.entries.set(name, { origin, service, replicas, untilMs })
  }

  /** What runs now, by overflow service name (sorted); expired leases are dropped. */
  active (nowMs: number): Array<Hosted & { name: string }> {
    const out: Array<Hosted & { name: string }> = []
    for (const [name, e] of this.entries) {
      if (nowMs >= e.untilMs) { this.entries.delete(name); continue }
      out.push({ name, ...e })
    }
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }
}
