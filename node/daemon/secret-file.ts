/**
 * Secret files the daemon reads: the host key, the swarm key, `http.tokenFile`, and a signal's
 * `passwordFile` or `bearerTokenFile`. Each is refused, naming the file and the fix, when other
 * users can read it: a swarm key readable by every user of a host lets any of them join the
 * mesh, and a readable API token lets them drive the daemon.
 *
 * The rule, the one PostgreSQL applies to its server key:
 * - no permission at all for others (mode & 0o007 === 0);
 * - no permission for the group either, except read when root owns the file (0640 root:G).
 *   That exception is the systemd layout of docs/operations.md: `/etc/agentmesh` is root-owned and the
 *   daemon's user reads its files through the `agentmesh` group; the group then holds only the
 *   daemon's user, and root, who can read anything anyway, owns the file.
 * On a platform without POSIX modes (no `process.getuid`), nothing is checked.
 */
import { readFileSync, statSync } from 'node:fs'
import { DaemonError, DaemonErrorCode } from './errors.js'

/** Why `file` may not hold a secret, with the fix; undefined when it may. Never throws. */
export function secretFileProblem (file: string, what: string): string | undefined {
  let st: ReturnType<typeof statSync>
  try {
    st = statSync(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? `cannot read ${what} ${file}: it does not exist` : `cannot read ${what} ${file}: ${(err as Error).message}`
  }
  if (!st.isFile()) return `${what} ${file} is not a regular file`
  if (typeof process.getuid !== 'function') return undefined
  const mode = Number(st.mode) & 0o777
  const shown = mode.toString(8).padStart(3, '0')
  if ((mode & 0o007) !== 0) return `${what} ${file} is accessible to every user (mode ${shown}); run \`chmod 600 ${file}\``
  const groupReadByRoot = Number(st.uid) === 0 && (mode & 0o070) === 0o040
  if ((mode & 0o070) !== 0 && !groupReadByRoot) {
    return `${what} ${file} is accessible to its group (mode ${shown}); run \`chmod 600 ${file}\` (or make root its owner and give the group read only: 0640)`
  }
  return undefined
}

/** Reads a secret file after checking who may read it; a refusal is E_KEY_INVALID. */
export function readSecretFile (file: string, what: string): Buffer {
  const problem = secretFileProblem(file, what)
  if (problem !== undefined) throw new DaemonError(DaemonErrorCode.KeyInvalid, problem)
  try {
    return readFileSync(file)
  } catch (err) {
    throw new DaemonError(DaemonErrorCode.KeyInvalid, `cannot read ${what} ${file}: ${(err as Error).message}`, [], { cause: err })
  }
}
