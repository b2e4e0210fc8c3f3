/**
 * The dashboard's script: browser code, typed against the API's own schemas. dashboard.ts
 * serves this module's compiled text inline in the page (an inline module script allowed by
 * its hash in the Content-Security-Policy), followed by a call of `dashboardMain`. So this file
 * must import nothing but types (tsc drops those; a value import would leave an `import` the
 * page cannot resolve, which test/daemon/dashboard.test.ts checks), and nothing at the top
 * level may touch the DOM: the tests import the pure functions below in Node.
 *
 * What the page does: polls /v1/status, /v1/plan and /v1/sites once a second and keeps the
 * last `historyMs` of each series; listens to /v1/events (replaying what the daemon still
 * keeps); draws per service three canvas charts (backlog against what the plan is sized for,
 * desired against running replicas, the age of each signal), the plan per host, the scaling
 * decisions with their reason in words, and the faults and elections. Everything that came
 * from a peer or a signal is put in the page as text (textContent, fillText), never as HTML.
 */
import type { PlanResponse, ScalingRulesView, ServiceScaling, SitesResponse, StatusResponse } from './api-schema.js'
import type { ScaledEventData } from './driver.js'

/** The page's limits; dashboard.ts passes its DASHBOARD_LIMITS (documented there). */
export interface PageLimits {
  pollIntervalMs: number
  fetchTimeoutMs: number
  historyMs: number
  historyPointsMax: number
  viewsMs: readonly number[]
  viewMsDefault: number
  decisionsMax: number
  timelineMax: number
  rawEventsMax: number
  servicesMax: number
}

/** Colours of the series; the test finds drawn series by them in screenshots. */
export const CHART_COLORS = {
  load: '#0969da',
  sizedFor: '#1a7f37',
  desired: '#8250df',
  running: '#e16f24',
  ages: ['#0969da', '#bc4c00', '#116329', '#a40e26', '#6e7781'],
  stale: '#cf222e',
  rate: '#57606a',
  forecast: '#fb8500',
  limit: '#8c959f',
  markerScaling: '#bf3989',
  markerElection: '#9a6700',
  markerFault: '#cf222e',
  grid: '#eaeef2',
  axis: '#57606a',
  background: '#ffffff',
} as const

/** The SSE event types the daemon sends (http-api.ts, driver.ts `report`). */
export const EVENT_TYPES = ['peer', 'election', 'leader', 'plan', 'scaled', 'fault'] as const

export type Point = readonly [atMs: number, value: number]

export interface ChartSeries {
  /** Stable id, the key of `data-last` on the canvas (the test reads it). */
  id: string
  label: string
  color: string
  points: readonly Point[]
  dash?: number[]
  /** A state that changes at instants (replicas): drawn as steps, not slopes. */
  step?: boolean
}

export interface ChartSpec {
  fromMs: number
  toMs: number
  series: readonly ChartSeries[]
  markers: ReadonlyArray<{ atMs: number, color: string }>
  thresholds: ReadonlyArray<{ value: number, color: string, label: string }>
  /** The y axis reaches at least this, so a flat zero line is not stretched over the chart. */
  yMaxAtLeast: number
  /** Points further apart than this are not joined (the page was disconnected). */
  gapMs: number
}

// ---- pure helpers (unit-tested in Node) --------------------------------------------------------

/** 1, 2, 2.5 or 5 × a power of ten, at least `x`. */
export function niceCeil (x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return 1
  const exp = 10 ** Math.floor(Math.log10(x))
  const f = x / exp
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10
  return nice * exp
}

export function formatNumber (v: number): string {
  if (!Number.isFinite(v)) return String(v)
  if (Math.abs(v) >= 1e6) return v.toExponential(2)
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 2 : 1).replace(/\.?0+$/, '')
}

export function formatDuration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${formatNumber(ms / 1000)} s`
  if (ms < 3_600_000) return `${formatNumber(ms / 60_000)} min`
  return `${formatNumber(ms / 3_600_000)} h`
}

export function describePolicy (p: ScalingRulesView['policies'][number]): string {
  const per = `per ${formatDuration(p.periodMs)}`
  return p.type === 'pods' ? `${formatNumber(p.value)} replica${p.value === 1 ? '' : 's'} ${per}` : `${formatNumber(p.value)} % ${per}`
}

/** `1 replica per 5 s`, `100 % per 15 s or 4 replicas per 15 s, the larger`. */
export function describeRateLimit (rules: ScalingRulesView): string {
  if (rules.selectPolicy === 'disabled') return 'disabled (selectPolicy: disabled)'
  if (rules.policies.length === 0) return 'none'
  const list = rules.policies.map(describePolicy).join(' or ')
  return rules.policies.length === 1 ? list : `${list}, the ${rules.selectPolicy === 'max' ? 'larger' : 'smaller'}`
}

/** `window 5 min, 100 % per 15 s`. */
export function describeRules (rules: ScalingRulesView): string {
  return `${rules.stabilizationMs > 0 ? `window ${formatDuration(rules.stabilizationMs)}` : 'no window'}, rate limit ${describeRateLimit(rules)}`
}

/**
 * A scaling decision in words: which signal load and which rule gave the recommendation, and
 * what held the applied count back from it. The core reports the recommendation and the count
 * applied, not which of the stabilisation window and the rate limit held it: when both could
 * have, both are named.
 */
export function explainScaling (d: ScaledEventData): string {
  const parts: string[] = [recommendationText(d)]
  if (d.failingStatic) {
    // The core does not say which: no fresh reading at all (the count is kept, pulled into the
    // bounds) or a partial one (no scale-down). A missing reading counts as load 0.
    parts.push(missingReading(d)
      ? `fail static: no fresh signal, so the count is kept${d.to === d.minReplicas || d.to === d.maxReplicas ? ` and only pulled into the bounds (min ${d.minReplicas}, max ${d.maxReplicas})` : ''}`
      : 'fail static: some hosts\' signals are stale, so the count is not lowered on partial data')
  }
  if (d.upstreamCapped) {
    parts.push(d.upstream === undefined
      ? 'the upstream is saturated: scale-up stopped'
      : `upstream ${d.upstream.name} saturated (at or above ${formatNumber(d.upstream.saturatedAt)}): scale-up stopped`)
  }
  parts.push(appliedText(d))
  return parts.join('; ')
}

function missingReading (d: ScaledEventData): boolean {
  return d.failingStatic && (d.load === undefined || d.load === 0)
}

function recommendationText (d: ScaledEventData): string {
  const target = d.targetPerReplica
  if (missingReading(d)) return `no load reading: ${d.recommended} kept`
  if (d.rule === 'rate' && d.arrivalRate !== undefined && d.drainPerReplica !== undefined && d.rate !== undefined) return rateText(d, d.arrivalRate, d.drainPerReplica, d.rate)
  if (d.load === undefined || target === undefined) return `the rule recommended ${d.recommended}`
  if (d.activationThreshold !== undefined && d.load <= d.activationThreshold) {
    return `load ${formatNumber(d.load)} at or below the activation threshold ${formatNumber(d.activationThreshold)}: ${d.recommended} recommended`
  }
  const wanted = Math.ceil(d.load / target)
  let text = `load ${formatNumber(d.load)} ÷ ${formatNumber(target)} per replica → ${wanted}`
  if (d.recommended !== wanted) {
    if (d.recommended === d.maxReplicas && wanted > d.recommended) text += `, capped at maxReplicas ${d.recommended}`
    else if (d.recommended === d.minReplicas && wanted < d.recommended) text += `, raised to minReplicas ${d.recommended}`
    else if (d.recommended === d.from && d.tolerance !== undefined) text += `, within the ±${formatNumber(d.tolerance * 100)} % tolerance of ${d.from}: ${d.recommended}`
    else text += `, ${d.recommended}`
  }
  return `${text} recommended`
}

/** The rate policy's recommendation in words (rate-scaler.ts). */
function rateText (d: ScaledEventData, arrival: number, drain: number, rate: NonNullable<ScaledEventData['rate']>): string {
  const backlog = d.load === undefined ? '' : ` + backlog ${formatNumber(d.load)} drained within ${formatDuration(rate.drainWithinMs)}`
  return `rate policy: arrivals ${formatNumber(arrival)}/s at ${formatNumber(rate.utilization * 100)} % of ${formatNumber(drain)}/s per replica${backlog} → ${d.recommended} recommended`
}

function appliedText (d: ScaledEventData): string {
  if (d.to === d.recommended) return `applied: ${d.from} → ${d.to}`
  if (d.rule === 'rate' && d.rate !== undefined && d.to > d.recommended && d.to < d.from) {
    return `held at ${d.to} (${d.recommended} recommended) by the scale-down hold (${formatDuration(d.rate.scaleDownHoldMs)}: the most needed in it wins)`
  }
  const dir = d.to > d.from ? 'up' : 'down'
  const rules = d.rules
  if (rules === undefined) return `applied ${d.to} instead of ${d.recommended} (the scale-${dir} rules held it)`
  const window = rules.stabilizationMs > 0
    ? `the scale-${dir} stabilisation window (${formatDuration(rules.stabilizationMs)}: the ${dir === 'up' ? 'lowest' : 'highest'} recommendation in it wins)`
    : undefined
  const limiting = rules.selectPolicy !== 'disabled' && rules.policies.length > 0
  const rate = limiting ? `the scale-${dir} rate limit (${describeRateLimit(rules)})` : undefined
  const by = window !== undefined && rate !== undefined
    ? `${window} or ${rate}; the core does not say which`
    : window ?? rate ?? `the scale-${dir} rules`
  return `held at ${d.to} (${d.recommended} recommended) by ${by}`
}

/** What a timeline entry shows for an SSE event; undefined: not a fault or an election. */
export function describeEvent (type: string, data: Record<string, unknown>): { kind: 'election' | 'fault' | 'peer', text: string } | undefined {
  const str = (k: string): string => typeof data[k] === 'string' ? data[k] : String(data[k] ?? '')
  switch (type) {
    case 'election': return { kind: 'election', text: `election started for term ${str('term')}` }
    case 'leader':
      if (data.steppedDown !== undefined) return { kind: 'election', text: `stepped down as leader in term ${str('term')} (${str('steppedDown')})` }
      if (data.votes !== undefined) return { kind: 'election', text: `${str('leaderId')} elected leader of term ${str('term')} (${str('votes')} of ${str('electorate')} votes)` }
      return { kind: 'election', text: `following leader ${str('leaderId')} in term ${str('term')}` }
    case 'peer': {
      const to = str('to')
      return { kind: to === 'suspect' || to === 'dead' ? 'fault' : 'peer', text: `host ${str('hostId')}: ${str('from')} → ${to}` }
    }
    case 'fault': return { kind: 'fault', text: `fault injection: ${str('fault')} ${data.on === true ? 'on' : 'off'}` }
    case 'plan':
      if (data.capped !== undefined) return { kind: 'fault', text: `plan v${str('version')} cut on this host: ${str('service')} ${str('kept')} of ${str('wanted')} (${str('capped')})` }
      return undefined
    default: return undefined
  }
}

type AdoptedPlan = NonNullable<PlanResponse['plan']>

/** Services whose desired count differs between two plans (how a follower sees decisions). */
export function planChanges (before: AdoptedPlan | null | undefined, after: AdoptedPlan | null | undefined): Array<{ service: string, from: number, to: number, failingStatic: boolean }> {
  if (before == null || after == null) return []
  const was = new Map(before.decisions.map(d => [d.service, d.desired]))
  const out = []
  for (const d of after.decisions) {
    const from = was.get(d.service)
    if (from !== undefined && from !== d.desired) out.push({ service: d.service, from, to: d.desired, failingStatic: d.failingStatic })
  }
  return out
}

/** Appends a point and drops what is older than the history or beyond its point limit (oldest first). */
export function recordPoint (history: Map<string, Point[]>, key: string, atMs: number, value: number, limits: Pick<PageLimits, 'historyMs' | 'historyPointsMax'>): void {
  let points = history.get(key)
  if (points === undefined) { points = []; history.set(key, points) }
  points.push([atMs, value])
  let drop = 0
  while (drop < points.length && points[drop][0] < atMs - limits.historyMs) drop++
  drop = Math.max(drop, points.length - limits.historyPointsMax)
  if (drop > 0) points.splice(0, drop)
}

/** Replicas of each service running over the site: this host's, and each live peer's from its heartbeats. */
export function siteRunning (status: StatusResponse): Map<string, number> {
  const out = new Map<string, number>()
  const add = (counts: Record<string, number>): void => { for (const [s, n] of Object.entries(counts)) out.set(s, (out.get(s) ?? 0) + n) }
  add(status.runtime.running)
  for (const p of status.peers) if (p.state !== 'dead') add(p.running)
  return out
}

/** The sorted, bounded set of services the page shows: configured here or in the plan. */
export function serviceNames (plan: PlanResponse, max: number): string[] {
  const names = new Set<string>([...(plan.scaling?.services ?? []).map(s => s.service), ...(plan.plan?.services ?? [])])
  return [...names].sort().slice(0, max)
}

// ---- the chart ---------------------------------------------------------------------------------

const MARGIN = { left: 46, right: 12, top: 26, bottom: 20 } as const
const TICKS_MS = [10_000, 30_000, 60_000, 120_000, 300_000, 600_000] as const

/** Draws one chart on a canvas at its CSS size and the screen's pixel ratio. */
export function drawChart (canvas: HTMLCanvasElement, spec: ChartSpec): void {
  const ratio = window.devicePixelRatio || 1
  const width = canvas.clientWidth
  const height = canvas.clientHeight
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio)
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio)
  const g = canvas.getContext('2d')
  if (g === null) return
  g.setTransform(ratio, 0, 0, ratio, 0, 0)
  g.fillStyle = CHART_COLORS.background
  g.fillRect(0, 0, width, height)
  const plot = { x: MARGIN.left, y: MARGIN.top, w: Math.max(10, width - MARGIN.left - MARGIN.right), h: Math.max(10, height - MARGIN.top - MARGIN.bottom) }
  const inView = (p: Point): boolean => p[0] >= spec.fromMs && p[0] <= spec.toMs
  let yMax = spec.yMaxAtLeast
  for (const s of spec.series) for (const p of s.points) if (inView(p)) yMax = Math.max(yMax, p[1])
  for (const t of spec.thresholds) yMax = Math.max(yMax, t.value)
  yMax = niceCeil(yMax * 1.05)
  const xOf = (atMs: number): number => plot.x + (atMs - spec.fromMs) / (spec.toMs - spec.fromMs) * plot.w
  const yOf = (v: number): number => plot.y + plot.h - Math.max(0, Math.min(v, yMax)) / yMax * plot.h
  drawAxes(g, plot, spec, yMax, xOf, yOf)
  g.save()
  g.beginPath()
  g.rect(plot.x, plot.y - 2, plot.w, plot.h + 4)
  g.clip()
  for (const m of spec.markers) if (m.atMs >= spec.fromMs && m.atMs <= spec.toMs) drawVertical(g, xOf(m.atMs), plot, m.color)
  for (const t of spec.thresholds) drawThreshold(g, plot, yOf(t.value), t.color, t.label)
  let drawn = 0
  const last: Record<string, number> = {}
  const counts: Record<string, number> = {}
  for (const s of spec.series) {
    counts[s.id] = drawSeries(g, s, spec, xOf, yOf)
    drawn += counts[s.id]
    const tail = s.points[s.points.length - 1]
    if (tail !== undefined && inView(tail)) last[s.id] = tail[1]
  }
  g.restore()
  drawLegend(g, spec.series, plot)
  if (drawn === 0) {
    g.fillStyle = CHART_COLORS.axis
    g.font = '12px system-ui, sans-serif'
    g.textAlign = 'center'
    g.fillText('no data yet', plot.x + plot.w / 2, plot.y + plot.h / 2)
  }
  // What was drawn, for tests and anyone inspecting the page: points in view and the last value per series.
  canvas.dataset.counts = JSON.stringify(counts)
  canvas.dataset.last = JSON.stringify(last)
  canvas.dataset.ymax = String(yMax)
}

interface Rect { x: number, y: number, w: number, h: number }

function drawAxes (g: CanvasRenderingContext2D, plot: Rect, spec: ChartSpec, yMax: number, xOf: (t: number) => number, yOf: (v: number) => number): void {
  g.font = '11px system-ui, sans-serif'
  g.lineWidth = 1
  g.fillStyle = CHART_COLORS.axis
  g.textAlign = 'right'
  g.textBaseline = 'middle'
  for (let i = 0; i <= 4; i++) {
    const v = yMax * i / 4
    const y = Math.round(yOf(v)) + 0.5
    g.strokeStyle = CHART_COLORS.grid
    g.beginPath(); g.moveTo(plot.x, y); g.lineTo(plot.x + plot.w, y); g.stroke()
    g.fillText(formatNumber(v), plot.x - 6, y)
  }
  const spanMs = spec.toMs - spec.fromMs
  const tickMs = TICKS_MS.find(t => spanMs / t <= 6) ?? TICKS_MS[TICKS_MS.length - 1]
  g.textAlign = 'center'
  g.textBaseline = 'top'
  for (let agoMs = 0; agoMs <= spanMs; agoMs += tickMs) {
    const x = Math.round(xOf(spec.toMs - agoMs)) + 0.5
    g.strokeStyle = CHART_COLORS.grid
    g.beginPath(); g.moveTo(x, plot.y); g.lineTo(x, plot.y + plot.h); g.stroke()
    g.fillText(agoMs === 0 ? 'now' : `−${formatDuration(agoMs)}`, Math.min(x, plot.x + plot.w - 14), plot.y + plot.h + 4)
  }
  g.strokeStyle = CHART_COLORS.axis
  g.beginPath(); g.moveTo(plot.x + 0.5, plot.y); g.lineTo(plot.x + 0.5, plot.y + plot.h + 0.5); g.lineTo(plot.x + plot.w, plot.y + plot.h + 0.5); g.stroke()
}

function drawVertical (g: CanvasRenderingContext2D, x: number, plot: Rect, color: string): void {
  g.strokeStyle = color
  g.lineWidth = 1.5
  g.setLineDash([3, 3])
  g.beginPath(); g.moveTo(x, plot.y); g.lineTo(x, plot.y + plot.h); g.stroke()
  g.setLineDash([])
}

function drawThreshold (g: CanvasRenderingContext2D, plot: Rect, y: number, color: string, label: string): void {
  g.strokeStyle = color
  g.lineWidth = 1
  g.setLineDash([6, 4])
  g.beginPath(); g.moveTo(plot.x, y); g.lineTo(plot.x + plot.w, y); g.stroke()
  g.setLineDash([])
  g.fillStyle = color
  g.font = '10px system-ui, sans-serif'
  g.textAlign = 'right'
  g.textBaseline = 'bottom'
  g.fillText(label, plot.x + plot.w - 2, y - 1)
}

/** Returns how many points of the series fall in view. */
function drawSeries (g: CanvasRenderingContext2D, s: ChartSeries, spec: ChartSpec, xOf: (t: number) => number, yOf: (v: number) => number): number {
  g.strokeStyle = s.color
  g.lineWidth = 2.5
  g.lineJoin = 'round'
  g.setLineDash(s.dash ?? [])
  g.beginPath()
  let prev: Point | undefined
  let count = 0
  for (const p of s.points) {
    if (p[0] > spec.toMs) break
    if (p[0] >= spec.fromMs) count++
    const x = xOf(p[0])
    const y = yOf(p[1])
    if (prev === undefined || p[0] - prev[0] > spec.gapMs) {
      g.moveTo(x, y)
    } else {
      if (s.step === true) g.lineTo(x, yOf(prev[1]))
      g.lineTo(x, y)
    }
    prev = p
  }
  // A lone point is a dot, not nothing.
  if (count === 1 && prev !== undefined) g.arc(xOf(prev[0]), yOf(prev[1]), 1.5, 0, 2 * Math.PI)
  g.stroke()
  g.setLineDash([])
  return count
}

function drawLegend (g: CanvasRenderingContext2D, series: readonly ChartSeries[], plot: Rect): void {
  g.font = '11px system-ui, sans-serif'
  g.textAlign = 'left'
  g.textBaseline = 'middle'
  let x = plot.x
  const y = 10
  for (const s of series) {
    g.strokeStyle = s.color
    g.lineWidth = 2.5
    g.setLineDash(s.dash ?? [])
    g.beginPath(); g.moveTo(x, y); g.lineTo(x + 16, y); g.stroke()
    g.setLineDash([])
    g.fillStyle = CHART_COLORS.axis
    g.fillText(s.label, x + 20, y)
    x += 28 + g.measureText(s.label).width
  }
}

// ---- the page ------------------------------------------------------------------------------------

interface ServiceCard {
  root: HTMLElement
  facts: HTMLElement
  rules: HTMLElement
  note: HTMLElement
  backlog: HTMLCanvasElement
  replicas: HTMLCanvasElement
  ages: HTMLCanvasElement
  /** Arrival rate against the forecast in use: added once the service shows a forecast (docs/forecast.md). */
  forecast?: HTMLCanvasElement
  addChart: (name: string, caption: string) => HTMLCanvasElement
  /** Series keys of signal ages seen for this service (bounded by the signal kinds and scopes). */
  ageKeys: Set<string>
}

interface Marker { atMs: number, kind: 'scaling' | 'election' | 'fault', service?: string }

interface PageState {
  limits: PageLimits
  viewMs: number
  history: Map<string, Point[]>
  markers: Marker[]
  cards: Map<string, ServiceCard>
  status?: StatusResponse
  plan?: PlanResponse
  sites?: SitesResponse
  /** The plan seen at the previous poll (a follower's decisions are the differences). */
  lastPlan?: PlanResponse['plan']
  /** Faults found by polling, so each is listed once: signal errors by time, runtime and staleness by state. */
  seenSignalErrors: Map<string, number>
  staleSignals: Set<string>
  runtimeOk?: boolean
}

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`the page lacks #${id}`)
  return el
}

function el<K extends keyof HTMLElementTagNameMap> (tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (text !== undefined) e.textContent = text
  if (cls !== undefined) e.className = cls
  return e
}

function clock (atMs: number): string {
  return new Date(atMs).toTimeString().slice(0, 8)
}

/** Starts the page: the polling loop, the event stream and the view selector. */
export function dashboardMain (limits: PageLimits): void {
  const state: PageState = {
    limits,
    viewMs: limits.viewMsDefault,
    history: new Map(),
    markers: [],
    cards: new Map(),
    seenSignalErrors: new Map(),
    staleSignals: new Set(),
  }
  const view = $('view') as HTMLSelectElement
  for (const ms of limits.viewsMs) {
    const o = el('option', `last ${formatDuration(ms)}`)
    o.value = String(ms)
    o.selected = ms === state.viewMs
    view.appendChild(o)
  }
  view.addEventListener('change', () => { state.viewMs = Number(view.value); redraw(state) })
  window.addEventListener('resize', () => redraw(state))
  connectEvents(state)
  void pollLoop(state)
}

/**
 * One poll at a time: the next starts pollIntervalMs after the previous one started, or at
 * once if it took longer, never while one is in flight; each request is bounded by fetchTimeoutMs.
 */
async function pollLoop (state: PageState): Promise<void> {
  for (;;) {
    const startedMs = Date.now()
    await poll(state)
    const waitMs = Math.max(0, state.limits.pollIntervalMs - (Date.now() - startedMs))
    await new Promise(resolve => setTimeout(resolve, waitMs))
  }
}

async function getJson<T> (path: string, timeoutMs: number): Promise<T> {
  const res = await fetch(path, { signal: AbortSignal.timeout(timeoutMs), cache: 'no-store' })
  if (!res.ok) throw new Error(`${path}: ${res.status}`)
  return await res.json() as T
}

async function poll (state: PageState): Promise<void> {
  const t = state.limits.fetchTimeoutMs
  let answers: [StatusResponse, PlanResponse, SitesResponse]
  try {
    answers = await Promise.all([getJson<StatusResponse>('/v1/status', t), getJson<PlanResponse>('/v1/plan', t), getJson<SitesResponse>('/v1/sites', t)])
  } catch {
    const conn = $('conn')
    conn.textContent = 'disconnected'
    conn.className = 'bad'
    return
  }
  const [status, plan, sites] = answers
  const atMs = Date.now()
  state.status = status
  state.plan = plan
  state.sites = sites
  const conn = $('conn')
  conn.textContent = 'live'
  conn.className = 'ok'
  showHeader(status)
  showMembers(status)
  showSites(sites)
  record(state, status, plan, sites, atMs)
  noticePolledFaults(state, status, plan, atMs)
  if (status.role !== 'leader') {
    for (const c of planChanges(state.lastPlan, plan.plan)) addDecision(state, atMs, c.service, `${c.from} → ${c.to}`, `plan v${plan.plan?.version ?? '?'} from leader ${plan.plan?.leaderId ?? '?'}${c.failingStatic ? ' (failing static)' : ''}; the reason is on the leader's dashboard`)
  }
  state.lastPlan = plan.plan
  showPlan(status, plan)
  redraw(state)
}

function showHeader (status: StatusResponse): void {
  $('host').textContent = status.hostId
  $('site').textContent = status.site
  $('summary').textContent = `role ${status.role} · term ${status.term} · leader ${status.leaderId === '' ? 'none' : status.leaderId} · incarnation ${status.incarnation} · runtime ${status.runtime.name}${status.runtime.ok ? '' : ' (unreachable)'} · ${status.connections} connections`
}

function fill (table: HTMLElement, rows: HTMLTableRowElement[]): void {
  const body = table.querySelector('tbody')
  if (body !== null) body.replaceChildren(...rows)
}

function row (cells: ReadonlyArray<string | [string, string]>, cls = ''): HTMLTableRowElement {
  const tr = el('tr')
  for (const c of cells) tr.appendChild(typeof c === 'string' ? el('td', c) : el('td', c[0], c[1]))
  if (cls !== '') tr.className = cls
  return tr
}

function ago (ms: number): string {
  return `${formatDuration(ms)} ago`
}

function showMembers (status: StatusResponse): void {
  const self = { hostId: status.hostId, state: 'alive', incarnation: status.incarnation, term: status.term, lastHeardAgoMs: 0 }
  const members = [self, ...status.peers].sort((a, b) => a.hostId < b.hostId ? -1 : 1)
  fill($('members'), members.map(p => row([
    p.hostId, [p.state, p.state], p.hostId === status.leaderId ? 'leader' : 'follower', String(p.incarnation), String(p.term), ago(p.lastHeardAgoMs),
  ], p.hostId === status.leaderId ? 'leader' : '')))
}

function showSites (sites: SitesResponse): void {
  fill($('sites'), sites.sites.map(s => row([
    s.site, s.leaderId === '' ? 'none' : s.leaderId, String(s.term), String(s.hostsAlive), `${s.slotsFree} / ${s.slotsTotal}`, s.local ? 'this site' : ago(s.seenAgoMs),
  ])))
}

/** The plan: one row per host, one column per service, `wanted` and what runs there. */
function showPlan (status: StatusResponse, plan: PlanResponse): void {
  const p = plan.plan
  const table = $('plan')
  if (p === null) {
    $('plan-summary').textContent = 'no plan adopted yet'
    table.replaceChildren()
    return
  }
  $('plan-summary').textContent = `version ${p.version} · term ${p.term} · from leader ${p.leaderId} · this host runs ${Object.entries(p.wantedHere).map(([s, n]) => `${s} ${n}`).join(', ') || 'nothing'} of it`
  const runningOn = new Map<string, Record<string, number>>([[status.hostId, status.runtime.running], ...status.peers.map(x => [x.hostId, x.running] as [string, Record<string, number>])])
  const head = el('thead')
  const hr = el('tr')
  hr.appendChild(el('th', 'host'))
  for (const s of p.services) hr.appendChild(el('th', `${s} (wanted · running)`))
  head.appendChild(hr)
  const body = el('tbody')
  for (const h of p.hosts) {
    const tr = row([h.hostId], h.hostId === status.hostId ? 'self' : '')
    tr.dataset.host = h.hostId
    p.services.forEach((s, i) => {
      const running = runningOn.get(h.hostId)?.[s] ?? 0
      const td = el('td', `${h.replicas[i] ?? 0} · ${running}`, (h.replicas[i] ?? 0) !== running ? 'moving' : '')
      td.dataset.service = s
      td.dataset.wanted = String(h.replicas[i] ?? 0)
      td.dataset.running = String(running)
      tr.appendChild(td)
    })
    body.appendChild(tr)
  }
  const desired = new Map(p.decisions.map(d => [d.service, d]))
  const unplaced = new Map((plan.leader?.services ?? []).map(s => [s.service, s.unplaced]))
  body.appendChild(row(['desired (site)', ...p.services.map(s => `${desired.get(s)?.desired ?? '?'}${desired.get(s)?.failingStatic === true ? ' (failing static)' : ''}${(unplaced.get(s) ?? 0) > 0 ? ` · ${unplaced.get(s) ?? 0} unplaced` : ''}`)], 'total'))
  table.replaceChildren(head, body)
}

/**
 * The backlog the page draws for a service, and where it comes from: the site load the leader
 * counts (its own round on the leader, its last summary on a follower), else the sum of this
 * host's own signals of the service.
 */
export function backlogOf (service: string, status: StatusResponse, plan: PlanResponse, sites: SitesResponse | undefined): { value: number, source: 'leader' | 'summary' | 'here' } | undefined {
  const leader = plan.leader?.services.find(s => s.service === service)
  if (leader !== undefined) return { value: leader.load, source: 'leader' }
  const summary = sites?.sites.find(s => s.local)?.services.find(s => s.service === service)
  if (summary !== undefined) return { value: summary.load, source: 'summary' }
  const own = status.signals.signals.filter(s => s.service === service && !s.upstream && s.value !== undefined)
  return own.length === 0 ? undefined : { value: own.reduce((a, s) => a + (s.value ?? 0), 0), source: 'here' }
}

const BACKLOG_LABELS = {
  leader: 'site load',
  summary: 'site load (summary)',
  here: 'signal here',
} as const

/** One sample of every series of every service; series with nothing left in the history are forgotten. */
function record (state: PageState, status: StatusResponse, plan: PlanResponse, sites: SitesResponse, atMs: number): void {
  for (const [key, points] of state.history) {
    const tail = points[points.length - 1]
    if (tail === undefined || tail[0] < atMs - state.limits.historyMs) state.history.delete(key)
  }
  const running = siteRunning(status)
  const scaling = new Map((plan.scaling?.services ?? []).map(s => [s.service, s]))
  const decisions = new Map((plan.plan?.decisions ?? []).map(d => [d.service, d.desired]))
  for (const service of serviceNames(plan, state.limits.servicesMax)) {
    const put = (key: string, v: number): void => { recordPoint(state.history, `${service}|${key}`, atMs, v, state.limits) }
    const desired = decisions.get(service)
    const target = scaling.get(service)?.targetPerReplica
    const load = backlogOf(service, status, plan, sites)
    if (load !== undefined) put('load', load.value)
    if (desired !== undefined) put('desired', desired)
    if (desired !== undefined && target !== undefined) put('sizedFor', desired * target)
    put('running', running.get(service) ?? 0)
    const card = cardFor(state, service)
    // The forecast runs on the leader: this host's status has it while it leads.
    const f = status.forecast?.find(x => x.service === service)
    if (f !== undefined) {
      card.forecast ??= card.addChart('forecast', 'arrival rate (per s) and the load forecast in use')
      if (f.ratePerS !== undefined && status.role === 'leader') put('rate', f.ratePerS)
      if (f.state === 'ok' && f.forecastPerS !== undefined && status.role === 'leader') put('forecast', f.forecastPerS)
    }
    for (const s of signalsOf(status, service, scaling.get(service))) {
      if (s.ageMs === undefined) continue
      card.ageKeys.add(s.key)
      put(`age|${s.key}`, s.ageMs / 1000)
    }
  }
}

/** This host's signals of a service (and of its upstream), with a key and a label each. */
function signalsOf (status: StatusResponse, service: string, scaling: ServiceScaling | undefined): Array<StatusResponse['signals']['signals'][number] & { key: string }> {
  const up = scaling?.upstream?.name
  return status.signals.signals
    .filter(s => (s.service === service && !s.upstream) || (up !== undefined && s.upstream && s.service === up))
    .map(s => ({ ...s, key: `${s.upstream ? `upstream ${s.service} ` : ''}${s.kind}/${s.scope}` }))
}

/** Faults only polling shows: a runtime that became unreachable, a signal error, a signal gone stale. */
function noticePolledFaults (state: PageState, status: StatusResponse, plan: PlanResponse, atMs: number): void {
  if (state.runtimeOk !== undefined && state.runtimeOk !== status.runtime.ok) {
    const err = status.runtime.lastError
    addTimeline(state, atMs, 'fault', status.runtime.ok ? `runtime ${status.runtime.name} reachable again` : `runtime ${status.runtime.name} unreachable${err === undefined ? '' : `: ${err.code} ${err.message}`}`)
  }
  state.runtimeOk = status.runtime.ok
  const maxAgeMs = plan.scaling?.sampleMaxAgeMs
  for (const s of status.signals.signals) {
    const key = `${s.upstream ? 'upstream ' : ''}${s.service} ${s.kind}/${s.scope}`
    const e = s.lastError
    if (e !== undefined && state.seenSignalErrors.get(key) !== e.atMs) {
      state.seenSignalErrors.set(key, e.atMs)
      addTimeline(state, e.atMs, 'fault', `signal ${key}: ${e.code} ${e.message}`)
    }
    if (maxAgeMs === undefined || s.ageMs === undefined) continue
    const stale = s.ageMs > maxAgeMs
    if (stale !== state.staleSignals.has(key)) {
      if (stale) state.staleSignals.add(key); else state.staleSignals.delete(key)
      addTimeline(state, atMs, stale ? 'fault' : 'peer', stale ? `signal ${key} stale: ${formatDuration(s.ageMs)} old, over ${formatDuration(maxAgeMs)}` : `signal ${key} fresh again`)
    }
  }
}

function cardFor (state: PageState, service: string): ServiceCard {
  const known = state.cards.get(service)
  if (known !== undefined) return known
  const root = el('section', undefined, 'service')
  root.dataset.service = service
  root.appendChild(el('h3', service))
  const facts = el('div', '', 'facts')
  const rules = el('div', '', 'note')
  const note = el('div', '', 'note')
  root.append(facts, rules, note)
  const charts = el('div', undefined, 'charts')
  const canvas = (name: string, caption: string): HTMLCanvasElement => {
    const fig = el('figure')
    const c = el('canvas', undefined, `chart chart-${name}`)
    c.dataset.chart = name
    fig.append(c, el('figcaption', caption))
    charts.appendChild(fig)
    return c
  }
  const card: ServiceCard = {
    root,
    facts,
    rules,
    note,
    backlog: canvas('backlog', 'backlog against what the plan is sized for'),
    replicas: canvas('replicas', 'replicas: desired by the plan, running over the site'),
    ages: canvas('ages', 'age of each signal on this host'),
    addChart: canvas,
    ageKeys: new Set(),
  }
  root.appendChild(charts)
  $('services').appendChild(root)
  state.cards.set(service, card)
  return card
}

function redraw (state: PageState): void {
  const { status, plan, sites } = state
  if (status === undefined || plan === undefined) return
  const toMs = Date.now()
  const fromMs = toMs - state.viewMs
  const gapMs = 3 * state.limits.pollIntervalMs + state.limits.fetchTimeoutMs
  const scaling = new Map((plan.scaling?.services ?? []).map(s => [s.service, s]))
  const siteMarkers = state.markers.filter(m => m.kind !== 'scaling').map(m => ({ atMs: m.atMs, color: m.kind === 'fault' ? CHART_COLORS.markerFault : CHART_COLORS.markerElection }))
  for (const [service, card] of state.cards) {
    const h = (key: string): Point[] => state.history.get(`${service}|${key}`) ?? []
    const cfg = scaling.get(service)
    const target = cfg?.targetPerReplica
    drawChart(card.backlog, {
      fromMs, toMs, gapMs, yMaxAtLeast: 1, markers: siteMarkers, thresholds: [],
      series: [
        { id: 'load', label: BACKLOG_LABELS[backlogOf(service, status, plan, sites)?.source ?? 'here'], color: CHART_COLORS.load, points: h('load') },
        { id: 'sizedFor', label: `sized for (desired × ${target === undefined ? '?' : formatNumber(target)})`, color: CHART_COLORS.sizedFor, points: h('sizedFor'), dash: [7, 4], step: true },
      ],
    })
    const scalingMarkers = state.markers.filter(m => m.kind === 'scaling' && m.service === service).map(m => ({ atMs: m.atMs, color: CHART_COLORS.markerScaling }))
    drawChart(card.replicas, {
      fromMs, toMs, gapMs, yMaxAtLeast: Math.max(1, cfg?.minReplicas ?? 0), markers: [...siteMarkers, ...scalingMarkers],
      thresholds: cfg === undefined ? [] : [{ value: cfg.maxReplicas, color: CHART_COLORS.limit, label: `max ${cfg.maxReplicas}` }],
      // Running first, desired dashed over it: where they agree, both stay visible.
      series: [
        { id: 'running', label: 'running', color: CHART_COLORS.running, points: h('running'), step: true },
        { id: 'desired', label: 'desired', color: CHART_COLORS.desired, points: h('desired'), step: true, dash: [6, 5] },
      ],
    })
    const maxAgeMs = plan.scaling?.sampleMaxAgeMs
    drawChart(card.ages, {
      fromMs, toMs, gapMs, yMaxAtLeast: 1, markers: siteMarkers,
      thresholds: maxAgeMs === undefined ? [] : [{ value: maxAgeMs / 1000, color: CHART_COLORS.stale, label: `stale after ${formatDuration(maxAgeMs)}` }],
      series: [...card.ageKeys].sort().map((key, i) => ({ id: `age|${key}`, label: `${key} (s)`, color: CHART_COLORS.ages[i % CHART_COLORS.ages.length], points: h(`age|${key}`) })),
    })
    if (card.forecast !== undefined) {
      drawChart(card.forecast, {
        fromMs, toMs, gapMs, yMaxAtLeast: 1, markers: siteMarkers, thresholds: [],
        series: [
          { id: 'rate', label: 'arrival rate (per s)', color: CHART_COLORS.rate, points: h('rate') },
          { id: 'forecast', label: 'forecast in use (per s)', color: CHART_COLORS.forecast, points: h('forecast'), dash: [6, 4] },
        ],
      })
    }
    showFacts(card, status, plan, sites, service, cfg)
  }
}

function showFacts (card: ServiceCard, status: StatusResponse, plan: PlanResponse, sites: SitesResponse | undefined, service: string, cfg: ServiceScaling | undefined): void {
  const desired = plan.plan?.decisions.find(d => d.service === service)
  const running = siteRunning(status).get(service) ?? 0
  const signals = signalsOf(status, service, cfg)
  const load = backlogOf(service, status, plan, sites)
  const sizedFor = desired !== undefined && cfg !== undefined ? desired.desired * cfg.targetPerReplica : undefined
  const parts = [
    `backlog ${load === undefined ? '?' : formatNumber(load.value)}`,
    sizedFor === undefined ? 'sized for ?' : `sized for ${formatNumber(sizedFor)} (${desired?.desired ?? '?'} × ${formatNumber(cfg?.targetPerReplica ?? 0)} per replica)`,
    `desired ${desired?.desired ?? '?'}${desired?.failingStatic === true ? ' (failing static)' : ''}`,
    `running ${running}`,
    `signals here: ${signals.map(s => `${s.key} ${s.value === undefined ? 'no value' : formatNumber(s.value)}${s.ageMs === undefined ? '' : `, ${formatDuration(s.ageMs)} old`}${s.lastError === undefined ? '' : ` (error ${s.lastError.code})`}`).join('; ') || 'none'}`,
  ]
  card.facts.textContent = parts.join(' · ')
  card.rules.textContent = cfg === undefined
    ? 'not configured on this host'
    : `rules here: ${formatNumber(cfg.targetPerReplica)} per replica · min ${cfg.minReplicas} · max ${cfg.maxReplicas} · tolerance ±${formatNumber(cfg.tolerance * 100)} % · scale up: ${describeRules(cfg.scaleUp)} · scale down: ${describeRules(cfg.scaleDown)}${cfg.upstream === undefined ? '' : ` · upstream ${cfg.upstream.name} saturated at ${formatNumber(cfg.upstream.saturatedAt)}`}`
  card.facts.classList.toggle('over', sizedFor !== undefined && load !== undefined && load.value > sizedFor)
  const source = load?.source ?? 'here'
  card.note.textContent = (source === 'leader'
    ? 'Backlog: the load this host, the leader, counts over the site (every fresh signal of the service summed).'
    : source === 'summary'
      ? `Backlog: the site load in the summary the leader ${status.leaderId} gossips every few seconds.`
      : "Backlog: this host's own signal (no site load known here yet).") +
    ' There is no SLA setting: the backlog is drawn against what the plan is sized for, desired × targetPerReplica; above it, the facts turn red.'
}

function addTimeline (state: PageState, atMs: number, kind: 'election' | 'fault' | 'peer', text: string): void {
  const li = el('li', undefined, `entry entry-${kind}`)
  li.append(el('time', clock(atMs)), el('span', kind, 'tag'), el('span', text))
  prependBounded($('timeline'), li, state.limits.timelineMax)
  if (kind !== 'peer') state.markers.push({ atMs, kind })
  trimMarkers(state)
}

function addDecision (state: PageState, atMs: number, service: string, change: string, reason: string): void {
  const li = el('li', undefined, 'decision')
  li.dataset.service = service
  li.append(el('time', clock(atMs)), el('b', service), el('span', change, 'change'), el('span', reason, 'reason'))
  prependBounded($('decisions'), li, state.limits.decisionsMax)
  state.markers.push({ atMs, kind: 'scaling', service })
  trimMarkers(state)
}

function prependBounded (list: HTMLElement, item: HTMLElement, max: number): void {
  list.prepend(item)
  while (list.childElementCount > max && list.lastElementChild !== null) list.lastElementChild.remove()
}

function trimMarkers (state: PageState): void {
  const fromMs = Date.now() - state.limits.historyMs
  const keep = state.markers.filter(m => m.atMs >= fromMs)
  state.markers = keep.slice(Math.max(0, keep.length - state.limits.decisionsMax - state.limits.timelineMax))
}

/**
 * The event stream, from the oldest event the daemon still keeps (`lastEventId=0`); on a
 * reconnect the browser sends Last-Event-ID, which the daemon prefers, so nothing repeats.
 */
function connectEvents (state: PageState): void {
  const es = new EventSource('/v1/events?lastEventId=0')
  for (const type of EVENT_TYPES) {
    es.addEventListener(type, (ev: MessageEvent<string>) => { onEvent(state, type, ev.data) })
  }
}

function onEvent (state: PageState, type: string, raw: string): void {
  let parsed: unknown
  try { parsed = JSON.parse(raw) } catch { return }
  if (typeof parsed !== 'object' || parsed === null) return
  const data = parsed as Record<string, unknown>
  const atMs = typeof data.atMs === 'number' ? data.atMs : Date.now()
  const line = el('div', `${clock(atMs)} ${type} ${raw}`, `event event-${type}`)
  prependBounded($('events'), line, state.limits.rawEventsMax)
  if (type === 'scaled' && typeof data.service === 'string' && typeof data.from === 'number' && typeof data.to === 'number' && typeof data.recommended === 'number') {
    const d = data as unknown as ScaledEventData
    addDecision(state, atMs, d.service, `${d.from} → ${d.to}`, explainScaling(d))
    return
  }
  const shown = describeEvent(type, data)
  if (shown !== undefined) addTimeline(state, atMs, shown.kind, shown.text)
}
