import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI, ROOT } from './sim-helpers.js'

function sim (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'sim', ...args], { cwd: ROOT, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('agentmesh sim', () => {
  it('exits 0 and writes the summary and the report when every invariant holds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-sim-'))
    const r = sim('sim/scenarios/burst.yaml', '--duration', '60s', '--policy', 'all', '--json', join(dir, 's.json'), '--report', join(dir, 'r.html'))
    assert.equal(r.status, 0, r.stderr)
    const summary = JSON.parse(readFileSync(join(dir, 's.json'), 'utf8'))
    assert.deepEqual(summary.policies.map((p: { policy: string }) => p.policy), ['agentmesh', 'hpa', 'keda', 'central'])
    assert.equal(summary.durationS, 60)
    assert.match(readFileSync(join(dir, 'r.html'), 'utf8'), /^<!doctype html>/)
  })

  it('exits 1 and names the invariant, the time and the replay command when one breaks', () => {
    const r = sim('test/sim/fixtures/over-capacity.yaml', '--seed', '5', '--quiet')
    assert.equal(r.status, 1, r.stderr)
    const summary = JSON.parse(r.stdout)
    const p = summary.policies[0]
    assert.equal(p.invariants.held, false)
    assert.equal(p.invariants.violation.invariant, 'host-capacity')
    assert.equal(p.invariants.violation.host, 'plant-h1')
    assert.ok(p.invariants.violation.atS >= 20)
    assert.equal(p.invariants.replay, 'agentmesh sim test/sim/fixtures/over-capacity.yaml --seed 5 --duration 120s --policy agentmesh')
    assert.match(r.stderr, /INVARIANT BROKEN under agentmesh: host-capacity at [\d.]+ s/)
    assert.match(r.stderr, /replay: agentmesh sim test\/sim\/fixtures\/over-capacity.yaml --seed 5/)
    // The replay line reproduces the same violation at the same time.
    const again = sim(...p.invariants.replay.split(' ').slice(2), '--quiet')
    assert.equal(again.status, 1)
    assert.deepEqual(JSON.parse(again.stdout).policies[0].invariants, p.invariants)
  })

  it('exits 2 with every problem, naming the field and the line, on a bad scenario', () => {
    const r = sim('test/sim/fixtures/bad.yaml', '--quiet')
    assert.equal(r.status, 2)
    assert.match(r.stderr, /E_SIM_SCENARIO_INVALID/)
    assert.match(r.stderr, /bad\.yaml:2:\d+ duration: must be a duration/)
    assert.match(r.stderr, /bad\.yaml:5:\d+ sites\[0\]\.kind: must be one of on-prem, cloud, edge/)
    assert.match(r.stderr, /bad\.yaml:6:\d+ sites\[0\]\.hosts: must be at least 1/)
    assert.match(r.stderr, /services\[0\]\.minReplicas: must not exceed maxReplicas \(2\)/)
    assert.match(r.stderr, /services\[0\]\.colour: unknown field/)
    assert.match(r.stderr, /load\[0\]\.service: names no service: "nope"/)
    assert.match(r.stderr, /faults\[0\]\.host: names no host: "plant-h9"/)
  })

  it('writes the same summary and report with --workers 1 and --workers 3, and refuses --workers 0', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-sim-'))
    const run = (workers: string): [string, string] => {
      const r = sim('sim/scenarios/chimera.yaml', '--duration', '3m', '--policy', 'agentmesh', '--workers', workers, '--quiet', '--json', join(dir, `${workers}.json`), '--report', join(dir, `${workers}.html`))
      assert.equal(r.status, 0, r.stderr)
      return [readFileSync(join(dir, `${workers}.json`), 'utf8'), readFileSync(join(dir, `${workers}.html`), 'utf8')]
    }
    assert.deepEqual(run('3'), run('1'))
    const zero = sim('sim/scenarios/burst.yaml', '--workers', '0')
    assert.equal(zero.status, 2)
    assert.match(zero.stderr, /E_SIM_ARGS_INVALID: --workers must be a whole number from 1 to 256, got 0/)
  })

  it('exits 2 on a bad flag or a missing file', () => {
    assert.equal(sim('sim/scenarios/burst.yaml', '--policy', 'kubernetes').status, 2)
    assert.equal(sim('sim/scenarios/burst.yaml', '--duration', 'soon').status, 2)
    assert.equal(sim('sim/scenarios/burst.yaml', '--frobnicate').status, 2)
    const missing = sim('no/such/file.yaml')
    assert.equal(missing.status, 2)
    assert.match(missing.stderr, /E_SIM_IO/)
  })
})
