/**
 * The daemon's durable state, one JSON file in the data dir: the incarnation (incremented on
 * every start) and the core's election state (term, vote, members). Written atomically (temp
 * file, fsync, rename, fsync of the folder) before the driver performs any output that follows
 * a `persist` output, as core-io.ts requires.
 */
import { readFileSync } from 'node:fs'
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

  saveCore (core: PersistentState): void {
    this.state = { ...this.state, core }
    this.flush()
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
