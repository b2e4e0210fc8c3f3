/**
 * The published JSON Schemas (schemas/*.json) against the code and the files people write:
 * the committed files are what the code generates (`npm run schemas`); every example config
 * and every scenario in sim/scenarios/ carries the yaml-language-server line, validates against
 * its schema (ajv, a real JSON Schema validator) and is accepted by the reader; and documents
 * that break a rule are refused by both, at the same field.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { parse } from 'yaml'
import { planMesh } from '../../cli/demo/local-mesh.js'
import { demoWorkload } from '../../cli/demo/run-demo.js'
import { schemaFiles } from '../../cli/write-schemas.js'
import { parseConfig } from '../../node/daemon/config.js'
import { DaemonError } from '../../node/daemon/errors.js'
import { SimError } from '../../sim/errors.js'
import { loadScenario, parseScenario } from '../../sim/scenario-parse.js'
import { writeSwarmKey } from '../daemon/harness.js'
import { DOCS_REPO_ROOT as ROOT, readDoc } from './doc-files.js'

const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }) // strictRequired: oneOf [{required: [env]}, {required: [file]}] is the idiom for "exactly one of"
const configSchema = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas/agentmesh.schema.json'), 'utf8')))
const scenarioSchema = ajv.compile(JSON.parse(readFileSync(join(ROOT, 'schemas/scenario.schema.json'), 'utf8')))

function yamlFiles (dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap(name => {
    const rel = join(dir, name)
    if (statSync(join(ROOT, rel)).isDirectory()) return yamlFiles(rel)
    return name.endsWith('.yaml') ? [rel] : []
  }).sort()
}

function schemaErrors (validate: ValidateFunction, doc: unknown): ErrorObject[] {
  return validate(doc) ? [] : [...(validate.errors ?? [])]
}

function show (errors: ErrorObject[]): string {
  return errors.map(e => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n')
}

/**
 * Files a config names live on the host (the swarm key, token and secret id files, the CA):
 * they are given here as environment overrides pointing at files made for the test, with the
 * modes the reader asks for. Everything else is read from the example as it is.
 */
const hostFiles = ((): Record<string, string> => {
  const dir = mkdtempSync(join(tmpdir(), 'agentmesh-schemas-'))
  const swarm = join(dir, 'swarm.key')
  writeSwarmKey(swarm)
  const token = join(dir, 'token')
  writeFileSync(token, 'a-token-of-more-than-16-characters', { mode: 0o600 })
  return { AGENTMESH_NETWORK_SWARM_KEY_FILE: swarm, AGENTMESH_HTTP_TOKEN_FILE: token, AGENTMESH_VAULT_AUTH_SECRET_ID_FILE: token }
})()

function readerProblems (text: string, file: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig(text, { file, env })
    return []
  } catch (err) {
    if (err instanceof DaemonError) return [...err.problems]
    throw err
  }
}

function scenarioProblems (text: string): string[] {
  try {
    parseScenario(text, { file: 'x.yaml', baseDir: join(ROOT, 'sim', 'scenarios') })
    return []
  } catch (err) {
    if (err instanceof SimError) return [...err.problems]
    throw err
  }
}

const schemaLine = (file: string, schema: string): string => `# yaml-language-server: $schema=${relative(dirname(join(ROOT, file)), join(ROOT, 'schemas', schema))}`

describe('the JSON Schemas', () => {
  it('are what the code generates (run `npm run schemas` after changing a reader\'s tables)', () => {
    for (const [path, text] of Object.entries(schemaFiles())) {
      assert.equal(readFileSync(join(ROOT, path), 'utf8'), text, `${path} is stale: run npm run schemas`)
    }
  })

  it('every example config names its schema, validates against it, and is accepted by the reader', () => {
    const files = yamlFiles('examples')
    assert.ok(files.length >= 3, files.join(', '))
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8')
      assert.equal(text.split('\n')[0], schemaLine(file, 'agentmesh.schema.json'), file)
      const errors = schemaErrors(configSchema, parse(text))
      assert.deepEqual(errors, [], `${file}:\n${show(errors)}`)
      const env: Record<string, string> = { AGENTMESH_NETWORK_SWARM_KEY_FILE: hostFiles.AGENTMESH_NETWORK_SWARM_KEY_FILE }
      if (/tokenFile:/.test(text)) env.AGENTMESH_HTTP_TOKEN_FILE = hostFiles.AGENTMESH_HTTP_TOKEN_FILE
      if (/secretIdFile:/.test(text)) env.AGENTMESH_VAULT_AUTH_SECRET_ID_FILE = hostFiles.AGENTMESH_VAULT_AUTH_SECRET_ID_FILE
      if (/swarmKeyVault:/.test(text)) delete env.AGENTMESH_NETWORK_SWARM_KEY_FILE
      assert.deepEqual(readerProblems(text, file, env), [], file)
    }
  })

  it('the configs agentmesh demo writes validate against the schema and are accepted by the reader', async () => {
    for (const runtime of ['docker', 'process'] as const) {
      const dir = mkdtempSync(join(tmpdir(), 'agentmesh-schemas-demo-'))
      const hosts = await planMesh({ dir, sites: ['demo-x-s1', 'demo-x-s2'], hostsPerSite: 2, common: site => demoWorkload(site, 'mqtt://127.0.0.1:1883', runtime, '--agentmesh-demo-x') })
      assert.equal(hosts.length, 4)
      for (const h of hosts) {
        const text = readFileSync(h.configFile, 'utf8')
        const errors = schemaErrors(configSchema, parse(text))
        assert.deepEqual(errors, [], `${runtime} ${h.hostId}:\n${show(errors)}`)
        assert.deepEqual(readerProblems(text, h.configFile), [], `${runtime} ${h.hostId}`)
      }
    }
  })

  it('the example in docs/configuration.md is examples/agentmesh.yaml', () => {
    const block = /```yaml\n([\s\S]*?)```/.exec(readDoc('configuration'))?.[1]
    const file = readFileSync(join(ROOT, 'examples/agentmesh.yaml'), 'utf8')
    assert.equal(block, file.slice(file.indexOf('\n') + 1))
  })

  it('every scenario in sim/scenarios/ names its schema, validates against it, and is accepted by the reader', () => {
    const files = yamlFiles('sim/scenarios')
    assert.ok(files.length >= 17, files.join(', '))
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8')
      assert.equal(text.split('\n')[0], schemaLine(file, 'scenario.schema.json'), file)
      const errors = schemaErrors(scenarioSchema, parse(text))
      assert.deepEqual(errors, [], `${file}:\n${show(errors)}`)
      assert.doesNotThrow(() => loadScenario(join(ROOT, file)), file)
    }
  })
})

/** A minimal valid config and scenario, and what breaking one rule does to each: [what, text, the field both must name]. */
const CONFIG_OK = 'site: plant-a\nhostId: h1\nruntime: {kind: none}\nservices:\n  - name: ingest\n'
const CONFIG_BROKEN: Array<[string, string, string]> = [
  ['an unknown top-level field', CONFIG_OK + 'sitee: plant-b\n', 'sitee'],
  ['an unknown field in a section', CONFIG_OK + 'http: {listne: 127.0.0.1:1}\n', 'http.listne'],
  ['a site name that is not an id', CONFIG_OK.replace('site: plant-a', 'site: plant a'), 'site'],
  ['a number out of range', CONFIG_OK + 'capacity: {slots: -1}\n', 'capacity.slots'],
  ['a value outside an enumeration', CONFIG_OK.replace('kind: none', 'kind: kubernetes'), 'runtime.kind'],
  ['a service field of the wrong type', CONFIG_OK + '    maxReplicas: six\n', 'services[0].maxReplicas'],
  ['a service without a name', CONFIG_OK.replace('name: ingest', 'targetPerReplica: 5'), 'services[0].name'],
  ['a scaling policy of an unknown type', CONFIG_OK + '    scaleUp: {policies: [{type: pod, value: 1, periodMs: 15s}]}\n', 'services[0].scaleUp.policies[0].type'],
  ['a malformed duration', CONFIG_OK + '    scaleDown: {stabilizationMs: 5 minutes}\n', 'services[0].scaleDown.stabilizationMs'],
  ['an agent option another kind of runtime has', CONFIG_OK + '    agent: {image: x, memoryMib: 2}\n', 'services[0].agent.memoryMib'],
  ['a signal option of another kind', CONFIG_OK + 'signals:\n  - {service: ingest, kind: push, topic: a/b}\n', 'signals[0].topic'],
  ['a signal kind that does not exist', CONFIG_OK + 'signals:\n  - {service: ingest, kind: kafka}\n', 'signals[0].kind'],
]

const SCENARIO_OK = 'name: tiny\nsites:\n  - {name: plant, kind: on-prem, hosts: 2}\nservices:\n  - {name: ingest, drainPerReplica: 5, sla: 100}\n'
const SCENARIO_BROKEN: Array<[string, string, string]> = [
  ['an unknown top-level field', SCENARIO_OK + 'sead: 3\n', 'sead'],
  ['a site of an unknown kind', SCENARIO_OK.replace('kind: on-prem', 'kind: moon'), 'sites[0].kind'],
  ['a site without hosts', SCENARIO_OK.replace(', hosts: 2', ''), 'sites[0].hosts'],
  ['a field another load shape takes', SCENARIO_OK + 'load:\n  - {service: ingest, shape: constant, rate: 3, mean: 4}\n', 'load[0].mean'],
  ['a fault field another kind takes', SCENARIO_OK + 'faults:\n  - {at: 10s, kind: crash, host: plant-h0, groups: [[plant]]}\n', 'faults[0].groups'],
  ['a policy that does not exist', SCENARIO_OK + 'policies: [fastest]\n', 'policies[0]'],
  ['a service without its SLA', SCENARIO_OK.replace(', sla: 100', ''), 'services[0].sla'],
  ['a malformed duration', SCENARIO_OK + 'duration: 10 minutes\n', 'duration'],
]

/** `services[0].scaleUp` → `/services/0/scaleUp`. */
function pointer (field: string): string {
  return '/' + field.replace(/\[(\d+)\]/g, '.$1').split('.').join('/')
}

/** Whether one of the schema's errors is at the field (or, for a missing or unknown key, names it on its parent). */
function schemaNames (errors: ErrorObject[], field: string): boolean {
  const at = pointer(field)
  const parent = at.slice(0, at.lastIndexOf('/'))
  const key = at.slice(at.lastIndexOf('/') + 1)
  return errors.some(e => e.instancePath === at || e.instancePath.startsWith(at + '/') ||
    (e.instancePath === parent && (e.params.missingProperty === key || e.params.additionalProperty === key)))
}

describe('a document that breaks a rule is refused by both the schema and the reader, at the same field', () => {
  it('the minimal documents pass both (so each refusal below is the rule\'s)', () => {
    assert.deepEqual(schemaErrors(configSchema, parse(CONFIG_OK)), [])
    assert.deepEqual(readerProblems(CONFIG_OK, 'agentmesh.yaml', { AGENTMESH_NETWORK_SWARM_KEY_FILE: hostFiles.AGENTMESH_NETWORK_SWARM_KEY_FILE }), [])
    assert.deepEqual(schemaErrors(scenarioSchema, parse(SCENARIO_OK)), [])
    assert.deepEqual(scenarioProblems(SCENARIO_OK), [])
  })

  for (const [what, text, field] of CONFIG_BROKEN) {
    it(`agentmesh.yaml: ${what} (${field})`, () => {
      const errors = schemaErrors(configSchema, parse(text))
      assert.ok(schemaNames(errors, field), `the schema does not refuse ${field}:\n${show(errors)}`)
      const problems = readerProblems(text, 'agentmesh.yaml', { AGENTMESH_NETWORK_SWARM_KEY_FILE: hostFiles.AGENTMESH_NETWORK_SWARM_KEY_FILE })
      assert.ok(problems.some(p => /^agentmesh\.yaml:\d+:\d+ /.test(p) && p.includes(` ${field}: `)), `the reader does not name ${field}:\n${problems.join('\n')}`)
    })
  }

  for (const [what, text, field] of SCENARIO_BROKEN) {
    it(`scenario: ${what} (${field})`, () => {
      const errors = schemaErrors(scenarioSchema, parse(text))
      assert.ok(schemaNames(errors, field), `the schema does not refuse ${field}:\n${show(errors)}`)
      const problems = scenarioProblems(text)
      assert.ok(problems.some(p => /^x\.yaml:\d+:\d+ /.test(p) && p.includes(` ${field}: `)), `the reader does not name ${field}:\n${problems.join('\n')}`)
    })
  }
})
