/**
 * The one view of the site that the core owns and everything else reads: the leader's site
 * summary, the daemon's /v1/sites and /v1/status, its gauges. Counting lives here once:
 *
 * - replicas *held* by a host are its owned containers that have not exited (starting ones
 *   included: they take their slots), as its heartbeat reports them;
 * - of this host's own, `running` and `starting` are told apart (status and gauges), and over
 *   the site the replicas *ready* (running, not starting: what drains the backlog now);
 * - slots used are replicas held × the service's slotsPerReplica (1 for a service this host
 *   has no spec for), over every member not known dead and every host that said goodbye
 *   less than deadAfterMs ago (its containers run on: Membership.left);
 * - slots offered are this host's and every alive member's.
 */
import type { Capacity } from '../../protocol/index.js'
import type { Membership, Peer } from './membership.js'
import { isOwnedBy, OWNER_LABELS, type ObservedContainer } from './reconcile.js'
import type { ServiceSpec } from './service-spec.js'
import { parseOverflowName } from './spill.js'

export interface OwnReplicas {
  /** Running now. */
  running: number
  /** Started but not seen running yet (created, restarting, paused …). */
  starting: number
}

export interface SiteView {
  site: string
  term: number
  /** '' while no leader is known. */
  leaderId: string
  /** Alive members and this host. */
  hostsAlive: number
  /** Members not yet reaped and this host. */
  hostsKnown: number
  slotsTotal: number
  slotsUsed: number
  slotsFree: number
  /** Replicas held per service over the site (members not known dead, this host included). */
  held: ReadonlyMap<string, number>
  /** Of those, the replicas running (ready to work) rather than starting. */
  ready: ReadonlyMap<string, number>
  /** This host's own replicas per service. */
  here: ReadonlyMap<string, OwnReplicas>
}

/** This host's owned replicas per service, running and starting apart; exited ones are not held. */
export function ownReplicas (observed: readonly ObservedContainer[], hostId: string, site: string): Map<string, OwnReplicas> {
  const out = new Map<string, OwnReplicas>()
  for (const c of observed) {
    if (c.state === 'exited' || !isOwnedBy(c, hostId, site)) continue
    const service = c.labels[OWNER_LABELS.service]
    const r = out.get(service) ?? { running: 0, starting: 0 }
    if (c.state === 'running') r.running++
    else r.starting++
    out.set(service, r)
  }
  return out
}

/**
 * Replicas held per service over the site: this host's, every member's not known dead, and
 * those of hosts that said goodbye less than deadAfterMs ago (their containers still run:
 * Membership.left).
 */
export function siteHeld (ownHeld: ReadonlyMap<string, number>, members: Membership): Map<string, number> {
  const held = new Map<string, number>(ownHeld)
  const add = (running: Peer['running']): void => { for (const r of running) held.set(r.service, (held.get(r.service) ?? 0) + r.replicas) }
  for (const peer of members.values()) if (peer.state !== 'dead') add(peer.running)
  for (const peer of members.holding()) add(peer.running)
  return held
}

/**
 * Replicas running (not starting) per service over the same hosts as siteHeld. A peer that
 * leaves out `ready` (all of its replicas are, or it is older) counts every replica as ready.
 */
export function siteReady (own: ReadonlyMap<string, OwnReplicas>, members: Membership): Map<string, number> {
  const ready = new Map<string, number>()
  for (const [service, r] of own) ready.set(service, r.running)
  const add = (running: Peer['running']): void => { for (const r of running) ready.set(r.service, (ready.get(r.service) ?? 0) + (r.ready ?? r.replicas)) }
  for (const peer of members.values()) if (peer.state !== 'dead') add(peer.running)
  for (const peer of members.holding()) add(peer.running)
  return ready
}

/** Slots offered: this host's and every alive member's. */
export function siteSlots (own: Capacity, members: Membership): number {
  let slots = own.slots
  for (const peer of members.values()) if (peer.state === 'alive') slots += peer.capacity.slots
  return slots
}

/** Slots the held replicas take, by the specs this host knows (1 a replica otherwise). */
export function slotsUsed (held: ReadonlyMap<string, number>, specs: readonly ServiceSpec[]): number {
  let used = 0
  for (const [service, n] of held) {
    // Another site's overflow (`service@origin`, spill.ts) takes the slots of the service it names.
    const name = parseOverflowName(service)?.service ?? service
    used += n * (specs.find(s => s.name === name)?.slotsPerReplica ?? 1)
  }
  return used
}
