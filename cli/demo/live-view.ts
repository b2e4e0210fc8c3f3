/**
 * The demo's live view: every second each supervisor's HTTP API is asked for its status (role,
 * leader, term, the replicas running on it) and each site leader for its plan (desired replicas),
 * joined with the load generator's numbers into one row per site. Rendering is pure.
 */
import { table } from '../commands/status.js'
import type { SiteLoad } from './load-generator.js'
import type { MeshSupervisor } from './local-mesh.js'

/** Bound on one request to a supervisor, ms: shorter than the view's period. */
const REQUEST_TIMEOUT_MS = 800

export interface SiteRow {
  site: string
  /** The leader every answering member names, or null while none is agreed. */
  leader: string | null
  term: number
  hostsUp: number
  hostsTotal: number
  phase: SiteLoad['phase']
  ratePerS: number
  processedPerS: number
  backlog: number
  /** The leader's desired replicas of the service; null when no leader answered. */
  desired: number | null
  /** Replicas running, summed over the site's answering hosts. */
  running: number
  dashboard: string
}

interface StatusReply {
  hostId: string
  site: string
  role: string
  term: number
  leaderId: string
  runtime?: { running?: Record<string, number> }
}

interface PlanReply { leader: null | { services: Array<{ service: string, desired: number }> } }

async function getJson<T> (url: string): Promise<T | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    return res.ok ? await res.json() as T : undefined
  } catch { return undefined } // starting, stopping or busy: shown as not up this second
}

/** The leader named by a strict majority of the answering members, else null. */
export function agreedLeader (statuses: ReadonlyArray<Pick<StatusReply, 'leaderId' | 'term'>>): { leader: string, term: number } | null {
  const votes = new Map<string, number>()
  for (const s of statuses) if (s.leaderId !== '') votes.set(`${s.term}\0${s.leaderId}`, (votes.get(`${s.term}\0${s.leaderId}`) ?? 0) + 1)
  const best = [...votes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]
  if (best === undefined || best[1] * 2 <= statuses.length) return null
  const [term, leader] = best[0].split('\0')
  return { leader, term: Number(term) }
}

export async function pollSites (sups: readonly MeshSupervisor[], sites: readonly string[], service: string, loads: readonly SiteLoad[]): Promise<SiteRow[]> {
  return await Promise.all(sites.map(async (site, i) => {
    const members = sups.filter(s => s.host.site === site)
    const statuses = (await Promise.all(members.map(async m => m.running ? await getJson<StatusReply>(`${m.url}/v1/status`) : undefined)))
      .filter((s): s is StatusReply => s !== undefined)
    const agreed = agreedLeader(statuses)
    const leaderSup = agreed === null ? undefined : members.find(m => m.host.hostId === agreed.leader)
    const plan = leaderSup === undefined ? undefined : await getJson<PlanReply>(`${leaderSup.url}/v1/plan`)
    const desired = plan?.leader?.services.find(s => s.service === service)?.desired ?? null
    const load = loads[i]
    return {
      site,
      leader: agreed?.leader ?? null,
      term: agreed?.term ?? Math.max(0, ...statuses.map(s => s.term)),
      hostsUp: statuses.length,
      hostsTotal: members.length,
      phase: load.phase,
      ratePerS: load.ratePerS,
      processedPerS: load.processedPerS,
      backlog: load.backlog,
      desired,
      running: statuses.reduce((n, s) => n + (s.runtime?.running?.[service] ?? 0), 0),
      dashboard: `${members[0].url}/`,
    }
  }))
}

/** The table; the dashboards are in the header above it (they do not change). */
export function renderRows (rows: readonly SiteRow[]): string {
  const head = ['SITE', 'LEADER', 'TERM', 'HOSTS', 'LOAD', 'ARRIVING/S', 'DONE/S', 'BACKLOG', 'DESIRED', 'RUNNING']
  return table([head, ...rows.map(r => [
    r.site,
    r.leader ?? '(electing)',
    String(r.term),
    `${r.hostsUp}/${r.hostsTotal}`,
    r.phase,
    r.ratePerS.toFixed(1),
    r.processedPerS.toFixed(0),
    String(r.backlog),
    r.desired === null ? '-' : String(r.desired),
    String(r.running),
  ])])
}

/**
 * Redraws a block of lines in place on a terminal: the cursor goes back up over the previous
 * block, which is cleared to the end of the screen first. `writeLine` ends what it is given
 * with exactly one newline (the demo's `io.out`). The block is counted in screen rows: a line
 * wider than the terminal takes several, and going up too few rows would leave the top of
 * the last block (the table's header) behind on every redraw.
 */
export class InPlaceWriter {
  private lastRows = 0

  constructor (private readonly writeLine: (s: string) => void, private readonly columns: () => number | undefined = () => undefined) {}

  draw (text: string): void {
    const up = this.lastRows > 0 ? `\x1b[${this.lastRows}F\x1b[J` : ''
    this.writeLine(`${up}${text}`)
    this.lastRows = screenRows(text, this.columns())
  }
}

/** Rows a text takes on a terminal `columns` wide (undefined: no wrapping); one character one column. */
export function screenRows (text: string, columns: number | undefined): number {
  let rows = 0
  for (const line of text.split('\n')) {
    const width = [...line].length
    rows += columns === undefined || columns <= 0 || width === 0 ? 1 : Math.ceil(width / columns)
  }
  return rows
}
