/**
 * The HTML report: one self-contained page (inline SVG and CSS, a few lines of inline JS, no
 * network) with the summary of every policy side by side, then per site and service a row of
 * charts, one per policy: backlog (filled, right axis) against its SLA, desired replicas
 * (dashed) and running replicas (solid), faults as red lines, leader elections as ticks.
 */
import type { Scenario } from './scenario.js'
import type { PolicySummary, RunResult } from './run-scenario.js'

/** Sites drawn in full; a bigger scenario's report shows the first ones and says so. */
const MAX_SITES_DRAWN = 24
const W = 420
const H = 150
const PAD = { l: 34, r: 44, t: 12, b: 20 }

export function renderReport (result: RunResult, scenario: Scenario): string {
  const s = result.summary
  const sites = scenario.sites.slice(0, MAX_SITES_DRAWN)
  const rows: string[] = []
  for (const site of sites) {
    for (const svc of scenario.services) {
      if (!svc.sites.includes(site.name)) continue
      const charts = result.details.map(d => {
        const pairIndex = result.summary.policies.find(p => p.policy === d.policy)!.pairs.findIndex(p => p.site === site.name && p.service === svc.spec.name)
        if (pairIndex < 0 || d.series.tMs.length === 0) return '<td>no data</td>'
        const rate = d.series.rate?.[pairIndex]
        const forecast = d.series.forecast?.[pairIndex]
        return `<td>${chart(d.series.tMs, d.series.backlog[pairIndex], d.series.desired[pairIndex], d.series.running[pairIndex], svc.slaBacklog,
          d.markers.filter(m => m.kind === 'fault'), d.markers.filter(m => m.kind === 'leader' && m.site === site.name), s.durationS * 1000,
          d.markers.filter(m => m.kind === 'spill' && m.site === site.name))}${
          rate === undefined || forecast === undefined ? '' : `<br>${rateChart(d.series.tMs, rate, forecast, s.durationS * 1000)}`}</td>`
      })
      rows.push(`<tr><th class="row">${esc(site.name)}<br><small>${esc(site.kind)} · ${site.hosts} hosts</small><br>${esc(svc.spec.name)}</th>${charts.join('')}</tr>`)
    }
  }
  const more = scenario.sites.length > sites.length ? `<p>Charts show the first ${sites.length} of ${scenario.sites.length} sites; the summary covers all.</p>` : ''
  const faults = result.details[0]?.markers.filter(m => m.kind === 'fault') ?? []
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>agentmesh sim: ${esc(s.scenario)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:20px;color:#222}
table{border-collapse:collapse}td,th{padding:4px 8px;vertical-align:top}
.summary td,.summary th{border-bottom:1px solid #ddd;text-align:right}.summary th:first-child,.summary td:first-child{text-align:left}
th.row{text-align:left;font-weight:600;white-space:nowrap}small{color:#777;font-weight:400}
.legend span{margin-right:14px}.sw{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:4px}
.broken{color:#b00020;font-weight:600}.held{color:#137333}
svg text{font-size:10px;fill:#555}
</style></head><body>
<h1>${esc(s.scenario)}</h1>
<p>${esc(scenario.description)}</p>
<p>${s.policies[0]?.hosts ?? 0} hosts in ${scenario.sites.length} sites · ${s.durationS} s simulated · seed ${s.seed} · agentmesh ${esc(s.version)}</p>
${summaryTable(s.policies, s.comparison)}
<h2>Faults</h2>
<ul>${faults.map(f => `<li>${fmtTime(f.tMs)}: ${esc(f.text)}</li>`).join('') || '<li>none</li>'}</ul>
<h2>Per site and service</h2>
<p class="legend"><span><i class="sw" style="background:#9ecae1"></i>backlog (right axis)</span><span><i class="sw" style="background:#e6550d"></i>SLA</span>
<span><i class="sw" style="background:#31a354"></i>running</span><span><i class="sw" style="background:#756bb1"></i>desired (dashed)</span>
<span><i class="sw" style="background:#d62728"></i>fault</span><span><i class="sw" style="background:#000"></i>leader elected</span>
<span><i class="sw" style="background:#1f77b4"></i>another site runs overflow (running counts its replicas: they drain this site's queue)</span>
${result.details.some(d => d.series.forecast !== undefined) ? '<br>forecasting runs, second chart: <span><i class="sw" style="background:#555"></i>arrival rate (per s)</span><span><i class="sw" style="background:#ff7f0e"></i>the site leader\'s forecast in use (docs/forecast.md)</span>' : ''}</p>
${more}
<table><tr><th></th>${result.details.map(d => `<th>${esc(d.policy)}</th>`).join('')}</tr>
${rows.join('\n')}
</table>
<script>
// Hovering a chart shows the values at that time (the data are in data-* attributes).
for (const svg of document.querySelectorAll('svg.chart')) {
  const tip = svg.querySelector('.tip'); const t = JSON.parse(svg.dataset.t); const b = JSON.parse(svg.dataset.b)
  const d = JSON.parse(svg.dataset.d); const r = JSON.parse(svg.dataset.r)
  svg.addEventListener('mousemove', ev => {
    const box = svg.getBoundingClientRect(); const x = (ev.clientX - box.left) / box.width
    const i = Math.max(0, Math.min(t.length - 1, Math.round(x * (t.length - 1))))
    tip.textContent = Math.round(t[i] / 1000) + ' s: backlog ' + b[i] + ', desired ' + d[i] + ', running ' + r[i]
  })
}
</script>
</body></html>
`
}

function summaryTable (policies: PolicySummary[], comparison: Record<string, number | null>): string {
  const rows: [string, (p: PolicySummary) => string][] = [
    ['invariants', p => p.invariants.held ? '<span class="held">all held</span>' : `<span class="broken">${esc(p.invariants.violation.invariant)} at ${p.invariants.violation.atS} s</span><br><small>${esc(p.invariants.replay)}</small>`],
    ['SLA violation (s, summed over site × service)', p => String(p.slaViolationS)],
    ['time any backlog above SLA (s)', p => String(p.slaViolationAnyS)],
    ['container-seconds', p => String(p.containerSeconds)],
    ['container-seconds ÷ clairvoyant lower bound', p => p.costOverClairvoyant === null ? '–' : String(p.costOverClairvoyant)],
    ['reaction to load steps p50 / p99 (s)', p => p.reactionS.count === 0 ? '–' : `${p.reactionS.p50} / ${p.reactionS.p99} (${p.reactionS.count})`],
    ['leader failover p50 / max (s)', p => p.failoverS === null || p.failoverS.count === 0 ? '–' : `${p.failoverS.p50} / ${p.failoverS.max} (${p.failoverS.count})`],
    ['gossip propagation p50 / p99 (ms)', p => p.propagationMs === null ? '–' : `${p.propagationMs.p50} / ${p.propagationMs.p99}`],
    ['gossip bytes per host per s', p => p.gossipBytesPerHostPerS === null ? '–' : String(p.gossipBytesPerHostPerS)],
    ['events', p => String(p.events)],
  ]
  const comp = Object.entries(comparison).map(([k, v]) => `<li>${esc(k)}: ${v === null ? '–' : v}</li>`).join('')
  return `<table class="summary"><tr><th></th>${policies.map(p => `<th>${esc(p.policy)}</th>`).join('')}</tr>
${rows.map(([name, f]) => `<tr><td>${esc(name)}</td>${policies.map(p => `<td>${f(p)}</td>`).join('')}</tr>`).join('\n')}
</table>${comp === '' ? '' : `<p>agentmesh ÷ baseline (under 1 favours agentmesh):</p><ul>${comp}</ul>`}`
}

function chart (t: number[], backlog: number[], desired: number[], running: number[], sla: number,
  faults: { tMs: number, text: string }[], leaders: { tMs: number, text: string }[], durationMs: number, spills: { tMs: number, text: string }[] = []): string {
  const iw = W - PAD.l - PAD.r
  const ih = H - PAD.t - PAD.b
  const x = (ms: number): number => PAD.l + iw * ms / Math.max(1, durationMs)
  const maxR = Math.max(1, ...running, ...desired)
  const maxB = Math.max(1, sla * 1.2, ...backlog)
  const yR = (v: number): number => PAD.t + ih - ih * v / maxR
  const yB = (v: number): number => PAD.t + ih - ih * v / maxB
  const step = (vals: number[], y: (v: number) => number): string => {
    let d = ''
    vals.forEach((v, i) => {
      if (v < 0) return
      d += `${d === '' ? 'M' : 'L'}${x(t[i]).toFixed(1)},${y(v).toFixed(1)}`
      if (i + 1 < vals.length) d += `L${x(t[i + 1]).toFixed(1)},${y(v).toFixed(1)}`
    })
    return d
  }
  const area = backlog.length === 0 ? '' : `M${x(t[0]).toFixed(1)},${yB(0).toFixed(1)}` + backlog.map((v, i) => `L${x(t[i]).toFixed(1)},${yB(v).toFixed(1)}`).join('') + `L${x(t[t.length - 1]).toFixed(1)},${yB(0).toFixed(1)}Z`
  const marks = faults.map(f => `<line x1="${x(f.tMs).toFixed(1)}" x2="${x(f.tMs).toFixed(1)}" y1="${PAD.t}" y2="${PAD.t + ih}" stroke="#d62728" stroke-width="1"><title>${fmtTime(f.tMs)} ${esc(f.text)}</title></line>`).join('')
  const ticks = leaders.map(l => `<line x1="${x(l.tMs).toFixed(1)}" x2="${x(l.tMs).toFixed(1)}" y1="${PAD.t - 6}" y2="${PAD.t}" stroke="#000"><title>${fmtTime(l.tMs)} ${esc(l.text)}</title></line>`).join('')
  // Overflow run by another site (spill.ts): a blue tick under the chart at each change.
  const spillTicks = spills.map(m => `<line class="spill" x1="${x(m.tMs).toFixed(1)}" x2="${x(m.tMs).toFixed(1)}" y1="${PAD.t + ih}" y2="${PAD.t + ih + 6}" stroke="#1f77b4" stroke-width="2"><title>${fmtTime(m.tMs)} ${esc(m.text)}</title></line>`).join('')
  return `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" data-t="${JSON.stringify(t)}" data-b="${JSON.stringify(backlog)}" data-d="${JSON.stringify(desired)}" data-r="${JSON.stringify(running)}">
<rect x="${PAD.l}" y="${PAD.t}" width="${iw}" height="${ih}" fill="#fafafa" stroke="#ddd"/>
<path d="${area}" fill="#9ecae1" fill-opacity="0.6"/>
<line x1="${PAD.l}" x2="${PAD.l + iw}" y1="${yB(sla).toFixed(1)}" y2="${yB(sla).toFixed(1)}" stroke="#e6550d" stroke-dasharray="2,2"/>
<path d="${step(desired, yR)}" fill="none" stroke="#756bb1" stroke-width="1.5" stroke-dasharray="4,3"/>
<path d="${step(running, yR)}" fill="none" stroke="#31a354" stroke-width="1.5"/>
${marks}${ticks}${spillTicks}
<text x="${PAD.l - 4}" y="${PAD.t + 8}" text-anchor="end">${maxR}</text><text x="${PAD.l - 4}" y="${PAD.t + ih}" text-anchor="end">0</text>
<text x="${PAD.l + iw + 4}" y="${PAD.t + 8}">${fmtNum(maxB)}</text><text x="${PAD.l + iw + 4}" y="${PAD.t + ih}">0</text>
<text x="${PAD.l}" y="${H - 4}">0</text><text x="${PAD.l + iw}" y="${H - 4}" text-anchor="end">${fmtTime(durationMs)}</text>
<text class="tip" x="${PAD.l + iw / 2}" y="${H - 4}" text-anchor="middle"></text>
</svg>`
}

/** Arrival rate (grey) and the forecast in use (orange, gaps where none), requests/s. */
function rateChart (t: number[], rate: number[], forecast: number[], durationMs: number): string {
  const h = 90
  const iw = W - PAD.l - PAD.r
  const ih = h - PAD.t - PAD.b
  const x = (ms: number): number => PAD.l + iw * ms / Math.max(1, durationMs)
  const max = Math.max(1, ...rate, ...forecast)
  const y = (v: number): number => PAD.t + ih - ih * v / max
  const line = (vals: number[]): string => {
    let d = ''
    let pen = false
    vals.forEach((v, i) => {
      if (v < 0) { pen = false; return }
      d += `${pen ? 'L' : 'M'}${x(t[i]).toFixed(1)},${y(v).toFixed(1)}`
      pen = true
    })
    return d
  }
  return `<svg class="rate" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}">
<rect x="${PAD.l}" y="${PAD.t}" width="${iw}" height="${ih}" fill="#fafafa" stroke="#ddd"/>
<path d="${line(rate)}" fill="none" stroke="#555" stroke-width="1"/>
<path d="${line(forecast)}" fill="none" stroke="#ff7f0e" stroke-width="1.5"/>
<text x="${PAD.l - 4}" y="${PAD.t + 8}" text-anchor="end">${fmtNum(max)}/s</text><text x="${PAD.l - 4}" y="${PAD.t + ih}" text-anchor="end">0</text>
</svg>`
}

function fmtTime (ms: number): string {
  const s = Math.round(ms / 1000)
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor(s % 3600 / 60)).padStart(2, '0')}` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}` : `${s}s`
}

function fmtNum (n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : String(Math.round(n))
}

function esc (s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}
