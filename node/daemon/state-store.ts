/**
 * The daemon's durable state, one JSON file in the data dir: the incarnation (incremented on
 * every start) and the core's election state (term, vote, members). Written atomically (temp
 * file, fsync, rename, fsync of the folder) before the driver performs any output that follows
 * a `persist` output, as core-io.ts requires.
 *
 * A persist whose only change is the member list (`membersOnly`) is written off the event loop
 * instead: the temp file is written and fsynced on libuv's thread pool, then renamed over the
 * state file, only if no other write was asked for meanwhile. A 50-host site starting on one
 * machine spent 12 of its 132 CPU-profiled seconds blocked in these fsyncs (each host learns
 * members one by one, and writes at most every membership sweep), and every daemon of a
 * process waited with the one writing. A term or a vote is still written synchronously, with
 * the latest member list, and an older member-only write in flight can never replace it.
 */
import { readFileSync, renameSync, rmSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { PersistentState } from '../core/core-io.js'
import { DaemonError, DaemonErrorCode } from './errors.js'
import { writeFileAtomic } from './identity.js'

export const STATE_FILE = 'state.json'
const STATE_VERSION = 1

export interface StoredState {
  incarnation: number
  core: PersistentState | undefined
}

export class StateStore {
  readonly file: string
  private state: StoredState
  /** Bumped by every saveCore: a member-only write renames only if it is still the newest. */
  private generation = 0
  /** The member-only write in flight, if any; `lazyAgain`: another was asked for meanwhile. */
  private lazyWrite: Promise<void> | undefined
  private lazyAgain = false
  /** A member-only write failed (the next synchronous write will fail loudly if the disk is gone). */
  onLazyError: (err: Error) => void = () => {}

  private constructor (file: string, state: StoredState) {
    this.file = file
    this.state = state
  }

  /** Opens the store and increments the incarnation (written before the caller goes on). */
  static openAndBumpIncarnation (dataDir: string): StateStore {
    const file = join(dataDir, STATE_FILE)
    const previous = readState(file)
    const store = new StateStore(file, { incarnation: previous.incarnation + 1, core: previous.core })
    store.flush()
    return store
  }

  get incarnation (): number { return this.state.incarnation }
  get core (): PersistentState | undefined { return this.state.core }

  /** Writes the core's state: synchronously, or off the event loop when `membersOnly` (see above). */
  saveCore (core: PersistentState, membersOnly = false): void {
    this.state = { ...this.state, core }
    this.generation++
    if (!membersOnly) {
      this.flush()
      return
    }
    if (this.lazyWrite !== undefined) {
      this.lazyAgain = true
      return
    }
    this.lazyWrite = this.writeLazily().finally(() => { this.lazyWrite = undefined })
  }

  /** Waits for a member-only write in flight (at stop). */
  async settle (): Promise<void> {
    await this.lazyWrite
  }

  private async writeLazily (): Promise<void> {
    do {
      this.lazyAgain = false
      const generation = this.generation
      const tmp = `${this.file}.tmp-members-${process.pid}`
      try {
        const fh = await open(tmp, 'w', 0o600)
        try {
          await fh.writeFile(JSON.stringify({ version: STATE_VERSION, ...this.state }) + '\n')
          await fh.sync()
        } finally {
          await fh.close()
        }
        // Renamed in the same turn as the check, so no synchronous write can come between them.
        if (generation === this.generation) renameSync(tmp, this.file)
        else rmSync(tmp, { force: true })
      } catch (err) {
        this.onLazyError(err as Error)
      }
    } while (this.lazyAgain)
  }

  private flush (): void {
    try {
      writeFileAtomic(this.file, JSON.stringify({ version: STATE_VERSION, ...this.state }) + '\n', 0o600)
    } catch (err) {
      throw new DaemonError(DaemonErrorCode.StateIo, `cannot write state file ${this.file}: ${(err as Error).message}`, [], { cause: err })
    }
  }
}

function readState (file: string): StoredState {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { incarnation: 0, core: undefined }
    throw new DaemonError(DaemonErrorCode.StateIo, `cannot read state file ${file}: ${(err as Error).message}`, [], { cause: err })
  }
  const problem = (what: string): DaemonError =>
    new DaemonError(DaemonErrorCode.StateIo, `state file ${file} is corrupt (${what}); refusing to start, since a lost term or vote could let this host vote twice. Move it away only if this host's id is retired.`)
  let raw: unknown
  try { raw = JSON.parse(text) } catch { throw problem('not JSON') }
  const o = raw as Record<string, unknown>
  if (typeof o !== 'object' || o === null || o.version !== STATE_VERSION) throw problem('unknown version')
  if (!Number.isSafeInteger(o.incarnation) || (o.incarnation as number) < 0) throw problem('incarnation')
  const c = o.core as Record<string, unknown> | undefined
  if (c === undefined || c === null) return { incarnation: o.incarnation as number, core: undefined }
  if (!Number.isSafeInteger(c.term) || typeof c.votedFor !== 'string' || !Array.isArray(c.members) || !c.members.every(m => typeof m === 'string')) throw problem('core state')
  return { incarnation: o.incarnation as number, core: { term: c.term as number, votedFor: c.votedFor, members: c.members as string[] } }
}
