/**
 * A TCP relay on loopback that delays every byte by a link's latency: the stand-in for `netem`,
 * which this kernel lacks. Each supervisor of a test site gets one in front of its libp2p port
 * and announces the relay's address, so every connection to it (dialled by any peer) crosses
 * one relay: one link, its delay in each direction.
 *
 * Each direction is a FIFO link: a chunk read at time t is written at
 * max(t + delay, the previous chunk's write time), where delay is `medianMs` plus a uniform
 * jitter in [0, jitterMs), as the simulator draws a hop's latency (sim/simulation.ts).
 * Half-closes are passed on (an end is queued like data). Bytes are never reordered or lost (TCP would hide a loss as a delay anyway). No bandwidth
 * limit: the messages are small.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface LinkLatency {
  medianMs: number
  jitterMs: number
}

/** One direction of a link: chunks in order, each no sooner than its own delay. */
class DelayedPipe {
  private readonly queue: Array<{ at: number, chunk: Buffer | null }> = []
  private timer: NodeJS.Timeout | undefined
  private lastAt = 0

  constructor (private readonly to: Socket, private readonly latency: LinkLatency, private readonly random: () => number) {}

  /** A chunk read now, or `null` for the end of the stream. */
  push (chunk: Buffer | null): void {
    const at = Math.max(performance.now() + this.latency.medianMs + this.random() * this.latency.jitterMs, this.lastAt)
    this.lastAt = at
    this.queue.push({ at, chunk })
    this.arm()
  }

  close (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.queue.length = 0
  }

  private arm (): void {
    if (this.timer !== undefined || this.queue.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      const now = performance.now()
      while (this.queue.length > 0 && this.queue[0].at <= now + 0.5) {
        const { chunk } = this.queue.shift()!
        if (this.to.destroyed) { this.queue.length = 0; return }
        if (chunk === null) this.to.end()
        else this.to.write(chunk)
      }
      this.arm()
    }, Math.max(0, this.queue[0].at - performance.now()))
  }
}

/** Listens on 127.0.0.1 (a free port) and relays every connection to `targetPort`, delayed. */
export class LatencyRelay {
  private readonly sockets = new Set<Socket>()
  private readonly server: Server
  private boundPort = 0

  private constructor (private readonly targetPort: number, private readonly latency: LinkLatency, private readonly random: () => number) {
    this.server = createServer({ noDelay: true, allowHalfOpen: true }, (inbound) => { this.relay(inbound) })
  }

  static async start (targetPort: number, latency: LinkLatency, random: () => number = Math.random): Promise<LatencyRelay> {
    const relay = new LatencyRelay(targetPort, latency, random)
    await new Promise<void>((resolve, reject) => {
      relay.server.once('error', reject)
      relay.server.listen(0, '127.0.0.1', () => { resolve() })
    })
    const address = relay.server.address()
    if (address === null || typeof address === 'string') throw new Error('relay: no TCP address')
    relay.boundPort = address.port
    return relay
  }

  /** The relay's own port: dial this to reach the target through the link. */
  get port (): number { return this.boundPort }

  /** Stops listening and cuts every relayed connection. */
  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>(resolve => this.server.close(() => { resolve() }))
  }

  private relay (inbound: Socket): void {
    const outbound = connect({ host: '127.0.0.1', port: this.targetPort, noDelay: true, allowHalfOpen: true })
    this.sockets.add(inbound)
    this.sockets.add(outbound)
    const toTarget = new DelayedPipe(outbound, this.latency, this.random)
    const toDialer = new DelayedPipe(inbound, this.latency, this.random)
    inbound.on('data', (c: Buffer) => { toTarget.push(c) })
    outbound.on('data', (c: Buffer) => { toDialer.push(c) })
    // An end travels through the pipe like data; an error cuts the link both ways.
    inbound.on('end', () => { toTarget.push(null) })
    outbound.on('end', () => { toDialer.push(null) })
    const cut = (): void => {
      toTarget.close()
      toDialer.close()
      inbound.destroy()
      outbound.destroy()
    }
    inbound.on('error', cut)
    outbound.on('error', cut)
    inbound.on('close', () => { this.sockets.delete(inbound) })
    outbound.on('close', () => { this.sockets.delete(outbound) })
  }
}
