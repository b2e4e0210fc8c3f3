/**
 * Which runtime the demo's agents get: real containers when a Docker engine answers and holds
 * the test agent's image, else child processes. The reason is kept so the demo can say plainly
 * which one it uses and why.
 */
import Docker from 'dockerode'
import { DemoError, DemoErrorCode } from './errors.js'

export const DEMO_AGENT_IMAGE = 'agentmesh/agent:test'
export const DOCKER_SOCKET_DEFAULT = '/var/run/docker.sock'
/** Bound on each question to the engine, ms. */
const DOCKER_PROBE_TIMEOUT_MS = 3_000

export type DemoRuntimeWanted = 'auto' | 'docker' | 'process'

export interface RuntimeChoice {
  kind: 'docker' | 'process'
  /** One sentence for the operator: what runs the agents, and why. */
  reason: string
}

/** What the engine at `socketPath` offers: undefined when usable, else why not. */
export async function dockerProblem (socketPath: string, signal?: AbortSignal): Promise<string | undefined> {
  signal?.throwIfAborted()
  // dockerode's `timeout` bounds every request: the probe cannot hang on a stuck engine.
  const docker = new Docker({ socketPath, timeout: DOCKER_PROBE_TIMEOUT_MS })
  try {
    await docker.ping()
  } catch (err) {
    return `no Docker engine answers at ${socketPath} (${(err as { code?: string }).code ?? (err as Error).message})`
  }
  try {
    await docker.getImage(DEMO_AGENT_IMAGE).inspect()
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode
    return status === 404
      ? `the Docker engine has no image ${DEMO_AGENT_IMAGE} (build it with: bash test/services/images.sh)`
      : `cannot inspect the image ${DEMO_AGENT_IMAGE}: ${(err as Error).message}`
  }
  return undefined
}

export async function chooseRuntime (wanted: DemoRuntimeWanted, socketPath = DOCKER_SOCKET_DEFAULT, signal?: AbortSignal): Promise<RuntimeChoice> {
  if (wanted === 'process') return { kind: 'process', reason: 'agents run as child processes (--runtime process)' }
  const problem = await dockerProblem(socketPath, signal)
  if (problem === undefined) return { kind: 'docker', reason: `agents run as Docker containers (image ${DEMO_AGENT_IMAGE}, network host) on the engine at ${socketPath}` }
  if (wanted === 'docker') throw new DemoError(DemoErrorCode.DockerUnavailable, `--runtime docker: ${problem}`)
  return { kind: 'process', reason: `agents run as child processes, not containers: ${problem}` }
}
