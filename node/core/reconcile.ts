/**
 * One host's reconciliation: its part of the plan against the containers it observes, turned
 * into start, stop and remove actions. Level-triggered and idempotent: applying the actions
 * and reconciling again with what then runs yields no action.
 *
 * Ownership: a container is this host's when its labels name this host and site. Anything
 * else, unlabelled or labelled for another host, is never touched. A container labelled as
 * ours from an earlier run of the supervisor is adopted as it is, not restarted.
 */

/** Labels the supervisor puts on every container it owns. */
export const OWNER_LABELS = {
  service: 'agentmesh.service',
  site: 'agentmesh.site',
  host: 'agentmesh.host',
  term: 'agentmesh.term',
} as const

export type ContainerState = 'starting' | 'running' | 'exited'

export interface ObservedContainer {
  id: string
  labels: Readonly<Record<string, string>>
  state: ContainerState
  /** When the runtime created it (any monotonic unit the runtime gives; only compared). */
  createdAt: number
}

export type ContainerAction =
  | { type: 'start', service: string, term: number }
  | { type: 'stop', service: string, containerId: string }
  | { type: 'remove', service: string, containerId: string }

export interface ReconcileInput {
  hostId: string
  site: string
  /** Term of the plan being executed, stamped on new containers. */
  term: number
  /** Replicas wanted on this host, per service. Services absent want none. */
  wanted: ReadonlyMap<string, number>
  observed: readonly ObservedContainer[]
}

export function isOwnedBy (c: ObservedContainer, hostId: string, site: string): boolean {
  return c.labels[OWNER_LABELS.host] === hostId && c.labels[OWNER_LABELS.site] === site &&
    typeof c.labels[OWNER_LABELS.service] === 'string' && c.labels[OWNER_LABELS.service] !== ''
}

export function reconcile (input: ReconcileInput): ContainerAction[] {
  const actions: ContainerAction[] = []
  const live = new Map<string, ObservedContainer[]>()
  const owned = input.observed.filter(c => isOwnedBy(c, input.hostId, input.site))
  for (const c of owned) {
    const service = c.labels[OWNER_LABELS.service]
    if (c.state === 'exited') {
      actions.push({ type: 'remove', service, containerId: c.id })
      continue
    }
    let list = live.get(service)
    if (list === undefined) { list = []; live.set(service, list) }
    list.push(c)
  }
  const services = new Set([...live.keys(), ...input.wanted.keys()])
  for (const service of [...services].sort()) {
    const want = input.wanted.get(service) ?? 0
    const have = live.get(service) ?? []
    if (have.length < want) {
      for (let i = have.length; i < want; i++) actions.push({ type: 'start', service, term: input.term })
    } else if (have.length > want) {
      // Stop the newest first: the oldest have warmed up; ties broken by id for determinism.
      const byAge = [...have].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
      for (const c of byAge.slice(0, have.length - want)) actions.push({ type: 'stop', service, containerId: c.id })
    }
  }
  return actions
}
