/**
 * The simulator's typed errors. Bad input (a scenario, a trace, a flag) is refused with one of
 * these and exit code 2; an invariant that breaks is not an error but a result (exit code 1).
 */
export const SimErrorCode = {
  /** The scenario file is not valid YAML or breaks the schema; `problems` names every field and line. */
  ScenarioInvalid: 'E_SIM_SCENARIO_INVALID',
  /** A CSV trace named by the scenario cannot be read or parsed. */
  TraceInvalid: 'E_SIM_TRACE_INVALID',
  /** A command-line flag is unknown or its value is malformed. */
  ArgsInvalid: 'E_SIM_ARGS_INVALID',
  /** A file could not be read or written. */
  Io: 'E_SIM_IO',
  /** `--from-config`: the host config does not give what a scenario needs (a site, valid services); `problems` names each field and line. */
  ConfigInvalid: 'E_SIM_CONFIG_INVALID',
  /** `--from-node`: the node's HTTP API could not be reached or did not answer as documented. */
  NodeUnreachable: 'E_SIM_NODE_UNREACHABLE',
  /** A worker thread of a sharded run failed (its error is in the message); the run has no result. */
  WorkerFailed: 'E_SIM_WORKER',
} as const

export type SimErrorCode = typeof SimErrorCode[keyof typeof SimErrorCode]

export class SimError extends Error {
  override readonly name = 'SimError'
  readonly code: SimErrorCode
  /** One line per problem, each naming the field (and file:line:column where known). */
  readonly problems: readonly string[]

  constructor (code: SimErrorCode, message: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(problems.length > 0 ? `${message}\n  ${problems.join('\n  ')}` : message, options)
    this.code = code
    this.problems = problems
  }
}

/** Guards what the simulator's own code must guarantee. Always on. */
export function simAssert (condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`simulator assertion failed: ${message}`)
}
