// What integration tests need from the test services (test/services/*.sh): their addresses, a
// once-per-process `ensureServices()` that runs the idempotent scripts (so `npm test` alone works
// on a machine where `bash test/run-all.sh` did not run yet), and small Docker CLI helpers.
//
// Containers a test starts carry two labels: `agentmesh.test=1` (anything left over from a
// crashed run can be removed by it) and `agentmesh.test.run=RUN` for this test file's own
// cleanup, so parallel test files never remove each other's containers.

import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** The repository root (this file runs from dist/test/services/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export const MQTT_PORT = Number(process.env.AGENTMESH_TEST_MQTT_PORT ?? 18830)
export const MQTT_URL = `mqtt://127.0.0.1:${MQTT_PORT}`
export const AGENT_IMAGE = 'agentmesh/agent:test'
export const BASE_IMAGE = 'agentmesh/node-base:test'
export const TEST_LABEL = 'agentmesh.test'
export const TEST_RUN_LABEL = 'agentmesh.test.run'

/** A fresh machine installs docker.io and mosquitto from Debian: minutes, not seconds. */
const ENSURE_TIMEOUT_MS = 10 * 60_000
/** Any single docker CLI call. */
const DOCKER_TIMEOUT_MS = 60_000

let ensured: Promise<void> | undefined

/** Runs docker.sh, mosquitto.sh and images.sh once per process (each is a no-op when done). */
export function ensureServices(): Promise<void> {
  ensured ??= (async () => {
    for (const script of ['docker.sh', 'mosquitto.sh', 'images.sh']) {
      await execFileAsync('bash', [`${REPO_ROOT}test/services/${script}`], {
        cwd: REPO_ROOT,
        timeout: ENSURE_TIMEOUT_MS,
      })
    }
  })()
  return ensured
}

/** A unique id for one test run's topics and labels. */
export function newRunId(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** Runs the docker CLI and returns its trimmed stdout; rejects with stderr on failure. */
export async function docker(args: string[], signal?: AbortSignal): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, {
    timeout: DOCKER_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
    ...(signal === undefined ? {} : { signal }),
  })
  return stdout.trim()
}

/** Force-removes every container with `label=value`; returns how many. */
export async function removeContainersByLabel(label: string, value: string): Promise<number> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=${label}=${value}`])).split('\n').filter(Boolean)
  if (ids.length > 0) await docker(['rm', '-f', ...ids])
  return ids.length
}

/**
 * Follows a container's output (`docker logs --follow`) until a line matches, the container
 * ends, or the bound passes. Event-driven: no polling.
 */
export function waitForLogLine(container: string, match: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', ['logs', '--follow', container], { stdio: ['ignore', 'pipe', 'pipe'] })
    let buffered = ''
    const timer = setTimeout(() => finish(new Error(`no line matching ${match} from ${container} within ${timeoutMs} ms:\n${buffered}`)), timeoutMs)
    const finish = (result: Error | string): void => {
      clearTimeout(timer)
      child.kill()
      if (typeof result === 'string') resolve(result)
      else reject(result)
    }
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('utf8')
      const line = buffered.split('\n').find((l) => match.test(l))
      if (line !== undefined) finish(line)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', () => finish(new Error(`${container} output ended without a line matching ${match}:\n${buffered}`)))
  })
}
