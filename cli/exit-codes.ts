/**
 * The exit codes of every `agentmesh` command, in one place (docs/operations.md, The command line, and
 * each command's --help say what they mean for that command).
 */
export const EXIT = {
  /** The job was done: a clean stop, every invariant held, the daemon answered. */
  ok: 0,
  /** The job failed: the daemon failed, an invariant broke, the daemon could not be reached, the demo could not run. */
  failed: 1,
  /** Bad input: flags, a config or a scenario that does not validate. Nothing was started. */
  usage: 2,
} as const

export type ExitCode = typeof EXIT[keyof typeof EXIT]
