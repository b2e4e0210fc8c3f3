/**
 * A host's transcript in a simulated run: every input its core was fed, at what simulated
 * time, and every output it gave back, in order. Differential tests compare transcripts (a
 * digest per host, and how many lines) to show that a change to how the simulator runs (sharding
 * over workers, batching deliveries, a fast path) changes nothing any core saw or did.
 */
import { createHash, type Hash } from 'node:crypto'
import type { CoreInput, CoreOutput } from '../node/core/core-io.js'

/** JSON with Maps as their entries (labels, plans' parts), so that two equal values print alike. */
function json (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => v instanceof Map ? [...v as Map<unknown, unknown>] : v)
}

export function describeInput (nowMs: number, input: CoreInput): string {
  switch (input.type) {
    case 'message': {
      const m = input.message
      return `${nowMs} < ${m.sender}/${m.incarnation}#${m.seq} ${json(m.body)}`
    }
    case 'tick': return `${nowMs} < tick`
    default: return `${nowMs} < ${json(input)}`
  }
}

export function describeOutput (out: CoreOutput): string {
  if (out.type === 'publish') return `> publish ${out.topic} #${out.message.seq} ${json(out.message.body)}`
  return `> ${json(out)}`
}

/** A digest per host of its transcript's lines, and how many there were. */
export class TranscriptDigests {
  private readonly hashes = new Map<string, { hash: Hash, lines: number }>()

  add (hostId: string, line: string): void {
    let h = this.hashes.get(hostId)
    if (h === undefined) { h = { hash: createHash('sha256'), lines: 0 }; this.hashes.set(hostId, h) }
    h.hash.update(line)
    h.hash.update('\n')
    h.lines++
  }

  /** Host id → `lines:sha256`, by host id. */
  done (): Record<string, string> {
    const out: Record<string, string> = {}
    for (const id of [...this.hashes.keys()].sort()) {
      const h = this.hashes.get(id)!
      out[id] = `${h.lines}:${h.hash.digest('hex')}`
    }
    return out
  }
}
