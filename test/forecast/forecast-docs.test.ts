/** docs/forecast.md names every forecast error code, fallback reason, limit and metric, so they cannot drift apart. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FORECAST_FALLBACK_REASONS } from '../../node/core/forecast-check.js'
import { FORECAST_DEFAULTS, FORECAST_LIMITS } from '../../node/core/forecast-limits.js'
import { ForecastErrorCode } from '../../node/forecast/errors.js'
import { DaemonMetrics } from '../../node/daemon/metrics.js'
import { REPO_ROOT } from '../daemon/harness.js'

const page = readFileSync(join(REPO_ROOT, 'docs', 'forecast.md'), 'utf8')

describe('docs/forecast.md', () => {
  it('names every error code and every fallback reason', () => {
    for (const code of Object.values(ForecastErrorCode)) assert.ok(page.includes(`\`${code}\``), `lacks ${code}`)
    for (const reason of FORECAST_FALLBACK_REASONS) assert.ok(page.includes(`| \`${reason}\` |`), `lacks reason ${reason}`)
  })

  it('names every limit and default', () => {
    for (const k of Object.keys(FORECAST_LIMITS)) assert.ok(page.includes(k), `lacks FORECAST_LIMITS.${k}`)
    for (const k of Object.keys(FORECAST_DEFAULTS)) assert.ok(page.includes(k) || k === 'stepMs', `lacks FORECAST_DEFAULTS.${k}`)
  })

  it('names the forecast metrics', async () => {
    const names = (await new DaemonMetrics().registry.getMetricsAsJSON()).map(m => m.name).filter(n => n.startsWith('agentmesh_forecast_'))
    assert.equal(names.length, 2)
    for (const n of names) assert.ok(page.includes(`\`${n}\``), `lacks ${n}`)
  })
})
