/**
 * Recent daemon events for the /v1/events stream (server-sent events): a bounded ring with
 * increasing ids, so a client reconnecting with Last-Event-ID misses nothing that is still
 * kept; the oldest event is dropped when the ring is full.
 */
export interface DaemonEvent {
  id: number
  /** e.g. `election`, `leader`, `plan`, `peer`, `fault`, `scaled`. */
  type: string
  atMs: number
  data: Record<string, unknown>
}

export type EventListener = (e: DaemonEvent) => void

export class EventLog {
  private readonly ring: DaemonEvent[] = []
  private nextId = 1
  private readonly listeners = new Set<EventListener>()

  constructor (private readonly capacity: number) {}

  push (type: string, atMs: number, data: Record<string, unknown>): void {
    const e: DaemonEvent = { id: this.nextId++, type, atMs, data }
    if (this.capacity > 0) {
      this.ring.push(e)
      if (this.ring.length > this.capacity) this.ring.shift()
    }
    for (const l of this.listeners) l(e)
  }

  /** Kept events with an id above `afterId`, oldest first. */
  since (afterId: number): DaemonEvent[] {
    return this.ring.filter(e => e.id > afterId)
  }

  subscribe (l: EventListener): () => void {
    this.listeners.add(l)
    return () => { this.listeners.delete(l) }
  }

  get lastId (): number { return this.nextId - 1 }
}
