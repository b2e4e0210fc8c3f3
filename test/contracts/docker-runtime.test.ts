/**
 * The container-runtime contract (container-runtime.contract.ts) against the daemon's Docker
 * runtime: the real engine (started by test/services/docker.sh when it does not answer),
 * behind the RuntimeDriver the daemon puts in front of every runtime. The agent is a node
 * process in the node-base image (test/services/images.sh), so no broker is needed. Every
 * container carries this file's run label; the runtime sees only those.
 */
import { before } from 'node:test'
import type { AgentSpec } from '../../node/runtime/container-runtime.js'
import { createDockerRuntime } from '../../node/runtime/docker-runtime.js'
import { RuntimeDriver } from '../../node/runtime/runtime-driver.js'
import { BASE_IMAGE, TEST_LABEL, TEST_RUN_LABEL, docker, ensureServices, newRunId, removeContainersByLabel } from '../services/services.js'
import { containerRuntimeContract } from './container-runtime.contract.js'
import { realRuntimeEventually } from './shell-time.js'

const RUN = newRunId('contract-docker')
const SERVICE = 'contract-agent'
/** Creating, starting and stopping a container on a loaded machine; generous. */
const BOUND_MS = 60_000
/** A well-behaved agent: exits 0 on SIGTERM. */
const POLITE = 'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1e9)'

before(async () => { await ensureServices() })

containerRuntimeContract('the daemon\'s Docker runtime (RuntimeDriver over the real engine)', async () => {
  await ensureServices()
  const hostId = `contract-${RUN}`
  const spec: AgentSpec = { service: SERVICE, image: BASE_IMAGE, command: ['/usr/local/bin/node', '-e', POLITE], env: {}, restartPolicy: 'no', networkMode: 'none', stopTimeoutMs: 5_000 }
  const runtime = new RuntimeDriver(
    { hostId, site: 'contract-site', specFor: s => s === SERVICE ? spec : undefined, extraLabels: { [TEST_LABEL]: '1', [TEST_RUN_LABEL]: RUN } },
    { runtime: createDockerRuntime({ scopeLabels: { [TEST_RUN_LABEL]: RUN } }) })
  await runtime.start()
  return {
    runtime, hostId, site: 'contract-site', service: SERVICE, runsContainers: true,
    eventually: realRuntimeEventually(runtime, BOUND_MS),
    exitBehindItsBack: async (id) => { await docker(['kill', id]) },
    close: async () => {
      await runtime.stop()
      await removeContainersByLabel(TEST_RUN_LABEL, RUN)
    },
  }
})
