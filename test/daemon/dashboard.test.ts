/**
 * The dashboard in headless Chromium (Debian's chromium, driven by playwright-core), against a
 * real site of three supervisors that run agents as processes (`runtime.kind: process`):
 * - a load step pushed to the leader shows in its charts (backlog against what the plan is
 *   sized for, desired and running replicas, signal age), which are checked in screenshots by
 *   their pixels; the plan lists the hosts with their replicas, and the scaling decision is
 *   listed with its reason (the rate limit held it); a follower's page lists the next step;
 * - the page runs under its Content-Security-Policy with no error;
 * - the site's hosts with their state and the leader, and a peer leaving, arrive live.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateSync } from 'node:zlib'
import { after, before, describe, it } from 'node:test'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { CHART_COLORS } from '../../node/daemon/dashboard-page.js'
import { Cluster, TEST_TOKEN, waitFor, type Supervisor } from './harness.js'

const CHROMIUM = '/usr/bin/chromium'
/** Bound on each wait for the page. */
const PAGE_WAIT_MS = 20_000
const BASELINE = 5
const STEP = 35
const TARGET_PER_REPLICA = 10
/** The chart's plot area inside a canvas screenshot (dashboard-page.ts MARGIN, plus the 1 px border). */
const PLOT = { left: 48, right: 14, top: 28, bottom: 22 }

describe('dashboard', { timeout: 90_000 }, () => {
  const marker = `agentmesh-dash-${randomBytes(4).toString('hex')}`
  const shots = mkdtempSync(join(tmpdir(), 'agentmesh-dashboard-shots-'))
  const pageErrors: string[] = []
  let cluster: Cluster
  let browser: BrowserContext
  let leader: Supervisor

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (test/run-all.sh does)`)
    cluster = await Cluster.create({
      hosts: [{ hostId: 'd1', site: 'D' }, { hostId: 'd2', site: 'D' }, { hostId: 'd3', site: 'D' }],
      common: {
        log: { level: 'warn' },
        // Pushed once: the step must not go stale (and fail static) while the test looks at it.
        timings: { sampleMaxAgeMs: 60_000 },
        runtime: { kind: 'process', resyncIntervalMs: 1000 },
        services: [{
          name: 'ingest',
          targetPerReplica: TARGET_PER_REPLICA,
          minReplicas: 1,
          maxReplicas: 4,
          // One replica per 5 s: the step (4 recommended) is applied 1 → 2 → 3 → 4, held by the rate limit.
          scaleUp: { stabilizationMs: 0, policies: [{ type: 'pods', value: 1, periodMs: 5000 }] },
          agent: { command: [process.execPath, '-e', 'setInterval(() => {}, 60000)', marker], stopTimeoutMs: 1000 },
        }],
        signals: [{ service: 'ingest', kind: 'push', scope: 'site' }],
      },
    })
    cluster.startAll()
    // A fresh user data dir each run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'agentmesh-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    })
    const agreed = await waitFor('site D to agree on a leader', async () => await cluster.siteAgreement('D').catch(() => undefined), 20_000)
    leader = cluster.byId(agreed.leaderId)
  })

  after(async () => {
    await browser?.close()
    await cluster?.stopAll()
    // Agents are detached process groups: they outlive a killed supervisor by design.
    for (const pid of agentPids(marker)) { try { process.kill(-pid, 'SIGKILL') } catch { try { process.kill(pid, 'SIGKILL') } catch {} } }
  })

  const open = async (sup: Supervisor): Promise<Page> => {
    const page = await browser.newPage()
    page.on('pageerror', (err) => pageErrors.push(`${sup.hostId}: ${err.message}`))
    page.on('console', (msg) => { if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) pageErrors.push(`${sup.hostId}: ${msg.text()}`) })
    const res = await page.goto(sup.url + '/')
    assert.match(res?.headers()['content-security-policy'] ?? '', /script-src 'sha256-/)
    return page
  }
  const push = async (value: number): Promise<void> => {
    const res = await leader.post('/v1/signals', { service: 'ingest', value }, TEST_TOKEN)
    assert.equal(res.status, 200, await res.text())
  }
  /** What the chart of that kind last drew for ingest: points in view and the last value of each series. */
  const chartData = async (page: Page, chart: string): Promise<{ counts: Record<string, number>, last: Record<string, number> }> =>
    await page.$eval(`section[data-service="ingest"] canvas[data-chart="${chart}"]`, (c) => ({
      counts: JSON.parse((c as HTMLCanvasElement).dataset.counts ?? '{}') as Record<string, number>,
      last: JSON.parse((c as HTMLCanvasElement).dataset.last ?? '{}') as Record<string, number>,
    }))

  /** page.waitForFunction, failing with what the page shows (charts' data, decisions, timeline) and a screenshot. */
  const waitPage = async (page: Page, what: string, fn: (arg: number) => boolean, arg = 0): Promise<void> => {
    try {
      await page.waitForFunction(fn, arg, { timeout: PAGE_WAIT_MS })
    } catch (err) {
      const shown = await page.evaluate(() => ({
        charts: Array.from(document.querySelectorAll<HTMLCanvasElement>('canvas[data-chart]')).map(c => `${c.dataset.chart}: ${c.dataset.counts} ${c.dataset.last}`),
        facts: document.querySelector('.facts')?.textContent,
        decisions: Array.from(document.querySelectorAll('#decisions li')).map(li => li.textContent),
        timeline: Array.from(document.querySelectorAll('#timeline li')).map(li => li.textContent),
      })).catch(() => undefined)
      writeFileSync(join(shots, 'failed.png'), await page.screenshot({ fullPage: true }))
      throw new Error(`waiting for ${what}: ${(err as Error).message}\npage: ${JSON.stringify(shown, null, 1)}\nscreenshot: ${join(shots, 'failed.png')}`)
    }
  }

  it('charts a load step, lists the plan per host and the scaling decision with its reason', async (t) => {
    await push(BASELINE)
    const page = await open(leader)
    await page.waitForSelector('#view option[value="60000"]', { state: 'attached', timeout: PAGE_WAIT_MS })
    await page.selectOption('#view', '60000')
    // Data before the step: a few samples of the baseline.
    await waitPage(page, 'the baseline charted', (base) => {
      const c = document.querySelector<HTMLCanvasElement>('section[data-service="ingest"] canvas[data-chart="backlog"]')
      return c !== null && JSON.parse(c.dataset.counts ?? '{}').load >= 6 && JSON.parse(c.dataset.last ?? '{}').load === base
    }, BASELINE)

    await push(STEP)
    await waitPage(page, 'the decision 1 → 2', () => Array.from(document.querySelectorAll('#decisions li[data-service="ingest"]')).some(li => li.textContent!.includes('1 → 2')))
    const reason = await page.$$eval('#decisions li[data-service="ingest"]', lis => lis.map(li => li.textContent!).find(t => t.includes('1 → 2'))!)
    assert.match(reason, /load 35 ÷ 10 per replica → 4 recommended/)
    assert.match(reason, /held at 2 \(4 recommended\) by the scale-up rate limit \(1 replica per 5 s\)/)

    // The charts have data after the step: the load at the step, two replicas wanted and running.
    await waitPage(page, 'the step in every chart', () => {
      const last = (chart: string): Record<string, number> => JSON.parse(document.querySelector<HTMLCanvasElement>(`section[data-service="ingest"] canvas[data-chart="${chart}"]`)?.dataset.last ?? '{}')
      return last('backlog').load === 35 && last('backlog').sizedFor >= 20 && last('replicas').desired >= 2 && last('replicas').running >= 2 && last('ages')['age|push/site'] !== undefined
    })
    // A few samples after the step, so the step is a line, not a point.
    const stepPoints = (await chartData(page, 'backlog')).counts.load
    await waitPage(page, 'samples after the step', (n) => JSON.parse(document.querySelector<HTMLCanvasElement>('section[data-service="ingest"] canvas[data-chart="backlog"]')!.dataset.counts ?? '{}').load >= n + 3, stepPoints)

    // The plan: every host of the plan with its share, adding up to the desired count.
    const plan = await page.$$eval('#plan tbody tr[data-host]', trs => trs.map(tr => {
      const td = tr.querySelector<HTMLElement>('td[data-service="ingest"]')!
      return { host: tr.dataset.host!, wanted: Number(td.dataset.wanted), running: Number(td.dataset.running), text: tr.textContent! }
    }))
    const desired = (await chartData(page, 'replicas')).last.desired
    assert.ok(plan.length >= 1, 'the plan lists hosts')
    assert.ok(plan.every(h => ['d1', 'd2', 'd3'].includes(h.host)), JSON.stringify(plan))
    assert.equal(plan.reduce((a, h) => a + h.wanted, 0), desired, JSON.stringify(plan))
    assert.ok(plan.some(h => h.wanted >= 1 && h.text.includes(`${h.wanted} · `)), JSON.stringify(plan))

    // Screenshots: the whole page for a person, and each chart checked by its pixels.
    writeFileSync(join(shots, 'leader.png'), await page.screenshot({ fullPage: true }))
    const shot = async (chart: string): Promise<Png> => {
      const png = await page.locator(`section[data-service="ingest"] canvas[data-chart="${chart}"]`).screenshot()
      writeFileSync(join(shots, `${chart}.png`), png)
      return decodePng(png)
    }
    const backlog = await shot('backlog')
    const replicas = await shot('replicas')
    const ages = await shot('ages')
    t.diagnostic(`screenshots in ${shots}`)

    // Backlog (a one-minute view): the load line is drawn, low before the step (5 of a 50 axis:
    // a stretch in the lower quarter, not only the rise) and high after it, at the right end.
    const load = pixels(backlog, CHART_COLORS.load, WHOLE)
    assert.ok(load.count >= 60, `load line pixels: ${load.count}`)
    const low = pixels(backlog, CHART_COLORS.load, { x0: 0, x1: 1, y0: 0.75, y1: 1 })
    assert.ok(low.xMax - low.xMin >= 20, `the baseline is a line in the lower quarter: ${JSON.stringify(low)}`)
    const high = pixels(backlog, CHART_COLORS.load, { x0: 0.9, x1: 1, y0: 0, y1: 0.5 })
    assert.ok(high.count > 0 && low.xMin < high.xMin, `the step is drawn in the upper half at the right, after the baseline: ${JSON.stringify({ low, high })}`)
    assert.ok(pixels(backlog, CHART_COLORS.sizedFor, WHOLE).count >= 40, 'the sized-for line is drawn')
    // Replicas: desired and running both drawn.
    assert.ok(pixels(replicas, CHART_COLORS.desired, WHOLE).count >= 40, 'desired replicas drawn')
    assert.ok(pixels(replicas, CHART_COLORS.running, WHOLE).count >= 40, 'running replicas drawn')
    // Signal age: the push signal's age line.
    assert.ok(pixels(ages, CHART_COLORS.ages[0], WHOLE).count >= 40, 'signal age drawn')

    // A follower's page: no scaled events there; the next step is read from the plans it adopts.
    const follower = cluster.sups.find(s => s.hostId !== leader.hostId)!
    const fpage = await open(follower)
    await waitPage(fpage, 'a decision on the follower', () => Array.from(document.querySelectorAll('#decisions li[data-service="ingest"]')).some(li => /[23] → [34]/.test(li.textContent!) && li.textContent!.includes('from leader')))
    writeFileSync(join(shots, 'follower.png'), await fpage.screenshot({ fullPage: true }))
    await fpage.close()
    await page.close()
    assert.deepEqual(pageErrors, [])
  })

  it('shows every host of the site, the leader, and live events', async () => {
    const agreed = await waitFor('site D to agree on a leader', async () => await cluster.siteAgreement('D'), 20_000)
    const page = await open(cluster.byId('d1'))
    await page.waitForFunction(() => document.querySelectorAll('#members tbody tr').length === 3, undefined, { timeout: 10_000 })
    const rows = await page.$$eval('#members tbody tr', trs => trs.map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent)))
    assert.deepEqual(rows.map(r => r[0]), ['d1', 'd2', 'd3'])
    assert.ok(rows.every(r => r[1] === 'alive'))
    assert.deepEqual(rows.filter(r => r[2] === 'leader').map(r => r[0]), [agreed.leaderId])
    assert.equal(await page.textContent('#conn'), 'live')
    // The election that made the leader is still in the daemon's history: replayed into the timeline.
    await page.waitForFunction(() => document.querySelectorAll('#timeline .entry-election').length > 0, undefined, { timeout: 10_000 })

    // An event: a peer leaves (SIGTERM: a graceful goodbye) and the page hears of it.
    const leaving = cluster.sups.find(s => s.hostId !== 'd1' && s.hostId !== agreed.leaderId)!
    await leaving.kill('SIGTERM')
    await page.waitForFunction((id) => Array.from(document.querySelectorAll('#events .event-peer')).some(e => e.textContent!.includes(id)), leaving.hostId, { timeout: 10_000 })
    await page.waitForFunction((id) => Array.from(document.querySelectorAll('#timeline li')).some(e => e.textContent!.includes(`host ${id}`)), leaving.hostId, { timeout: 10_000 })
    // A goodbye reaps the host at once: its row goes (a crashed host would turn suspect instead).
    await page.waitForFunction((id) => !Array.from(document.querySelectorAll('#members tbody tr')).some(tr => tr.textContent!.includes(id) && tr.textContent!.includes('alive')), leaving.hostId, { timeout: 10_000 })
    await page.close()
    assert.deepEqual(pageErrors, [])
  })
})

/** Pids of live processes whose command line holds `marker`. */
function agentPids (marker: string): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(marker)) out.push(Number(name))
    } catch { /* exited meanwhile */ }
  }
  return out
}

// ---- reading screenshots -------------------------------------------------------------------------

interface Png { width: number, height: number, rgba: Uint8Array }

/** Decodes the PNGs Chromium writes: 8-bit RGB or RGBA, not interlaced (anything else fails the test). */
function decodePng (buf: Buffer): Png {
  assert.equal(buf.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature')
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  for (let at = 8; at < buf.length;) {
    const len = buf.readUInt32BE(at)
    const type = buf.subarray(at + 4, at + 8).toString('latin1')
    const data = buf.subarray(at + 8, at + 8 + len)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      assert.equal(data[8], 8, 'bit depth 8')
      assert.ok(data[9] === 2 || data[9] === 6, `colour type ${data[9]}`)
      assert.equal(data[12], 0, 'not interlaced')
      channels = data[9] === 6 ? 4 : 3
    } else if (type === 'IDAT') {
      idat.push(data)
    }
    at += 12 + len
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const out = new Uint8Array(width * height * 4)
  const prev = new Uint8Array(stride)
  const cur = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0
      const b = prev[i]
      const c = i >= channels ? prev[i - channels] : 0
      const p = a + b - c
      const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c)
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
      cur[i] = (line[i] + pred) & 0xff
    }
    for (let x = 0; x < width; x++) {
      out.set([cur[x * channels], cur[x * channels + 1], cur[x * channels + 2], channels === 4 ? cur[x * channels + 3] : 255], (y * width + x) * 4)
    }
    prev.set(cur)
  }
  return { width, height, rgba: out }
}

interface Part { x0: number, x1: number, y0: number, y1: number }
const WHOLE: Part = { x0: 0, x1: 1, y0: 0, y1: 1 }

/**
 * Pixels near `color` in a part of a chart's plot area (fractions of its width and height, y
 * from the top), with the columns of the leftmost and rightmost of them.
 */
function pixels (png: Png, color: string, part: Part): { count: number, xMin: number, xMax: number } {
  const want = [1, 3, 5].map(i => parseInt(color.slice(i, i + 2), 16))
  const plotW = png.width - PLOT.left - PLOT.right
  const plotH = png.height - PLOT.top - PLOT.bottom
  const xs = [PLOT.left + Math.floor(part.x0 * plotW), PLOT.left + Math.ceil(part.x1 * plotW)]
  const ys = [PLOT.top + Math.floor(part.y0 * plotH), PLOT.top + Math.ceil(part.y1 * plotH)]
  let count = 0
  let xMin = Infinity
  let xMax = -Infinity
  for (let y = ys[0]; y < ys[1]; y++) {
    for (let x = xs[0]; x < xs[1]; x++) {
      const i = (y * png.width + x) * 4
      const d = Math.abs(png.rgba[i] - want[0]) + Math.abs(png.rgba[i + 1] - want[1]) + Math.abs(png.rgba[i + 2] - want[2])
      if (d > 30) continue
      count++
      xMin = Math.min(xMin, x)
      xMax = Math.max(xMax, x)
    }
  }
  return { count, xMin, xMax }
}
