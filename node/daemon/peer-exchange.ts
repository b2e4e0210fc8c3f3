/**
 * Peer exchange: `/agentmesh/peers/1.0.0`, a request/response libp2p protocol that answers
 * "which peers do you know that subscribe to site S's topic, and at which addresses?".
 *
 * Why: heartbeats carry addresses only inside a site, and a site's topic is relayed only by
 * that site's hosts. A host whose bootstrap peer is in another site (or a new site whose hosts
 * all know one seed elsewhere) would never hear its site peers. Every host asks each peer it
 * connects to, and one connected peer every `PEER_EXCHANGE_INTERVAL_MS` (every
 * `PEER_EXCHANGE_RETRY_MS`, doubling, while answers still teach it peers: mesh.ts); the answer comes from
 * gossipsub's view of its connected peers' subscriptions and the peer store's listen addresses.
 *
 * Both directions are size-bounded JSON (length-prefixed): a request of at most
 * MAX_REQUEST_BYTES, an answer of at most MAX_PEERS peers and MAX_RESPONSE_BYTES. Anything else
 * is refused by closing the stream.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { PROTOCOL_LIMITS } from '../../protocol/index.js'

export const PEER_EXCHANGE_PROTOCOL = '/agentmesh/peers/1.0.0'
export const PEER_EXCHANGE_LIMITS = {
  maxRequestBytes: 256,
  maxPeers: 64,
  maxResponseBytes: 64 * 1024,
  timeoutMs: 5000,
  /** Streams served at once; more are refused by libp2p. */
  maxInboundStreams: 8,
  /**
   * An answer is built once and served again this long (ms), at most answerCacheSites sites
   * at once: building one reads the peer store for every subscriber, and a seed that a whole
   * starting site asks at once spent its event loop on the same answer.
   */
  answerCacheMs: 1000,
  answerCacheSites: 16,
} as const
export const PEER_EXCHANGE_INTERVAL_MS = 30_000
/** While a host still learns peers from the exchange, it asks again this soon (mesh.ts, exchangeRound). */
export const PEER_EXCHANGE_RETRY_MS = 1000

export interface ExchangedPeer { peerId: string, addrs: string[] }

/** What the protocol needs from the node: exactly this. */
export interface PeerExchangeComponents {
  handle: (protocol: string, handler: (stream: Stream) => void | Promise<void>, opts: { maxInboundStreams: number }) => Promise<void>
  dialProtocol: (peer: PeerId, protocol: string, opts: { signal: AbortSignal }) => Promise<Stream>
  /** Peers subscribed to a topic (gossipsub's view of its connected peers). */
  subscribers: (topic: string) => PeerId[]
  /** Listen addresses the peer store holds for a peer. */
  addressesOf: (peer: PeerId) => Promise<Multiaddr[]>
  topicOf: (site: string) => string
  /** Milliseconds, for the answer cache (default Date.now). */
  now?: () => number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export async function servePeerExchange (c: PeerExchangeComponents): Promise<void> {
  const now = c.now ?? Date.now
  const cache = new Map<string, { atMs: number, bytes: Uint8Array }>()
  const answer = async (site: string): Promise<Uint8Array> => {
    const hit = cache.get(site)
    if (hit !== undefined && now() - hit.atMs < PEER_EXCHANGE_LIMITS.answerCacheMs) return hit.bytes
    const peers: ExchangedPeer[] = []
    for (const p of c.subscribers(c.topicOf(site))) {
      if (peers.length >= PEER_EXCHANGE_LIMITS.maxPeers) break
      const addrs = (await c.addressesOf(p)).filter(a => !isWildcard(a)).slice(0, PROTOCOL_LIMITS.maxAddrs).map(a => a.toString())
      if (addrs.length > 0) peers.push({ peerId: p.toString(), addrs })
    }
    const bytes = encoder.encode(JSON.stringify({ peers }))
    if (cache.size >= PEER_EXCHANGE_LIMITS.answerCacheSites) cache.clear()
    cache.set(site, { atMs: now(), bytes })
    return bytes
  }
  await c.handle(PEER_EXCHANGE_PROTOCOL, async (stream) => {
    const signal = AbortSignal.timeout(PEER_EXCHANGE_LIMITS.timeoutMs)
    try {
      const lp = lpStream(stream, { maxDataLength: PEER_EXCHANGE_LIMITS.maxRequestBytes })
      const req = JSON.parse(decoder.decode((await lp.read({ signal })).subarray())) as { site?: unknown }
      if (typeof req.site !== 'string' || req.site.length > PROTOCOL_LIMITS.maxIdBytes) throw new Error('bad request')
      await lp.write(await answer(req.site), { signal })
      await stream.close({ signal })
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: PEER_EXCHANGE_LIMITS.maxInboundStreams })
}

/** Asks one peer for the members of `site` it knows. Returns [] on any failure. */
export async function askPeers (c: PeerExchangeComponents, peer: PeerId, site: string): Promise<Array<{ peerId: string, addrs: Multiaddr[] }>> {
  const signal = AbortSignal.timeout(PEER_EXCHANGE_LIMITS.timeoutMs)
  let stream: Stream | undefined
  try {
    stream = await c.dialProtocol(peer, PEER_EXCHANGE_PROTOCOL, { signal })
    const lp = lpStream(stream, { maxDataLength: PEER_EXCHANGE_LIMITS.maxResponseBytes })
    await lp.write(encoder.encode(JSON.stringify({ site })), { signal })
    const res = JSON.parse(decoder.decode((await lp.read({ signal })).subarray())) as { peers?: unknown }
    await stream.close({ signal }).catch(() => {})
    return parsePeers(res.peers)
  } catch {
    stream?.abort(new Error('peer exchange failed'))
    return []
  }
}

/** Validates an answer: well-formed entries only, within the limits; the rest is dropped. */
export function parsePeers (v: unknown): Array<{ peerId: string, addrs: Multiaddr[] }> {
  if (!Array.isArray(v)) return []
  const out: Array<{ peerId: string, addrs: Multiaddr[] }> = []
  for (const e of v.slice(0, PEER_EXCHANGE_LIMITS.maxPeers)) {
    const entry = e as { peerId?: unknown, addrs?: unknown }
    if (typeof entry?.peerId !== 'string' || entry.peerId.length > PROTOCOL_LIMITS.maxIdBytes || !Array.isArray(entry.addrs)) continue
    const addrs: Multiaddr[] = []
    for (const a of entry.addrs.slice(0, PROTOCOL_LIMITS.maxAddrs)) {
      if (typeof a !== 'string' || a.length > PROTOCOL_LIMITS.maxAddrBytes) continue
      try {
        const ma = multiaddr(a)
        addrs.push(ma.getComponents().some(c => c.name === 'p2p') ? ma : ma.encapsulate(`/p2p/${entry.peerId}`))
      } catch {}
    }
    if (addrs.length > 0) out.push({ peerId: entry.peerId, addrs })
  }
  return out
}

function isWildcard (a: Multiaddr): boolean {
  const s = a.toString()
  return s.startsWith('/ip4/0.0.0.0/') || s.startsWith('/ip6/::/')
}
