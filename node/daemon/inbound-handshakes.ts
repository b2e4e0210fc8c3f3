/**
 * Which inbound libp2p connections fail before they become peers, and why: libp2p itself only
 * aborts them (its upgrader logs to `debug`, emits no event), so a host being probed by
 * something without the swarm key, or a mis-keyed supervisor retrying forever, was invisible.
 *
 * An inbound connection goes through: the connection gater, pnet (`@libp2p/pnet`: a 24-byte
 * nonce each way, then XSalsa20 under the swarm key), multistream-select, Noise, and the
 * gater's encrypted-connection check. pnet cannot tell a wrong key by itself: with another key
 * (or none) the nonce exchange succeeds and what follows decrypts to garbage, so
 * multistream-select never agrees on Noise. Hence three wrappers, all on public interfaces:
 * - the protector: a failed nonce exchange is refused as `pnet` at once; a connection that
 *   closes after it and before Noise was even chosen is refused as `pnet` too (wrong or no
 *   key: the only way the first bytes under the key are not multistream-select's);
 * - Noise's secureInbound: reaching it proves the key matched, so a later close is `encryption`;
 * - the gater's denyInboundEncryptedConnection (`handshakeDone`): the upgrade got through.
 * `partitioned` is counted where the gater refuses (fault injection).
 * Nothing here is on the per-message path: each hook runs once per connection.
 */
import type { ConnectionEncrypter, ConnectionProtector, MessageStream } from '@libp2p/interface'

export const REFUSAL_REASONS = ['pnet', 'encryption', 'partitioned'] as const
export type RefusalReason = typeof REFUSAL_REASONS[number]

interface Handshake { keyMatched: boolean, done: boolean }

type Factory<T> = (components: any) => T // eslint-disable-line @typescript-eslint/no-explicit-any

export class InboundHandshakes {
  /** By the raw connection (the gater sees it) and by the stream pnet returns (Noise sees it). */
  private readonly byRaw = new WeakMap<object, Handshake>()
  private readonly byProtected = new WeakMap<object, Handshake>()
  private stopped = false

  constructor (private readonly onRefused: (reason: RefusalReason, remoteAddr: string) => void) {}

  /** Connections closing once the node stops are ours to close, not refusals. */
  stop (): void { this.stopped = true }

  protector (factory: Factory<ConnectionProtector>): Factory<ConnectionProtector> {
    return (components) => {
      const inner = factory(components)
      return {
        [Symbol.toStringTag]: '@libp2p/pnet',
        protect: async (conn: MessageStream, options?: Parameters<ConnectionProtector['protect']>[1]) => {
          if (conn.direction !== 'inbound') return await inner.protect(conn, options)
          const h: Handshake = { keyMatched: false, done: false }
          conn.addEventListener('close', () => {
            if (h.done) return
            h.done = true
            this.refuse(h.keyMatched ? 'encryption' : 'pnet', conn)
          }, { once: true })
          let out: MessageStream
          try {
            out = await inner.protect(conn, options)
          } catch (err) {
            if (!h.done) { h.done = true; this.refuse('pnet', conn) }
            throw err
          }
          this.byRaw.set(conn, h)
          this.byProtected.set(out, h)
          return out
        },
      } as ConnectionProtector
    }
  }

  encrypter (factory: Factory<ConnectionEncrypter>): Factory<ConnectionEncrypter> {
    return (components) => {
      const inner = factory(components)
      const secureInbound = inner.secureInbound.bind(inner)
      inner.secureInbound = async (conn, options) => {
        const h = this.byProtected.get(conn)
        if (h !== undefined) h.keyMatched = true
        return await secureInbound(conn, options)
      }
      return inner
    }
  }

  /** From the gater's denyInboundEncryptedConnection: this connection's handshakes succeeded. */
  handshakeDone (rawConn: object): void {
    const h = this.byRaw.get(rawConn)
    if (h !== undefined) h.done = true
  }

  /** From the gater's denyInboundConnection, when it refuses. */
  refusedByGater (reason: RefusalReason, rawConn: object): void {
    this.refuse(reason, rawConn)
  }

  private refuse (reason: RefusalReason, conn: object): void {
    if (this.stopped) return
    const addr = (conn as { remoteAddr?: { toString: () => string } }).remoteAddr?.toString() ?? 'unknown'
    try { this.onRefused(reason, addr) } catch { /* a listener's bug is not the connection's */ }
  }
}
