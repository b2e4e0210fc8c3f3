/**
 * The demo's typed errors. Branch on `code`, never on the message. Bad flags are the daemon's
 * `E_ARGS_INVALID` (the commands share one flag reader); these are failures of the run itself.
 */
import { CodedError } from '../../protocol/errors.js'

export const DemoErrorCode = {
  /** `--runtime docker` was asked for, but the engine cannot be reached or lacks the agent image. */
  DockerUnavailable: 'E_DOCKER_UNAVAILABLE',
  /** The embedded MQTT broker could not listen (the port is taken, say). */
  BrokerListen: 'E_DEMO_BROKER_LISTEN',
  /** The process runtime needs agent/agent.mjs, which is not there (an install without it). */
  AgentMissing: 'E_DEMO_AGENT_MISSING',
  /** A supervisor exited before the mesh was up, or no free port was found. */
  MeshStart: 'E_DEMO_MESH_START',
} as const

export type DemoErrorCode = typeof DemoErrorCode[keyof typeof DemoErrorCode]

export class DemoError extends CodedError<DemoErrorCode> {
  override readonly name = 'DemoError'
}
