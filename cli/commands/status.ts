/**
 * `agentmesh status`: asks the local daemon's HTTP API and prints a readable table, or the
 * raw JSON with --json. Exit 0 when the daemon answered, 1 when it could not be reached, 2 on
 * bad flags.
 */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import type { SitesResponse, StatusResponse } from '../../node/daemon/api-schema.js'
import type { Command } from './command.js'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { parseCommandArgs } from '../args.js'

const DEFAULT_URL = 'http://127.0.0.1:7421'
const REQUEST_TIMEOUT_MS = 3000

const USAGE = `usage: agentmesh status [--url URL | --config FILE] [--json]

Asks the local supervisor for its view of the mesh: this host, its site's leader and term,
every site member with its state, and the sites it hears of.

options:
  --url URL       the daemon's HTTP API (default: AGENTMESH_HTTP_LISTEN, else ${DEFAULT_URL})
  --config FILE   take the address from this config's http.listen
  --json          print {"status": …, "sites": …} as JSON

examples:
  agentmesh status                                   the daemon on this host
  agentmesh status --config /etc/agentmesh/agentmesh.yaml
  agentmesh status --json | jq '.status.leaderId'    for a script

exit status: 0 the daemon answered, 1 it could not be reached, 2 bad flags`

interface StatusArgs { url: string, json: boolean }

const invalid = (message: string): DaemonError => new DaemonError(DaemonErrorCode.ArgsInvalid, message)

const OPTIONS = { url: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } } as const

export function parseStatusArgs (argv: readonly string[], env: Record<string, string | undefined> = process.env): StatusArgs {
  const { values: v } = parseCommandArgs(argv, OPTIONS, 0, invalid)
  if (v.url !== undefined && v.config !== undefined) throw invalid('give --url or --config, not both')
  let url = env.AGENTMESH_HTTP_LISTEN !== undefined ? `http://${env.AGENTMESH_HTTP_LISTEN}` : DEFAULT_URL
  if (v.url !== undefined) url = v.url
  if (v.config !== undefined) {
    let listen: unknown
    try {
      listen = (parse(readFileSync(v.config, 'utf8')) as { http?: { listen?: unknown } } | null)?.http?.listen
    } catch (err) {
      throw invalid(`cannot read ${v.config}: ${(err as Error).message}`)
    }
    if (typeof listen === 'string') url = `http://${listen}`
  }
  try { new URL(url) } catch { throw invalid(`not a URL: ${url}`) } // eslint-disable-line no-new
  return { url: url.replace(/\/$/, ''), json: v.json === true }
}

async function getJson<T> (url: string): Promise<T> {
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (err) {
    throw new DaemonError(DaemonErrorCode.StatusUnreachable, `cannot reach the daemon at ${url}: ${(err as Error).message}`, [], { cause: err })
  }
  if (!res.ok) throw new DaemonError(DaemonErrorCode.StatusUnreachable, `${url} answered ${res.status}: ${await res.text()}`)
  return await res.json() as T
}

export function table (rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => (r[i] ?? '').length)))
  return rows.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join('  ')).join('\n')
}

function ago (ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-'
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}

export function renderStatus (status: StatusResponse, sites: SitesResponse): string {
  const alive = status.peers.filter(p => p.state === 'alive').length
  const rt = status.runtime
  const runtimeText = `runtime ${rt.name}${rt.ok ? '' : ` (unreachable${rt.lastError === undefined ? '' : `: ${rt.lastError.code}`})`}`
  const head = `host ${status.hostId}  site ${status.site}  role ${status.role}  term ${status.term}  leader ${status.leaderId === '' ? '(none)' : status.leaderId}  incarnation ${status.incarnation}`
  const sub = `peer id ${status.peerId}  connections ${status.connections}  members ${status.peers.length + 1} (alive ${alive + 1})  ${runtimeText}  plan ${status.plan === null ? 'none' : `term ${status.plan.term} v${status.plan.version}`}${status.partitioned ? '  PARTITIONED (fault injection)' : ''}`
  const replicas = (running: Record<string, number> | undefined): string => {
    const parts = Object.entries(running ?? {}).filter(([, n]) => n > 0).map(([svc, n]) => `${svc}=${n}`)
    return parts.length === 0 ? '-' : parts.join(',')
  }
  const members = [['HOST', 'STATE', 'ROLE', 'INCARNATION', 'TERM', 'LAST HEARD', 'CONNECTED', 'RUNNING']]
  members.push([status.hostId, 'alive', status.role, String(status.incarnation), String(status.term), '-', '(this host)', replicas(rt.running)])
  for (const p of status.peers) {
    const cannot = (p.unavailable ?? []).length > 0 ? ` (cannot start ${(p.unavailable as string[]).join(',')})` : ''
    members.push([p.hostId, p.state, p.hostId === status.leaderId ? 'leader' : 'follower', String(p.incarnation), String(p.term), ago(p.lastHeardAgoMs), p.connected ? 'yes' : 'no', `${replicas(p.running)}${p.runtimeOk === false ? ' (runtime down)' : ''}${cannot}`])
  }
  const siteRows = [['SITE', 'LEADER', 'TERM', 'HOSTS ALIVE', 'SLOTS FREE/TOTAL', 'SEEN']]
  for (const s of sites.sites) {
    siteRows.push([s.site, s.leaderId === '' ? '(none)' : s.leaderId, String(s.term), String(s.hostsAlive), `${s.slotsFree}/${s.slotsTotal}`, s.local ? 'this site' : `${ago(s.seenAgoMs)} ago`])
  }
  const out = [head, sub, '', table(members), '', table(siteRows)]
  const signals = status.signals.signals
  if (signals.length > 0) {
    const rows = [['SIGNAL', 'KIND', 'SCOPE', 'VALUE', 'AGE', 'ERRORS', 'LAST ERROR']]
    for (const x of signals) {
      rows.push([x.upstream ? `${x.service} (upstream)` : x.service, x.kind, x.scope, x.value === undefined ? '-' : String(x.value), ago(x.ageMs), String(x.errorsCount), x.lastError === undefined ? '-' : `${x.lastError.code}: ${x.lastError.message}`])
    }
    out.push('', table(rows))
  }
  if (status.forecast !== undefined && status.forecast.length > 0) out.push('', table(renderForecast(status.forecast)))
  if (status.vault !== null) out.push('', ...renderVault(status.vault))
  return out.join('\n')
}

/** Each forecasting service: its model, state (and why it falls back), latest forecast, history and fallbacks. */
export function renderForecast (list: NonNullable<StatusResponse['forecast']>): string[][] {
  const rows = [['FORECAST', 'MODEL', 'STATE', 'RATE/S', 'HISTORY', 'FALLBACKS', 'DETAIL']]
  for (const f of list) {
    const fallbacks = Object.entries(f.fallbacks).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ')
    rows.push([f.service, f.model, f.reason === undefined ? f.state : `${f.state}: ${f.reason}`, f.forecastPerS === undefined ? '-' : f.forecastPerS.toFixed(2),
      `${f.historySteps}/${f.window}`, fallbacks === '' ? '-' : fallbacks, f.detail ?? '-'])
  }
  return rows
}

/** The Vault session (method, whether Vault answers, token TTL left, last error: never the token) and each service's secrets. */
export function renderVault (v: NonNullable<StatusResponse['vault']>): string[] {
  const a = v.auth
  const ttl = a.tokenTtlLeftMs === null ? (a.authenticated === true ? 'never expires' : 'no token') : `${ago(a.tokenTtlLeftMs)} left${a.renewable === true ? ', renewable' : ''}`
  const lines = [
    `vault ${v.address}${v.namespace === '' ? '' : ` namespace ${v.namespace}`}  ${a.up === true ? 'answering' : 'NOT ANSWERING'}  auth ${a.method}  token ${ttl}  logins ${a.logins}  renewals ${a.renewals}`,
    `last vault error: ${a.lastError === null ? '-' : `${a.lastError.code}: ${a.lastError.message} (${ago(a.lastError.agoMs)} ago)`}`,
  ]
  const rows = [['SERVICE', 'SECRET', 'KEY', 'AS', 'RESTART ON CHANGE', 'STATE']]
  for (const s of v.services) {
    const state = s.unavailable === null ? (s.lastResolved === null ? '-' : `last start: ${s.lastResolved}`) : `CANNOT START: ${s.unavailable.code}`
    for (const x of s.secrets) rows.push([s.service, x.secret, x.key, x.as, x.restartOnChange ? 'yes' : 'no', state])
  }
  if (rows.length > 1) lines.push('', table(rows))
  const cached = [['SECRET IN MEMORY', 'VERSION', 'AGE', 'IN USE', 'LAST ERROR']]
  for (const c of v.secrets) cached.push([c.secret, c.version === null ? '-' : String(c.version), ago(c.ageMs), c.inUse ? 'yes' : 'no', c.lastError === null ? '-' : c.lastError.code])
  if (cached.length > 1) lines.push('', table(cached))
  return lines
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the local supervisor\'s view of the mesh (--url, --json)',
  usage: USAGE,
  async run (argv) {
    try {
      const args = parseStatusArgs(argv)
      const [status, sites] = await Promise.all([getJson<StatusResponse>(`${args.url}/v1/status`), getJson<SitesResponse>(`${args.url}/v1/sites`)])
      console.log(args.json ? JSON.stringify({ status, sites }, null, 2) : renderStatus(status, sites))
      return 0
    } catch (err) {
      if (!(err instanceof DaemonError)) throw err
      console.error(`agentmesh status: ${err.code}: ${err.message}`)
      return err.code === DaemonErrorCode.ArgsInvalid ? 2 : 1
    }
  },
}
