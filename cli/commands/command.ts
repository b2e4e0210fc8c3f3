/** One `agentmesh` subcommand. Exit codes: 0 success, 1 failure of the job, 2 bad input. */
export interface Command {
  name: string
  /** One line for `agentmesh --help`. */
  summary: string
  /** Full usage, printed by `agentmesh COMMAND --help`. */
  usage: string
  run: (argv: string[]) => Promise<number>
}
