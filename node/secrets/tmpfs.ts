/**
 * Secret files live on a memory file system only (tmpfs, or ramfs), never on a disk: checked
 * with statfs(2) on the folder itself or, before it exists, on its nearest existing parent.
 */
import { statfsSync } from 'node:fs'
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
