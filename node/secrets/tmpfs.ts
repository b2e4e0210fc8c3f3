/**
 * Secret files live on a memory file system only (tmpfs, or ramfs), never on a disk: checked
 * with statfs(2) on the folder itself or, before it exists, on its nearest existing parent.
 */
import { lstatSync, statfsSync } from 'node:fs'
import { dirname } from 'node:path'

/** statfs(2) f_type of tmpfs and of ramfs (linux/magic.h). */
const MEMORY_FS_TYPES = new Set([0x01021994, 0x858458f6])

/** Why `dir` may not hold secret files (not on a memory file system, or unreadable); undefined when it may. */
export function memoryFsProblem (dir: string): string | undefined {
  for (let p = dir; ; p = dirname(p)) {
    try {
      const st = statfsSync(p)
      if (MEMORY_FS_TYPES.has(Number(st.type))) return undefined
      return `${dir} is not on a tmpfs (${p} has file system type 0x${Number(st.type).toString(16)}): secret files must never reach a disk; use a folder under /dev/shm, $XDG_RUNTIME_DIR or a tmpfs mount`
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return `cannot check ${p}: ${(err as Error).message}`
      if (dirname(p) === p) return `cannot check ${dir}: no part of it exists`
    }
  }
}

/**
 * Why `dir` is not safe for secrets: a part of its path that exists is a symbolic link, or is
 * owned by a user other than root and this process (who could then swap or read what is below:
 * /dev/shm is writable by all, so `/dev/shm/agentmesh-UID` made by someone else must be
 * refused). Undefined when it is safe, or on a platform without POSIX owners.
 */
export function ownershipProblem (dir: string): string | undefined {
  if (typeof process.getuid !== 'function') return undefined
  const me = process.getuid()
  for (let p = dir; ; p = dirname(p)) {
    let st: ReturnType<typeof lstatSync> | undefined
    try { st = lstatSync(p) } catch { /* not there yet: made by us, mode 0700 */ }
    if (st !== undefined) {
      if (st.isSymbolicLink()) return `${p} is a symbolic link: secrets go only into real folders`
      if (Number(st.uid) !== 0 && Number(st.uid) !== me) return `${p} belongs to uid ${Number(st.uid)}, neither root nor this process (uid ${me}): that user could read the secrets below it`
      if (p === dir && Number(st.uid) === me && (Number(st.mode) & 0o077) !== 0) return `${p} is accessible to other users (mode ${(Number(st.mode) & 0o777).toString(8)}); run \`chmod 700 ${p}\``
    }
    if (dirname(p) === p) return undefined
  }
}
