/**
 * The dashboard in headless Chromium (Debian's chromium, driven by playwright-core): it shows
 * the site's hosts with their state and the leader, and events arrive live.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { chromium, type BrowserContext } from 'playwright-core'
import { Cluster, waitFor } from './harness.js'

const CHROMIUM = '/usr/bin/chromium'

describe('dashboard', { timeout: 90_000 }, () => {
  let cluster: Cluster
  let browser: BrowserContext

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (test/run-all.sh does)`)
    cluster = await Cluster.create({ hosts: [{ hostId: 'd1', site: 'D' }, { hostId: 'd2', site: 'D' }, { hostId: 'd3', site: 'D' }] })
    cluster.startAll()
    // A fresh user data dir each run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'agentmesh-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    })
  })

  after(async () => {
    await browser?.close()
    await cluster?.stopAll()
  })

  it('shows every host of the site, the leader, and live events', async () => {
    const agreed = await waitFor('site D to agree on a leader', async () => await cluster.siteAgreement('D'), 20_000)
    const page = await browser.newPage()
    await page.goto(cluster.byId('d1').url + '/')
    await page.waitForFunction(() => document.querySelectorAll('#members tbody tr').length === 3, undefined, { timeout: 10_000 })
    const rows = await page.$$eval('#members tbody tr', trs => trs.map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.textContent)))
    assert.deepEqual(rows.map(r => r[0]), ['d1', 'd2', 'd3'])
    assert.ok(rows.every(r => r[1] === 'alive'))
    assert.deepEqual(rows.filter(r => r[2] === 'leader').map(r => r[0]), [agreed.leaderId])
    assert.equal(await page.textContent('#conn'), 'live')

    // An event: a peer leaves (SIGTERM: a graceful goodbye) and the page hears of it.
    const leaving = cluster.sups.find(s => s.hostId !== 'd1' && s.hostId !== agreed.leaderId)!
    await leaving.kill('SIGTERM')
    await page.waitForFunction((id) => Array.from(document.querySelectorAll('#events .event-peer')).some(e => e.textContent!.includes(id)), leaving.hostId, { timeout: 10_000 })
    // A goodbye reaps the host at once: its row goes (a crashed host would turn suspect instead).
    await page.waitForFunction((id) => !Array.from(document.querySelectorAll('#members tbody tr')).some(tr => tr.textContent!.includes(id) && tr.textContent!.includes('alive')), leaving.hostId, { timeout: 10_000 })
    await page.close()
  })
})
