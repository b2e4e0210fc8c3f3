import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'

/**
 * The value after flag `argv[i]`, for the daemon's commands: refuses a missing value or one
 * that is itself a flag with E_ARGS_INVALID. Returns the value and the index it was read at.
 */
export function flagValue (argv: readonly string[], i: number): [string, number] {
  const v = argv[i + 1]
  if (v === undefined || v.startsWith('--')) throw new DaemonError(DaemonErrorCode.ArgsInvalid, `${argv[i]} needs a value`)
  return [v, i + 1]
}
