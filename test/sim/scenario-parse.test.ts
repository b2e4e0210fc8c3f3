import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { FAULT_KINDS, parseDurationMs, parseScenario, SCENARIO_FIELDS } from '../../sim/scenario-parse.js'
import { SimError } from '../../sim/errors.js'
import { parseTraceCsv } from '../../sim/trace-csv.js'
import { rateAt } from '../../sim/load-shapes.js'
import { ROOT } from './sim-helpers.js'
import { readDoc } from '../docs/doc-files.js'

const MINIMAL = `name: t
sites: [ { name: a, kind: cloud, hosts: 2 } ]
services: [ { name: s, targetPerReplica: 10, drainPerReplica: 5, sla: 100 } ]
`

function problems (text: string): string[] {
  try {
    parseScenario(text, { file: 'x.yaml', baseDir: ROOT })
  } catch (err) {
    assert.ok(err instanceof SimError)
    return [...err.problems]
  }
  return []
}

describe('scenario parsing', () => {
  it('fills every default into a minimal scenario', () => {
    const s = parseScenario(MINIMAL, { file: 'x.yaml', baseDir: ROOT })
    assert.equal(s.durationMs, 600_000)
    assert.deepEqual(s.policies, ['agentmesh'])
    assert.equal(s.sites[0].slots, 8)
    assert.equal(s.sites[0].profile, 'lan')
    assert.equal(s.services[0].spec.tolerance, 0.1)
    assert.equal(s.baseline.hpaSyncMs, 15_000)
  })

  it('reads durations with units and bare seconds', () => {
    assert.equal(parseDurationMs('250ms'), 250)
    assert.equal(parseDurationMs('1.5h'), 5_400_000)
    assert.equal(parseDurationMs(90), 90_000)
    assert.equal(parseDurationMs('soon'), undefined)
  })

  it('names the field and the line of a problem in a nested list', () => {
    const p = problems(MINIMAL + 'faults:\n  - { at: 10s, kind: partition, groups: [[a, zz]] }\n')
    assert.equal(p.length, 1)
    assert.match(p[0], /^x\.yaml:5:\d+ faults\[0\]\.groups\[0\]\[1\]: names no site or host: "zz"/)
  })

  it('refuses a field that does not belong to the chosen load shape', () => {
    const p = problems(MINIMAL + 'load: [ { service: s, shape: constant, rate: 1, mean: 3 } ]\n')
    assert.match(p[0], /load\[0\]\.mean: is not a field of shape constant/)
  })

  it('reports YAML syntax errors with their line', () => {
    assert.match(problems('name: [unclosed\n')[0] ?? '', /^x\.yaml:\d+:\d+ /)
  })

  it('refuses a trace without its header, naming the file and line', () => {
    assert.throws(() => parseTraceCsv('0,1\n', 'f.csv'), /f\.csv:1 must start with the header/)
    assert.throws(() => parseTraceCsv('t_seconds,rate\n0,1\n0,2\n', 'f.csv'), (e: SimError) => e.problems[0] === 'f.csv:3 t_seconds must increase')
  })

  it('replays a trace as steps and loops it', () => {
    const points = parseTraceCsv('t_seconds,rate\n0,1\n10,5\n', 'f.csv')
    const shape = { type: 'trace' as const, file: 'f.csv', points, scale: 2, loop: true, offsetMs: 0 }
    assert.equal(rateAt(shape, 9_999), 2)
    assert.equal(rateAt(shape, 10_000), 10)
    assert.equal(rateAt(shape, 20_000), 2, 'the trace spans two 10 s bins, then starts again')
  })

  it('is documented: docs/simulator.md names every top-level field and fault kind', () => {
    const section = readDoc('simulator')
    for (const field of SCENARIO_FIELDS) assert.ok(section.includes(`\`${field}`), `docs/simulator.md documents ${field}`)
    for (const kind of FAULT_KINDS) assert.ok(section.includes(`\`${kind}\``), `docs/simulator.md documents fault ${kind}`)
  })
})
