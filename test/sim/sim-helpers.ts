import { fileURLToPath } from 'node:url'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** The repository root (tests run from dist/test/sim). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const SCENARIOS_DIR = join(ROOT, 'sim', 'scenarios')
export const FIXTURES_DIR = join(ROOT, 'test', 'sim', 'fixtures')
export const CLI = join(ROOT, 'dist', 'cli', 'agentmesh.js')

export function shippedScenarios (): string[] {
  return readdirSync(SCENARIOS_DIR).filter(f => f.endsWith('.yaml')).sort().map(f => join('sim', 'scenarios', f))
}

/** The real-trace set (sim/scenarios/trace-set/), as paths relative to the root. */
export function traceSetScenarios (): string[] {
  return readdirSync(join(SCENARIOS_DIR, 'trace-set')).filter(f => f.endsWith('.yaml')).sort().map(f => join('sim', 'scenarios', 'trace-set', f))
}
