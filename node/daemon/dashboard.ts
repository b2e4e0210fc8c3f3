/**
 * The dashboard at `/`: one self-contained page, no external assets (operators' hosts may have
 * no internet). Its script is dashboard-page.ts, compiled by tsc like the rest and inlined here
 * as a module script; the page is served with a Content-Security-Policy that allows exactly
 * that script and that style by their SHA-256 and lets the page talk only to this daemon, so
 * nothing injected (a host id, a signal error) could run even if it reached the page as HTML.
 * What the page shows and how is described in dashboard-page.ts.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { PageLimits } from './dashboard-page.js'

/**
 * The page's limits. Polling three routes once a second costs 3 of http.requestsPerSecond
 * (50) per open tab. History: 15 min of one-second samples per series (900 points, some
 * 10 series per service); the event lists keep the newest entries and drop the oldest.
 */
export const DASHBOARD_LIMITS: PageLimits = {
  /** /v1/status, /v1/plan and /v1/sites are fetched this often (one poll at a time), ms. */
  pollIntervalMs: 1000,
  /** One poll's requests are given up after this, ms (the page then shows "disconnected"). */
  fetchTimeoutMs: 3000,
  /** Samples older than this are dropped from the page's history, ms. */
  historyMs: 15 * 60_000,
  /** At most this many points per series (the oldest are dropped); 1.5 × the history at the poll rate. */
  historyPointsMax: 1350,
  /** Spans the charts can show (a selector), ms; each at most historyMs. */
  viewsMs: [60_000, 5 * 60_000, 15 * 60_000],
  viewMsDefault: 5 * 60_000,
  /** Scaling decisions listed; the oldest is dropped. */
  decisionsMax: 200,
  /** Faults and elections listed; the oldest is dropped. */
  timelineMax: 200,
  /** Raw events listed; the oldest is dropped. */
  rawEventsMax: 200,
  /** Services charted (the protocol allows more; the rest are left out, by name order). */
  servicesMax: 32,
}

function checkLimits (l: PageLimits): void {
  const problems: string[] = []
  if (l.fetchTimeoutMs < l.pollIntervalMs) problems.push('fetchTimeoutMs must be at least pollIntervalMs')
  if (l.historyPointsMax < l.historyMs / l.pollIntervalMs) problems.push('historyPointsMax must hold historyMs of samples at pollIntervalMs')
  if (!l.viewsMs.every(v => v > 0 && v <= l.historyMs)) problems.push('every view must be within historyMs')
  if (!l.viewsMs.includes(l.viewMsDefault)) problems.push('viewMsDefault must be one of viewsMs')
  if (problems.length > 0) throw new Error(`DASHBOARD_LIMITS: ${problems.join('; ')}`)
}
checkLimits(DASHBOARD_LIMITS)

/**
 * The page's script: the compiled dashboard-page.js (it imports nothing but types, which tsc
 * drops), without its source-map comment, then the call that starts it.
 */
function pageScript (): string {
  const compiled = readFileSync(new URL('./dashboard-page.js', import.meta.url), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n')
  return `${compiled}\ndashboardMain(${JSON.stringify(DASHBOARD_LIMITS)})\n`
}

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #f6f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.6rem 0 .5rem; }
  h3 { font-size: 1rem; margin: 0 0 .25rem; }
  .sub, .note, figcaption { color: #57606a; }
  .note, figcaption { font-size: 12px; }
  table { border-collapse: collapse; min-width: 40rem; background: #fff; }
  th, td { text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #d0d7de; }
  th { background: #f0f2f4; font-weight: 600; }
  .alive { color: #1a7f37; } .suspect { color: #9a6700; } .dead { color: #cf222e; }
  .leader, tr.self td:first-child, tr.total td { font-weight: 600; }
  td.moving { color: #9a6700; }
  #conn { float: right; }
  #view { float: right; margin-top: -.2rem; }
  .ok { color: #1a7f37; } .bad { color: #cf222e; }
  .service { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; }
  .facts { font-size: 13px; margin: .2rem 0; }
  .facts.over { color: #cf222e; }
  .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: .75rem; margin-top: .5rem; }
  figure { margin: 0; }
  canvas.chart { width: 100%; height: 190px; display: block; border: 1px solid #eaeef2; }
  .lists { display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 1rem; }
  ol.log { list-style: none; margin: 0; padding: .5rem; background: #fff; border: 1px solid #d0d7de; max-height: 20rem; overflow: auto; font-size: 13px; }
  ol.log li { padding: .2rem 0; border-bottom: 1px solid #eaeef2; }
  ol.log time { font: 12px ui-monospace, monospace; color: #57606a; margin-right: .5rem; }
  ol.log b, ol.log .change, ol.log .tag { margin-right: .5rem; }
  .change { font-weight: 600; }
  .reason { color: #424a53; }
  .tag { font-size: 11px; text-transform: uppercase; color: #57606a; }
  .entry-fault .tag { color: #cf222e; } .entry-election .tag { color: #9a6700; }
  #events { font: 12px ui-monospace, monospace; max-height: 18rem; overflow: auto; background: #fff; border: 1px solid #d0d7de; padding: .5rem; }
`

const BODY = `
<span id="conn" class="bad">connecting…</span>
<h1>agentmesh <span id="host"></span></h1>
<div class="sub" id="summary"></div>
<h2>Services <select id="view" aria-label="time span of the charts"></select></h2>
<div id="services"></div>
<h2>Plan</h2>
<div class="sub" id="plan-summary">no plan adopted yet</div>
<table id="plan"></table>
<div class="lists">
<div><h2>Scaling decisions</h2><ol id="decisions" class="log"></ol></div>
<div><h2>Faults and elections</h2><ol id="timeline" class="log"></ol></div>
</div>
<h2>Site <span id="site"></span></h2>
<table id="members"><thead><tr><th>host</th><th>state</th><th>role</th><th>incarnation</th><th>term</th><th>last heard</th></tr></thead><tbody></tbody></table>
<h2>Sites</h2>
<table id="sites"><thead><tr><th>site</th><th>leader</th><th>term</th><th>hosts alive</th><th>slots free / total</th><th>seen</th></tr></thead><tbody></tbody></table>
<details><summary>All events</summary><div id="events"></div></details>
`

const SCRIPT = pageScript()
// An end tag inside the script would end it early in the HTML parser.
if (SCRIPT.toLowerCase().includes('</script')) throw new Error('the dashboard script contains "</script"')

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`

/**
 * Only this page's own script and style run; it may fetch from this daemon only (`connect-src
 * 'self'`: /v1/* and the event stream); no images, frames, forms or base URL.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Headers of the page besides those every answer has. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'referrer-policy': 'no-referrer',
}

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agentmesh</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script type="module">${SCRIPT}</script>
</body>
</html>
`
