/**
 * The dashboard at `/`: one self-contained page (no external assets) that polls /v1/status and
 * /v1/sites every second and appends /v1/events as they come. Everything from peers is put in
 * the page with textContent, never as HTML.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>agentmesh</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; background: #fafbfc; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  .sub { color: #57606a; }
  table { border-collapse: collapse; min-width: 40rem; background: #fff; }
  th, td { text-align: left; padding: .3rem .7rem; border-bottom: 1px solid #d0d7de; }
  th { background: #f0f2f4; font-weight: 600; }
  .alive { color: #1a7f37; } .suspect { color: #9a6700; } .dead { color: #cf222e; }
  .leader { font-weight: 600; }
  #events { font: 12px ui-monospace, monospace; max-height: 18rem; overflow: auto; background: #fff; border: 1px solid #d0d7de; padding: .5rem; min-width: 40rem; }
  #conn { float: right; }
  .ok { color: #1a7f37; } .bad { color: #cf222e; }
</style>
</head>
<body>
<span id="conn" class="bad">connecting…</span>
<h1>agentmesh <span id="host"></span></h1>
<div class="sub" id="summary"></div>
<h2>Site <span id="site"></span></h2>
<table id="members"><thead><tr><th>host</th><th>state</th><th>role</th><th>incarnation</th><th>term</th><th>last heard</th></tr></thead><tbody></tbody></table>
<h2>Sites</h2>
<table id="sites"><thead><tr><th>site</th><th>leader</th><th>term</th><th>hosts alive</th><th>slots free / total</th><th>seen</th></tr></thead><tbody></tbody></table>
<h2>Events</h2>
<div id="events"></div>
<script>
'use strict'
const $ = (id) => document.getElementById(id)
function row (cells, cls) {
  const tr = document.createElement('tr')
  for (const c of cells) {
    const td = document.createElement('td')
    td.textContent = String(c[0])
    if (c[1]) td.className = c[1]
    tr.appendChild(td)
  }
  if (cls) tr.className = cls
  return tr
}
function fill (table, rows) {
  const body = table.querySelector('tbody')
  body.replaceChildren(...rows)
}
function ago (ms) { return ms === null || ms === undefined ? '-' : (ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s') + ' ago' }
async function refresh () {
  try {
    const [status, sites] = await Promise.all([fetch('/v1/status').then(r => r.json()), fetch('/v1/sites').then(r => r.json())])
    $('conn').textContent = 'live'; $('conn').className = 'ok'
    $('host').textContent = status.hostId
    $('site').textContent = status.site
    $('summary').textContent = 'role ' + status.role + ' · term ' + status.term + ' · leader ' + (status.leaderId || 'none') +
      ' · incarnation ' + status.incarnation + ' · runtime ' + status.runtime.name + ' · ' + status.connections + ' connections'
    const self = { hostId: status.hostId, state: 'alive', incarnation: status.incarnation, term: status.term, lastHeardAgoMs: 0 }
    const members = [self, ...status.peers].sort((a, b) => a.hostId < b.hostId ? -1 : 1)
    fill($('members'), members.map(p => row([
      [p.hostId], [p.state, p.state], [p.hostId === status.leaderId ? 'leader' : 'follower'], [p.incarnation], [p.term], [ago(p.lastHeardAgoMs)],
    ], p.hostId === status.leaderId ? 'leader' : '')))
    fill($('sites'), sites.sites.map(s => row([
      [s.site], [s.leaderId || 'none'], [s.term], [s.hostsAlive], [s.slotsFree + ' / ' + s.slotsTotal], [s.local ? 'this site' : ago(s.seenAgoMs)],
    ])))
  } catch (e) {
    $('conn').textContent = 'disconnected'; $('conn').className = 'bad'
  }
}
function connectEvents () {
  const es = new EventSource('/v1/events')
  for (const type of ['peer', 'election', 'leader', 'plan', 'scaled', 'fault']) {
    es.addEventListener(type, (ev) => {
      const line = document.createElement('div')
      line.className = 'event event-' + type
      line.textContent = new Date().toISOString().slice(11, 23) + ' ' + type + ' ' + ev.data
      const box = $('events')
      box.prepend(line)
      while (box.childNodes.length > 200) box.removeChild(box.lastChild)
    })
  }
}
refresh()
setInterval(refresh, 1000)
connectEvents()
</script>
</body>
</html>
`
