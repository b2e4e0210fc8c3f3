/**
 * One service vocabulary: a service block copied from a host's agentmesh.yaml into a scenario,
 * unchanged (its `agent` and all), gives the simulator exactly the ServiceSpec the daemon runs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../node/daemon/config.js'
import { writeSwarmKey } from '../daemon/harness.js'
import { parseScenario } from '../../sim/scenario-parse.js'
import { ROOT } from './sim-helpers.js'

const SERVICE_BLOCK = `  - name: ingest
    targetPerReplica: 50
    minReplicas: 1
    maxReplicas: 12
    tolerance: 0.15
    activationThreshold: 2
    selector: { hardware: x86 }
    upstream: { name: broker, saturatedAt: 0.8 }
    scaleUp: { stabilizationMs: 0, policies: [ { type: pods, value: 4, periodMs: 15s } ] }
    scaleDown: { stabilizationMs: 2m, policies: [ { type: percent, value: 50, periodMs: 30000 } ], selectPolicy: min }
    agent: { image: example/ingest:1, command: [ingest, --fast] }
`

describe('one service vocabulary', () => {
  it('reads a host config\'s service block, pasted into a scenario, to the same ServiceSpec', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentmesh-vocabulary-'))
    writeSwarmKey(join(dir, 'swarm.key'))
    const config = parseConfig(`hostId: h1\nsite: plant\ndataDir: ${dir}\nnetwork: { swarmKeyFile: ${join(dir, 'swarm.key')} }\nruntime: { kind: docker }\nservices:\n${SERVICE_BLOCK}signals: [ { upstream: broker, kind: push } ]\n`, { file: 'agentmesh.yaml', env: {} })
    rmSync(dir, { recursive: true, force: true })
    const scenario = parseScenario(`name: paste\nsites: [ { name: plant, kind: on-prem, hosts: 2, labels: { hardware: x86 } } ]\nupstreams: [ { name: broker, capacityPerS: 100 } ]\nservices:\n${SERVICE_BLOCK}    drainPerReplica: 25\n    sla: 500\n`, { file: 'paste.yaml', baseDir: ROOT })
    assert.deepEqual(scenario.services[0].spec, config.services[0])
    assert.equal(config.services[0].scaleDown.stabilizationMs, 120_000)
    assert.equal(config.services[0].scaleUp.policies[0].periodMs, 15_000)
  })
})
