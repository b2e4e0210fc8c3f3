/**
 * `agentmesh sim --from-config`: a what-if scenario built from a host's config. The built
 * scenario carries the config's services as the daemon reads them, validates against the
 * scenario schema, runs like a scenario file, and its replay flags build it again byte for
 * byte; every missing piece is named. (The --from-node half, against live supervisors, is in
 * test/daemon/sim-from-node.test.ts.)
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { Ajv } from 'ajv'
import { parse } from 'yaml'
import { buildWhatIf, readHostShape, type WhatIfFlags } from '../../cli/commands/sim-from-config.js'
import { SimError, SimErrorCode } from '../../sim/errors.js'
import { CLI, ROOT } from './sim-helpers.js'

function sim (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'sim', ...args], { cwd: ROOT, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const TRACE = 'sim/traces/synthetic-ramp-spike.csv'
const dir = mkdtempSync(join(tmpdir(), 'agentmesh-what-if-'))

function config (name: string, text: string): string {
  const file = join(dir, name)
  writeFileSync(file, text)
  return file
}

const TWO_SERVICES = config('two.yaml', [
  'site: plant-a',
  'labels: {location: plant-a}',
  'capacity: {slots: 6}',
  'priority: 7',
  'runtime: {kind: docker}',
  'services:',
  '  - name: ingest',
  '    targetPerReplica: 40',
  '    maxReplicas: 9',
  '    scaleDown: {stabilizationMs: 2m}',
  '    upstream: {name: broker, saturatedAt: 0.8}',
  '    agent: {image: registry.local/ingest:1.4}',
  '  - name: detect',
  '    targetPerReplica: 5',
  '    selector: {hardware: gpu}',
  '    agent: {image: registry.local/detect:2}',
  '',
].join('\n'))

const flags = (over: Partial<WhatIfFlags> = {}): WhatIfFlags => ({
  configFile: TWO_SERVICES,
  hosts: 4,
  slots: undefined,
  nodeUrl: undefined,
  traces: { all: join(ROOT, TRACE), byService: new Map() },
  drain: { all: 10, byService: new Map([['detect', 2]]) },
  sla: { all: 300, byService: new Map() },
  upstreams: new Map([['broker', 500]]),
  siteKind: undefined,
  ...over,
})

describe('agentmesh sim --from-config', () => {
  it('builds one site of the config\'s shape with its services as the daemon reads them', () => {
    const shape = readHostShape(TWO_SERVICES)
    const w = buildWhatIf(flags(), shape, { hosts: 4, slots: shape.slots, from: 'test' }, ROOT)
    const s = w.scenario
    assert.deepEqual(s.sites.map(x => [x.name, x.kind, x.hosts, x.slots, x.priority, x.profile, x.labels]), [['plant-a', 'on-prem', 4, 6, 7, 'lan', { location: 'plant-a' }]])
    assert.deepEqual(s.services.map(x => x.spec), shape.services.map(x => x.spec), 'the same ServiceSpec the daemon\'s reader gives')
    assert.equal(s.services[0].spec.scaleDown.stabilizationMs, 120_000)
    assert.deepEqual(s.services.map(x => [x.drainPerReplicaPerS, x.slaBacklog]), [[10, 300], [2, 300]])
    assert.deepEqual(s.upstreams.map(u => [u.name, u.capacityPerS]), [['broker', 500]])
    assert.deepEqual(s.load.map(l => [l.service, l.shape.type]), [['ingest', 'trace'], ['detect', 'trace']])
    assert.equal(s.durationMs, 1_800_000, 'the trace\'s span: 180 rows of 10 s')
    assert.match(w.notes.join('\n'), /detect's selector \(hardware=gpu\) matches none of the simulated hosts/)
  })

  it('prints a scenario that validates against schemas/scenario.schema.json and names its schema', () => {
    const r = sim('--from-config', TWO_SERVICES, '--hosts', '4', '--trace', TRACE, '--drain', '10,detect=2', '--sla', '300', '--upstream', 'broker=500', '--print-scenario')
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^# yaml-language-server: \$schema=\/.*\/schemas\/scenario\.schema\.json\n/)
    const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/scenario.schema.json'), 'utf8')))
    assert.ok(validate(parse(r.stdout)), JSON.stringify(validate.errors))
    assert.match(r.stderr, /note: service detect's selector/)
    // The printed file runs as a scenario file.
    const file = join(dir, 'printed.yaml')
    writeFileSync(file, r.stdout)
    const run = sim(file, '--duration', '30s', '--quiet')
    assert.equal(run.status, 0, run.stderr)
    assert.equal(JSON.parse(run.stdout).scenario, 'what-if-plant-a')
  })

  it('runs like a scenario file: the same summary, --policy all, the HTML report', () => {
    const out = join(dir, 's.json')
    const report = join(dir, 'r.html')
    const r = sim('--from-config', TWO_SERVICES, '--hosts', '3', '--slots', '4', '--trace', TRACE, '--drain', '10', '--sla', '300', '--upstream', 'broker=500',
      '--duration', '90s', '--policy', 'all', '--json', out, '--report', report, '--quiet')
    assert.equal(r.status, 0, r.stderr)
    const summary = JSON.parse(readFileSync(out, 'utf8'))
    assert.deepEqual(summary.policies.map((p: { policy: string, hosts: number }) => [p.policy, p.hosts]), [['agentmesh', 3], ['hpa', 3], ['keda', 3], ['central', 3]])
    assert.equal(summary.durationS, 90)
    assert.ok(summary.policies.every((p: { invariants: { held: boolean } }) => p.invariants.held))
    assert.match(readFileSync(report, 'utf8'), /^<!doctype html>/)
  })

  it('its replay flags build the same scenario again, byte for byte', () => {
    const shape = readHostShape(TWO_SERVICES)
    const w = buildWhatIf(flags(), shape, { hosts: 4, slots: 6, from: '--hosts and --slots' }, ROOT)
    assert.match(w.scenario.file, /^--from-config \S+ --hosts 4 --slots 6 --site-kind on-prem --trace \S+ --drain 10,detect=2 --sla 300 --upstream broker=500$/)
    const again = sim(...w.scenario.file.split(' '), '--print-scenario')
    assert.equal(again.status, 0, again.stderr)
    assert.equal(again.stdout.split('\n').slice(5).join('\n'), w.text.split('\n').slice(5).join('\n'))
  })

  it('takes the site kind from the profile (wan: edge) unless --site-kind says', () => {
    const edge = readHostShape(join(ROOT, 'examples/agentmesh-edge.yaml'))
    const f = flags({ configFile: 'examples/agentmesh-edge.yaml', upstreams: new Map(), drain: { all: 5, byService: new Map() } })
    assert.equal(buildWhatIf(f, edge, { hosts: 2, slots: 2, from: 't' }, ROOT).scenario.sites[0].kind, 'edge')
    assert.equal(buildWhatIf({ ...f, siteKind: 'cloud' }, edge, { hosts: 2, slots: 2, from: 't' }, ROOT).scenario.sites[0].kind, 'cloud')
  })

  it('names every missing piece at once: load, drain, SLA, an upstream\'s capacity', () => {
    const r = sim('--from-config', TWO_SERVICES, '--hosts', '2', '--trace', `ingest=${TRACE}`, '--drain', 'ingest=3')
    assert.equal(r.status, 2)
    assert.match(r.stderr, /E_SIM_ARGS_INVALID/)
    assert.match(r.stderr, /service detect has no load: give --trace detect=FILE/)
    assert.match(r.stderr, /service detect: give --drain detect=N/)
    assert.match(r.stderr, /service ingest: give --sla ingest=N/)
    assert.match(r.stderr, /service detect: give --sla detect=N/)
    assert.match(r.stderr, /upstream broker: give --upstream broker=N/)
    assert.doesNotMatch(r.stderr, /service ingest has no load/)
  })

  it('refuses flags that name what the config does not have, and what-if flags without --from-config', () => {
    const r = sim('--from-config', TWO_SERVICES, '--hosts', '2', '--trace', TRACE, '--drain', '1,nope=2', '--sla', '5', '--upstream', 'broker=1,kafka=3')
    assert.equal(r.status, 2)
    assert.match(r.stderr, /--drain: nope is not a service of the config \(services: ingest, detect\)/)
    assert.match(r.stderr, /--upstream: no service of the config names upstream kafka/)
    for (const [args, message] of [
      [['--from-config', TWO_SERVICES], /needs the site's hosts: --hosts N/],
      [['--from-config', TWO_SERVICES, '--hosts', '2', '--from-node', 'http://127.0.0.1:1'], /--from-node, or --hosts and --slots, not both/],
      [['--from-config', TWO_SERVICES, '--hosts', '0'], /--hosts must be a whole number from 1/],
      [['--from-config', TWO_SERVICES, '--hosts', '2', '--site-kind', 'moon'], /--site-kind must be one of on-prem, cloud, edge/],
      [['--from-config', TWO_SERVICES, '--hosts', '2', '--drain', 'x'], /--drain takes N > 0/],
      [['sim/scenarios/burst.yaml', '--hosts', '2'], /--hosts builds a what-if: it needs --from-config/],
      [['sim/scenarios/burst.yaml', '--from-config', TWO_SERVICES, '--hosts', '2'], /a scenario file or --from-config, not both/],
    ] as const) {
      const x = sim(...args)
      assert.equal(x.status, 2, args.join(' '))
      assert.match(x.stderr, message)
    }
  })

  it('refuses a config that cannot give a scenario, naming each field at its line', () => {
    const bad = config('bad.yaml', 'labels: {a: b}\ncapacity: {slots: -2}\nservices:\n  - name: ingest\n    maxReplicas: lots\n')
    const r = sim('--from-config', bad, '--hosts', '2', '--trace', TRACE, '--drain', '1', '--sla', '1')
    assert.equal(r.status, 2)
    assert.match(r.stderr, /E_SIM_CONFIG_INVALID/)
    assert.match(r.stderr, /bad\.yaml:1:1 site: is required/)
    assert.match(r.stderr, /bad\.yaml:2:\d+ capacity\.slots: must be a whole number from 0/)
    assert.match(r.stderr, /bad\.yaml:5:\d+ services\[0\]\.maxReplicas: must be a whole number from 0 to 100000, got "lots"/)
    assert.throws(() => readHostShape(join(dir, 'missing.yaml')), (e: SimError) => e.code === SimErrorCode.Io)
    const trace = config('bad.csv', 'time,rate\n0,1\n')
    const t = sim('--from-config', TWO_SERVICES, '--hosts', '2', '--trace', trace, '--drain', '1', '--sla', '1', '--upstream', 'broker=1')
    assert.equal(t.status, 2)
    assert.match(t.stderr, /bad\.csv:1 must start with the header t_seconds,rate/)
  })
})
