/**
 * The Grafana dashboard (deploy/grafana/agentmesh.json) against a live supervisor: every
 * expression names only metrics the daemon exports (histograms by their _bucket/_sum/_count
 * series), every panel uses the dashboard's data source variable and sits on the grid, and
 * the label names the expressions group by exist on those metrics. A renamed metric breaks
 * this test, not an operator's dashboard.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { Cluster, TEST_TOKEN, waitFor, type Supervisor } from './harness.js'

const DASHBOARD = fileURLToPath(new URL('../../../deploy/grafana/agentmesh.json', import.meta.url))

interface Panel { type: string, title: string, datasource?: { uid: string }, gridPos: { x: number, y: number, w: number, h: number }, targets?: Array<{ expr: string }> }

/** Metric families in a /metrics text: name → type, with the label names seen in HELP'd series. */
function families (text: string): Map<string, { type: string, labels: Set<string> }> {
  const out = new Map<string, { type: string, labels: Set<string> }>()
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line)
    if (t !== null) out.set(t[1], { type: t[2], labels: new Set() })
  }
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)\{([^}]*)\}/.exec(line)
    if (m === null) continue
    const family = out.get(m[1]) ?? out.get(m[1].replace(/_(bucket|sum|count)$/, ''))
    for (const pair of m[2].split(',')) family?.labels.add(pair.slice(0, pair.indexOf('=')))
  }
  return out
}

describe('the Grafana dashboard', { timeout: 60_000 }, () => {
  let cluster: Cluster
  let sup: Supervisor
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid: string, title: string, panels: Panel[], templating: { list: Array<{ name: string }> } }

  before(async () => {
    cluster = await Cluster.create({
      hosts: [{ hostId: 'g1', site: 'G' }],
      common: { services: [{ name: 'svc', targetPerReplica: 10, minReplicas: 1, maxReplicas: 2, upstream: { name: 'broker' } }], signals: [{ service: 'svc', kind: 'push' }, { upstream: 'broker', kind: 'push' }] },
    })
    sup = cluster.sups[0]
    sup.start()
    await waitFor('g1 leads and has a plan', async () => (await sup.status()).role === 'leader' && (await sup.get<{ plan: unknown }>('/v1/plan')).plan !== null ? true : undefined, 30_000)
    // Values for both push signals, so their series (and labels) are on /metrics.
    const res = await sup.post('/v1/signals', { signals: [{ service: 'svc', value: 5 }, { service: 'broker', value: 0.2, upstream: true }] }, TEST_TOKEN)
    assert.equal(res.status, 200, await res.text())
    await waitFor('the signal series', async () => (await sup.metricsText()).includes('agentmesh_signal_value{') || undefined, 10_000)
  })
  after(async () => { await cluster?.stopAll() })

  it('is a dashboard Grafana can provision: a uid, the data source and host variables, panels on the grid', () => {
    assert.equal(dashboard.uid, 'agentmesh')
    assert.deepEqual(dashboard.templating.list.map(v => v.name), ['datasource', 'instance'])
    for (const p of dashboard.panels) {
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`)
      if (p.type === 'row') continue
      assert.equal(p.datasource?.uid, '${datasource}', `${p.title} uses the data source variable`)
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`)
    }
  })

  it('names only metrics the daemon exports, grouped by labels they carry', async () => {
    const exported = families(await sup.metricsText())
    const problems: string[] = []
    for (const p of dashboard.panels) {
      for (const { expr } of p.targets ?? []) {
        for (const [name] of expr.matchAll(/\bagentmesh_[a-z0-9_]+/g)) {
          const base = name.replace(/_(bucket|sum|count)$/, '')
          const family = exported.get(name) ?? exported.get(base)
          if (family === undefined) { problems.push(`${p.title}: ${name} is not exported`); continue }
          if (name !== base && family.type !== 'histogram') problems.push(`${p.title}: ${name} but ${base} is a ${family.type}`)
        }
        for (const m of expr.matchAll(/\bby \(([^)]*)\)/g)) {
          for (const label of m[1].split(',').map(s => s.trim()).filter(l => l !== 'le' && l !== 'instance')) {
            const metrics = [...expr.matchAll(/\bagentmesh_[a-z0-9_]+/g)].map(x => x[0].replace(/_(bucket|sum|count)$/, ''))
            if (!metrics.some(n => exported.get(n)?.labels.has(label) === true || exported.get(n)?.labels.size === 0)) problems.push(`${p.title}: no metric of "${expr}" has the label ${label}`)
          }
        }
      }
    }
    assert.deepEqual(problems, [])
  })
})
