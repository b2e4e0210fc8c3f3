/**
 * The real network: a libp2p node (TCP, pnet, Noise, Yamux, identify) with gossipsub on one
 * topic per site and one global topic, signed messages (StrictSign), every received message
 * through the MessageGate, and a re-dial loop that keeps this host connected to its bootstrap
 * peers and to site members learnt from heartbeats.
 *
 * What experiments with js-libp2p 3 on a machine like ours found (each reproduced: see the
 * tests named in docs/architecture.md, The daemon shell), and where it is handled here:
 * - same-IP score penalty: `ipColocationWhitelist` goes to gossipsub's score params;
 * - inbound connection rate (5/s per IP by default): `inboundConnectionsPerSecond`;
 * - bootstrap dials each seed once: the re-dial loop dials bootstrap peers forever, with backoff;
 * - seeds alone are not a mesh: heartbeats carry each host's addresses, peer exchange
 *   (peer-exchange.ts) finds site members through peers of other sites, the loop dials them;
 * - oversize messages kill streams: the codec refuses to encode past 64 KiB and gossipsub's
 *   inbound cap is set to the same limit;
 * - publishing with no subscribers throws: `allowPublishToZeroTopicPeers`;
 * - validators: a topic score param per topic, so a reject lowers the sender's score;
 * - a wrong swarm key shows only as a dial timeout: inbound-handshakes.ts reports inbound
 *   connections that fail pnet or Noise.
 *
 * libp2p-hot-paths.ts fixes two per-message costs in yamux and @libp2p/crypto.
 */
import './polyfill.js'
import { createHash } from 'node:crypto'
import { Socket } from 'node:net'
import { gossipsub, TopicValidatorResult, type GossipSub, type Message as PubsubMessage } from '@libp2p/gossipsub'
import { createTopicScoreParams } from '@libp2p/gossipsub/score'
import { identify } from '@libp2p/identify'
import type { Connection, PeerId, PrivateKey } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { digestRoute, encodeMessage, GOSSIP_DEFAULTS, PROTOCOL_LIMITS, PROTOCOL_MAJOR, type Message } from '../../protocol/index.js'
import type { DaemonConfig } from './config.js'
import { DaemonError, DaemonErrorCode } from './errors.js'
import { applyHotPathFixes, noiseCrypto, type HotPathFixes } from './libp2p-hot-paths.js'
import type { Topic } from '../core/core-io.js'
import type { MessageListener, Transport } from '../core/ports.js'
import { InboundHandshakes, type RefusalReason } from './inbound-handshakes.js'
import { MessageGate, type GateReason, type GateTopic } from './message-gate.js'
import { askPeers, PEER_EXCHANGE_INTERVAL_MS, PEER_EXCHANGE_PROTOCOL, PEER_EXCHANGE_RETRY_MS, servePeerExchange, type PeerExchangeComponents } from './peer-exchange.js'
import { countReceivedCopies } from './gossip-copies.js'

/** Topic names carry the protocol's major version: a new major is a new mesh. */
export function siteTopic (site: string): string { return `/agentmesh/${PROTOCOL_MAJOR}/site/${site}` }
/**
 * The site leader's inbox (docs/membership.md): only the host that leads the site subscribes,
 * so a member's heartbeat, published here, goes to the leader alone over their direct
 * connection (gossipsub sends a publish on a topic it has not joined to every connected
 * subscriber, with floodPublish) and nobody forwards it. Signing and the message gate apply
 * as on every topic.
 */
export function siteLeaderTopic (site: string): string { return `/agentmesh/${PROTOCOL_MAJOR}/site/${site}/leader` }
/**
 * One host's inbox: only that host subscribes, so a message only it needs (a pre-vote for its
 * candidacy: CoreOutput publish `to`) crosses one connection instead of the whole site. Used
 * when the sender is connected to that host; otherwise the message goes on the site topic.
 */
export function hostInboxTopic (site: string, hostId: string): string { return `/agentmesh/${PROTOCOL_MAJOR}/site/${site}/host/${hostId}` }
/** Where the leader sends its digest to one member on its own (digestRoute); a host subscribes to its own. */
export function hostDigestTopic (site: string, hostId: string): string { return `/agentmesh/${PROTOCOL_MAJOR}/site/${site}/host/${hostId}/digest` }
export const GLOBAL_TOPIC = `/agentmesh/${PROTOCOL_MAJOR}/global`

/** Dial targets learnt by peer exchange stop being added beyond this many × targetPeers. */
const MAX_TARGETS_PER_TARGET_PEER = 4

/** The config's network section, less the key file paths (the keys come in loaded). */
export type MeshInit = Omit<DaemonConfig['network'], 'privateKeyFile' | 'swarmKeyFile' | 'swarmKeyVault'> & {
  hostId: string
  site: string
  privateKey: PrivateKey
  /** pnet swarm key file contents. */
  swarmKey: Uint8Array
}

/** What the mesh reports; the daemon turns these into core inputs, metrics and logs. */
export interface MeshEvents {
  'message:received': (topic: Topic, message: Message, bytes: number, receivedAtMs: number) => void
  'message:rejected': (topic: Topic, reason: GateReason, verdict: 'reject' | 'ignore', peerId: string) => void
  'message:published': (topic: Topic, message: Message, bytes: number) => void
  'publish:failed': (topic: Topic, message: Message, err: Error) => void
  /** Every connection to a peer closed; hostId when the peer has spoken for one. */
  'peer:disconnected': (peerId: string, hostId: string | undefined) => void
  'peer:connected': (peerId: string) => void
  /** Message copies received in one gossipsub RPC, duplicates included (gossip-copies.ts). */
  'message:copies': (copies: number) => void
  /** A connected peer subscribes to this host's site topic, and none did before (at start, or after being cut off). */
  'site:reachable': () => void
  'dial:failed': (peerId: string, err: Error) => void
  /** An inbound connection failed before it became a peer (inbound-handshakes.ts). */
  'connection:refused': (reason: RefusalReason, remoteAddr: string) => void
}

interface DialTarget {
  peerId: string
  addrs: Multiaddr[]
  bootstrap: boolean
  /** Site members only: removed when the core reaps them. */
  hostId?: string
  nextDialMs: number
  backoffMs: number
  /** Our preference for this peer (see redial), hashed once: sorting re-reads it every round. */
  rank: string
  /** The leader this host follows: dialled before anything else, beyond targetPeers. */
  pinned?: boolean
}

export class Mesh implements Transport {
  private node: Libp2p<{ pubsub: GossipSub, identify: unknown }> | undefined
  private gate: MessageGate | undefined
  private readonly targets = new Map<string, DialTarget>()
  private readonly decoded = new WeakMap<Uint8Array, Message>()
  private readonly listeners = new Set<MessageListener>()
  /** Each site member's addresses as last noted (space-joined). */
  private readonly notedAddrs = new Map<string, string>()
  private readonly topics: Record<Topic, string>
  /** This host's own inbox topic (hostInboxTopic). */
  private readonly inbox: string
  /** This host's digest topic (hostDigestTopic): the leader's digests for it alone. */
  private readonly digestTopic: string
  /** Digests published while leading (digestRoute's index). */
  private digestsSent = 0
  private redialTimer: NodeJS.Timeout | undefined
  private pxTimer: NodeJS.Timeout | undefined
  private pxRound = 0
  /** When the next periodic peer exchange is due, and the wait after it (exchangeRound). */
  private nextPxMs = 0
  private pxDelayMs = PEER_EXCHANGE_RETRY_MS
  private px: PeerExchangeComponents | undefined
  private dialsInFlight = 0
  /** gossipsub's RPC handler is wrapped to count the copies received (gossip-copies.ts). */
  countsCopies = false
  /** When this host last gained a connection (either direction), for newDialsAllowed. */
  private lastConnectMs = 0
  private partitioned = false
  /** Subscribed to the site leader's inbox (this host leads). */
  private leading = false
  /** Some connected peer subscribes to the site topic (the 'site:reachable' event). */
  private siteReachable = false
  /** The leader this host follows, pinned as a dial target (noteLeader). */
  private pinnedLeader: string | undefined
  private readonly inFlight = new Set<Promise<unknown>>()
  private stopped = false
  /** Which of libp2p-hot-paths.ts's fixes apply to the installed libraries (set at start). */
  hotPathFixes: HotPathFixes | undefined
  private readonly handshakes = new InboundHandshakes((reason, addr) => this.on['connection:refused']?.(reason, addr))

  constructor (private readonly init: MeshInit, private readonly on: Partial<MeshEvents>, private readonly clock: () => number) {
    this.topics = { site: siteTopic(init.site), global: GLOBAL_TOPIC, leader: siteLeaderTopic(init.site) }
    this.inbox = hostInboxTopic(init.site, init.hostId)
    this.digestTopic = hostDigestTopic(init.site, init.hostId)
  }

  async start (): Promise<void> {
    const init = this.init
    this.hotPathFixes = applyHotPathFixes(init.privateKey)
    // Only invalid deliveries (P4) count: a validator reject costs the sender -10 (squared per
    // reject, decaying by half each decay interval), so a peer sending garbage is soon below
    // the gossip (-10) and graylist (-80) thresholds. Mesh delivery rate penalties (P3) are
    // off: the global topic carries a summary every few seconds and would punish honest peers.
    const topicScore = createTopicScoreParams({
      topicWeight: 1,
      timeInMeshWeight: 0,
      firstMessageDeliveriesWeight: 0,
      meshMessageDeliveriesWeight: 0,
      meshFailurePenaltyWeight: 0,
      invalidMessageDeliveriesWeight: -10,
      invalidMessageDeliveriesDecay: 0.5,
    })
    try {
      this.node = await createLibp2p({
        privateKey: init.privateKey,
        addresses: { listen: init.listen, announce: init.announce },
        transports: [tcp()],
        connectionProtector: this.handshakes.protector(preSharedKey({ psk: init.swarmKey })),
        connectionEncrypters: [this.handshakes.encrypter(noise({ crypto: noiseCrypto() }))],
        streamMuxers: [yamux()],
        connectionGater: {
          denyDialMultiaddr: () => this.partitioned,
          denyInboundConnection: (maConn) => {
            if (this.partitioned) this.handshakes.refusedByGater('partitioned', maConn)
            return this.partitioned
          },
          denyInboundEncryptedConnection: (_peer, maConn) => { this.handshakes.handshakeDone(maConn); return false },
          denyOutboundConnection: () => this.partitioned,
        },
        // libp2p aborts a connection whose ping takes more than 5 s (its adaptive timeout's
        // floor): hosts whose event loops lag seconds (50 daemons starting on two busy cores)
        // lost working connections to it, each loss a disconnect hint that made the peer
        // suspect, often the leader. Half the ping interval still finds a half-open connection.
        connectionMonitor: init.pingIntervalMs === 0 ? { enabled: false } : { pingInterval: init.pingIntervalMs, pingTimeout: { minTimeout: Math.max(5000, Math.floor(init.pingIntervalMs / 2)) } },
        connectionManager: {
          maxConnections: init.maxConnections,
          inboundConnectionThreshold: init.inboundConnectionsPerSecond,
          dialTimeout: init.dialTimeoutMs,
          // libp2p gives up on one address after 6 s by default, whatever dialTimeout says: a
          // handshake that a busy host completes slowly (a seed that 50 hosts dial at once)
          // was abandoned and started again from scratch, both sides' work lost.
          addressDialTimeout: init.dialTimeoutMs,
        },
        services: {
          identify: identify(),
          pubsub: gossipsub({
            globalSignaturePolicy: 'StrictSign',
            allowPublishToZeroTopicPeers: true,
            emitSelf: false,
            floodPublish: GOSSIP_DEFAULTS.floodPublish,
            D: init.gossipD,
            Dlo: init.gossipDlo,
            Dhi: init.gossipDhi,
            // gossipsub's own defaults, passed so that the simulator's model (which reads the same
            // GOSSIP_DEFAULTS) stays the daemon's if a gossipsub release changes them.
            Dlazy: GOSSIP_DEFAULTS.Dlazy,
            heartbeatInterval: GOSSIP_DEFAULTS.heartbeatMs,
            mcacheGossip: GOSSIP_DEFAULTS.historyGossipHeartbeats,
            mcacheLength: GOSSIP_DEFAULTS.historyLengthHeartbeats,
            // gossipsub requires Dout < Dlo and Dout ≤ D / 2; Dscore ≤ D.
            Dout: Math.min(init.gossipDlo - 1, Math.floor(init.gossipD / 2)),
            Dscore: Math.min(init.gossipD, 4),
            maxInboundDataLength: PROTOCOL_LIMITS.maxEncodedBytes,
            // Other sites' topics are tracked too (not joined): peer exchange answers from them.
            // Duplicates are dropped before their signature is checked (NOTES: CPU).
            fastMsgIdFn: (m) => m.signature === undefined ? Buffer.from(m.data ?? []).toString('base64') : Buffer.from(m.signature).toString('base64'),
            scoreParams: {
              IPColocationFactorWhitelist: new Set(init.ipColocationWhitelist),
              topics: { [this.topics.site]: topicScore, [this.topics.global]: topicScore, [this.topics.leader]: topicScore, [this.inbox]: topicScore, [this.digestTopic]: topicScore },
            },
          }),
        },
      })
    } catch (err) {
      throw new DaemonError(DaemonErrorCode.MeshStart, `libp2p could not start: ${(err as Error).message}`, [], { cause: err })
    }
    const node = this.node
    this.gate = new MessageGate({ site: init.site, hostId: init.hostId, ownPeerId: node.peerId.toString(), maxTrackedSenders: init.maxTrackedSenders, rebindQuietMs: init.rebindQuietMs })
    const pubsub = node.services.pubsub
    for (const kind of ['site', 'global', 'leader'] as const) {
      pubsub.topicValidators.set(this.topics[kind], (_peer, msg) => this.validate(kind, msg))
      if (kind !== 'leader') pubsub.subscribe(this.topics[kind])
    }
    pubsub.topicValidators.set(this.inbox, (_peer, msg) => this.validate('inbox', msg))
    pubsub.subscribe(this.inbox)
    pubsub.topicValidators.set(this.digestTopic, (_peer, msg) => this.validate('digest', msg))
    pubsub.subscribe(this.digestTopic)
    pubsub.addEventListener('message', (evt) => this.onPubsubMessage(evt.detail))
    this.countsCopies = countReceivedCopies(pubsub, (copies) => this.on['message:copies']?.(copies))
    pubsub.addEventListener('subscription-change', (evt) => {
      if (this.siteReachable || !evt.detail.subscriptions.some(s => s.subscribe && s.topic === this.topics.site)) return
      this.siteReachable = true
      this.on['site:reachable']?.()
    })
    this.px = {
      handle: async (p, h, o) => { await node.handle(p, h, o) },
      dialProtocol: async (peer, p, o) => await node.dialProtocol(peer, p, o),
      subscribers: (t) => pubsub.getSubscribers(t),
      addressesOf: async (peer) => (await node.peerStore.get(peer)).addresses.map(a => a.multiaddr),
      topicOf: siteTopic,
    }
    await servePeerExchange(this.px)
    node.addEventListener('peer:identify', (evt) => {
      if (!evt.detail.protocols.includes(PEER_EXCHANGE_PROTOCOL)) return
      // The host that dialled asks; the one dialled asks only while it still lacks dial targets.
      // Before, both asked on every connection: a seed that 49 hosts dial at start asked all 49
      // of them back, while its event loop was the one every newcomer waited on.
      if (evt.detail.connection.direction === 'outbound' || this.targets.size < this.init.targetPeers) void this.exchangeWith(evt.detail.peerId)
    })
    this.pxTimer = setInterval(() => this.exchangeRound(), PEER_EXCHANGE_RETRY_MS)
    this.pxTimer.unref()
    node.addEventListener('peer:disconnect', (evt) => {
      const peerId = evt.detail.toString()
      if (pubsub.getSubscribers(this.topics.site).length === 0) this.siteReachable = false
      this.on['peer:disconnected']?.(peerId, this.gate?.hostOf(peerId))
    })
    node.addEventListener('connection:open', (evt) => { coalesceSocketWrites(evt.detail) })
    node.addEventListener('peer:connect', (evt) => {
      this.lastConnectMs = this.clock()
      const t = this.targets.get(evt.detail.toString())
      if (t !== undefined) t.backoffMs = init.redialIntervalMs
      this.on['peer:connected']?.(evt.detail.toString())
    })
    for (const a of init.bootstrap) this.addTarget(multiaddr(a), true, undefined)
    this.redialTimer = setInterval(() => this.redial(), init.redialIntervalMs)
    this.redialTimer.unref()
    this.redial()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.handshakes.stop()
    if (this.redialTimer !== undefined) clearInterval(this.redialTimer)
    if (this.pxTimer !== undefined) clearInterval(this.pxTimer)
    await this.node?.stop()
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  /** Addresses other hosts can dial, each ending in /p2p/<our id>; at most maxAddrs. */
  dialableAddrs (): string[] {
    const own = this.libp2p.getMultiaddrs().map(a => a.toString())
    return own.filter(a => !a.includes('/ip4/0.0.0.0/') && !a.includes('/ip6/::/')).slice(0, PROTOCOL_LIMITS.maxAddrs)
  }

  connectionCount (): number {
    return this.node?.getConnections().length ?? 0
  }

  /** Peer ids this node has an open connection to. */
  connectedPeers (): Set<string> {
    return new Set(this.node?.getConnections().map(c => c.remotePeer.toString()) ?? [])
  }

  /** Peers in gossipsub's mesh for a topic (for status and tests). */
  meshPeers (topic: Topic): string[] {
    const ps = this.node?.services.pubsub as unknown as { getMeshPeers?: (t: string) => string[] } | undefined
    return ps?.getMeshPeers?.(this.topics[topic]) ?? []
  }

  /** The peer id that speaks for a host id, once it has spoken. */
  peerOf (hostId: string): string | undefined {
    return this.gate?.peerOf(hostId)
  }

  /** Waits for publishes in flight (the goodbye, at stop), at most `timeoutMs`. */
  async flush (timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise(resolve => setTimeout(resolve, timeoutMs).unref())])
  }

  get trackedSenders (): number {
    return this.gate?.trackedSenders ?? 0
  }

  get isPartitioned (): boolean {
    return this.partitioned
  }

  /** Encodes (the codec enforces every size limit) and publishes. Never throws: failures are reported. */
  publish (topic: Topic, message: Message, to?: string): void {
    let data: Uint8Array
    try {
      data = encodeMessage(message)
    } catch (err) {
      this.on['publish:failed']?.(topic, message, err as Error)
      return
    }
    if (this.partitioned || this.stopped) return
    if (topic === 'site' && to === undefined && message.body.kind === 'siteDigest') {
      const route = digestRoute(message.body.siteDigest.members, this.init.hostId, this.digestsSent++, (h) => this.ownTopicOf(h, hostDigestTopic))
      if (route !== 'site') {
        for (const t of route) this.publishOn(t, topic, message, data)
        return
      }
    }
    const direct = topic === 'site' && to !== undefined ? this.ownTopicOf(to, hostInboxTopic) : undefined
    this.publishOn(direct ?? this.topics[topic], topic, message, data)
  }

  private publishOn (pubsubTopic: string, topic: Topic, message: Message, data: Uint8Array): void {
    const p = this.libp2p.services.pubsub.publish(pubsubTopic, data).then(
      () => this.on['message:published']?.(topic, message, data.byteLength),
      (err: Error) => this.on['publish:failed']?.(topic, message, err),
    )
    this.inFlight.add(p)
    void p.finally(() => this.inFlight.delete(p))
  }

  /**
   * Host `hostId`'s own topic of that kind (its inbox, hostInboxTopic, or its digest topic,
   * hostDigestTopic) when a connected peer speaks for it and subscribes to it (a message there
   * then crosses that one connection), else undefined: the site topic carries it.
   */
  private ownTopicOf (hostId: string, topicOf: (site: string, hostId: string) => string): string | undefined {
    const peer = this.gate?.peerOf(hostId)
    if (peer === undefined) return undefined
    const topic = topicOf(this.init.site, hostId)
    return this.libp2p.services.pubsub.getSubscribers(topic).some(p => p.toString() === peer) ? topic : undefined
  }

  /**
   * This host leads its site (or stopped): join or leave the leader's inbox topic. gossipsub
   * tells connected peers at once, and their next heartbeat comes here.
   */
  setLeading (on: boolean): void {
    if (on === this.leading || this.node === undefined) return
    this.leading = on
    const pubsub = this.node.services.pubsub
    if (on) pubsub.subscribe(this.topics.leader)
    else pubsub.unsubscribe(this.topics.leader)
  }

  /**
   * The leader this host follows, from its digest: it must stay connected to it (heartbeats go
   * to the leader over that connection), so it is dialled first, over targetPeers, and again
   * whenever the connection drops. A new leader replaces the old pin.
   */
  noteLeader (hostId: string, addrs: readonly string[]): void {
    this.noteHost(hostId, addrs)
    let found: DialTarget | undefined
    for (const t of this.targets.values()) {
      t.pinned = t.hostId === hostId
      if (t.pinned) found = t
    }
    if (found === undefined || this.pinnedLeader === found.peerId) return
    this.pinnedLeader = found.peerId
    this.redial()
  }

  /** A site member's addresses from its heartbeat: keep it connected. */
  noteHost (hostId: string, addrs: readonly string[]): void {
    // Every heartbeat carries them and parsing multiaddrs is not cheap: only changes are parsed.
    const key = addrs.join(' ')
    if (this.notedAddrs.get(hostId) === key) return
    this.notedAddrs.set(hostId, key)
    for (const a of addrs) {
      let ma: Multiaddr
      try { ma = multiaddr(a) } catch { continue }
      const t = this.addTarget(ma, false, hostId)
      if (t === undefined) continue
      if (!t.addrs.some(x => x.equals(ma))) t.addrs.push(ma)
      if (t.addrs.length > PROTOCOL_LIMITS.maxAddrs) t.addrs.shift()
    }
  }

  /** The core forgot a host (reaped or left): stop dialling it unless it is a bootstrap peer. */
  forgetHost (hostId: string): void {
    this.notedAddrs.delete(hostId)
    for (const [peerId, t] of this.targets) {
      if (t.hostId === hostId && !t.bootstrap) this.targets.delete(peerId)
    }
  }

  /**
   * Fault injection (debug.faultInjection): cut this host off (every connection dropped, every
   * dial and inbound connection refused, nothing published) or heal it.
   */
  setPartitioned (on: boolean): void {
    this.partitioned = on
    if (!on) {
      for (const t of this.targets.values()) { t.nextDialMs = 0; t.backoffMs = this.init.redialIntervalMs }
      this.redial()
      return
    }
    for (const c of this.libp2p.getConnections()) c.abort(new Error('partitioned by fault injection'))
  }

  private get libp2p (): NonNullable<Mesh['node']> {
    if (this.node === undefined) throw new DaemonError(DaemonErrorCode.MeshStart, 'mesh not started')
    return this.node
  }

  private validate (topic: GateTopic, msg: PubsubMessage): TopicValidatorResult {
    const from = msg.type === 'signed' ? msg.from.toString() : undefined
    const v = this.gate!.check(topic, from, msg.data, this.clock())
    if (v.verdict === 'accept') {
      this.decoded.set(msg.data, v.message)
      return TopicValidatorResult.Accept
    }
    this.on['message:rejected']?.(topic === 'inbox' || topic === 'digest' ? 'site' : topic, v.reason, v.verdict, from ?? '')
    return v.verdict === 'reject' ? TopicValidatorResult.Reject : TopicValidatorResult.Ignore
  }

  private onPubsubMessage (msg: PubsubMessage): void {
    // A message in this host's inbox or digest topic is a site message addressed to it.
    const topic: Topic | undefined = msg.topic === this.topics.site || msg.topic === this.inbox || msg.topic === this.digestTopic ? 'site' : msg.topic === this.topics.global ? 'global' : msg.topic === this.topics.leader ? 'leader' : undefined
    if (topic === undefined) return
    const message = this.decoded.get(msg.data)
    // Delivered messages were accepted by validate(), which cached the decoded form.
    if (message === undefined) return
    this.decoded.delete(msg.data)
    this.on['message:received']?.(topic, message, msg.data.byteLength, this.clock())
    for (const l of this.listeners) l(topic, message)
  }

  /** The port's receive side (the daemon itself takes `message:received`, which carries the size too). */
  onMessage (listener: MessageListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /**
   * The periodic peer exchange: one connected peer, in turn. While this host knows fewer dial
   * targets than targetPeers, or the last answer taught it new ones, it asks again after
   * PEER_EXCHANGE_RETRY_MS, doubling while answers teach nothing, up to
   * PEER_EXCHANGE_INTERVAL_MS. Why: in a site starting together, a host's first answers (from
   * the seed, asked on connecting) list only the few hosts that were connected to the seed by
   * then, and the seed refuses exchanges beyond PEER_EXCHANGE_LIMITS.maxInboundStreams at once;
   * asking every 30 s left 27 of 50 hosts with no site peer but the seed after 20 s.
   */
  private exchangeRound (): void {
    const conns = this.node?.getConnections() ?? []
    if (conns.length === 0 || this.clock() < this.nextPxMs) return
    const peer = conns[this.pxRound++ % conns.length].remotePeer
    this.nextPxMs = Infinity
    void this.exchangeWith(peer).then((added) => {
      const wanting = added > 0 || this.targets.size < this.init.targetPeers
      this.pxDelayMs = !wanting ? PEER_EXCHANGE_INTERVAL_MS : added > 0 ? PEER_EXCHANGE_RETRY_MS : Math.min(this.pxDelayMs * 2, PEER_EXCHANGE_INTERVAL_MS)
      this.nextPxMs = this.clock() + this.pxDelayMs
    })
  }

  /** Asks a peer which members of our site it knows, and keeps them as dial targets; returns how many addresses were new. */
  private async exchangeWith (peer: PeerId): Promise<number> {
    if (this.px === undefined || this.partitioned || this.stopped) return 0
    const found = await askPeers(this.px, peer, this.init.site)
    let added = 0
    for (const p of found) {
      for (const a of p.addrs) {
        const known = this.targets.has(a.getComponents().findLast(c => c.name === 'p2p')?.value ?? '')
        if (this.addTarget(a, false, undefined, true) !== undefined && !known) added++
      }
    }
    if (added > 0) this.redial()
    return added
  }

  private addTarget (ma: Multiaddr, bootstrap: boolean, hostId: string | undefined, exchanged = false): DialTarget | undefined {
    const peerId = ma.getComponents().findLast(c => c.name === 'p2p')?.value
    const own = this.libp2p.peerId.toString()
    if (peerId === undefined || peerId === own) return undefined
    let t = this.targets.get(peerId)
    // Peers learnt second-hand are bounded; bootstrap peers and heartbeat senders always fit.
    if (t === undefined && exchanged && this.targets.size >= MAX_TARGETS_PER_TARGET_PEER * this.init.targetPeers) return undefined
    if (t === undefined) {
      t = { peerId, addrs: [ma], bootstrap, hostId, nextDialMs: 0, backoffMs: this.init.redialIntervalMs, rank: rank(own, peerId) }
      this.targets.set(peerId, t)
    }
    if (bootstrap) t.bootstrap = true
    if (hostId !== undefined) t.hostId = hostId
    return t
  }

  /**
   * Keeps targetPeers connections: while this host has fewer open connections (either
   * direction) than that, it dials targets it is not connected to, bootstrap peers first, then
   * site members ordered by a hash of (our id, their id), so every host prefers a different
   * subset and the site's connection graph is random-like rather than a star around the seeds.
   * The leader it follows is dialled whatever the count. Connections already open count
   * whoever opened them: before, every member that peer exchange or a heartbeat taught it and
   * that ranked among its first targetPeers was dialled as it was learnt, and a 50-host site
   * starting together ended with 24 connections per host on average (each a Noise handshake
   * on both sides while the site starts, and gossip and pings after) instead of about 10.
   * Beyond half of targetPeers it dials one peer at a time (newDialsAllowed).
   */
  private redial (): void {
    if (this.partitioned || this.stopped || this.node === undefined) return
    const now = this.clock()
    const connected = this.connectedPeers()
    let open = connected.size
    const ordered = [...this.targets.values()].sort((a, b) =>
      Number(b.pinned === true) - Number(a.pinned === true) || Number(b.bootstrap) - Number(a.bootstrap) || (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    let budget = newDialsAllowed(open, this.dialsInFlight, this.init, now - this.lastConnectMs)
    for (const t of ordered) {
      if (budget <= 0 && t.pinned !== true) break
      if (connected.has(t.peerId) || now < t.nextDialMs) continue
      if (this.dialsInFlight >= this.init.maxParallelDials) break
      this.dial(t, now)
      if (t.pinned === true) open++
      else budget--
    }
  }

  private dial (t: DialTarget, now: number): void {
    this.dialsInFlight++
    t.nextDialMs = now + t.backoffMs
    t.backoffMs = Math.min(this.init.redialBackoffMaxMs, t.backoffMs * 2)
    this.libp2p.dial(t.addrs, { signal: AbortSignal.timeout(this.init.dialTimeoutMs) }).then(
      (_c: Connection) => { t.backoffMs = this.init.redialIntervalMs },
      (err: Error) => this.on['dial:failed']?.(t.peerId, err),
    ).finally(() => { this.dialsInFlight-- })
  }
}

/**
 * How many dials of peers other than the pinned leader the re-dial loop may start now, with
 * `open` connections (either direction) and `inFlight` dials running, `quietMs` since this
 * host's last new connection: up to half of targetPeers at once; beyond that, one at a time
 * (none while a dial runs) and only after no connection came for `dialSettleMs`.
 * Why: in a site whose hosts start together, every host dialled up to targetPeers at once and
 * then received about as many connections from the others: a 50-host site with targetPeers 8
 * ended with 13–14 connections per member, each a Noise handshake, an identify exchange each
 * way and peer-store writes on both sides while the site was starting (a third of its CPU).
 * The first half is what a host needs whoever else dials; the rest is what other hosts' dials
 * leave missing once they have settled. A host joining a running site (nobody dials it)
 * reaches targetPeers one dial per dialSettleMs.
 */
export function newDialsAllowed (open: number, inFlight: number, c: { targetPeers: number, dialSettleMs: number }, quietMs: number): number {
  const busy = open + inFlight
  const half = Math.ceil(c.targetPeers / 2)
  if (busy < half) return half - busy
  return busy < c.targetPeers && inFlight === 0 && quietMs >= c.dialSettleMs ? 1 : 0
}

/**
 * One gossip RPC leaves as several small socket writes (yamux frame, Noise length prefix and
 * ciphertext, each through pnet), and every write is a syscall with its own trip through the
 * TCP stack: in a 10-host site it was the largest single CPU cost of an idle supervisor. Corking
 * the socket for the rest of the tick turns them into one writev. The TCP socket is found under
 * the connection's layers (`maConn`, not part of libp2p's typed API); if the shape ever
 * changes, nothing is patched and writes stay as they are.
 */
export function coalesceSocketWrites (conn: Connection): boolean {
  const socket = findSocket(conn)
  if (socket === undefined) return false
  const write = socket.write
  let corked = false
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true
      socket.cork()
      process.nextTick(() => { corked = false; socket.uncork() })
    }
    return write.apply(this, args)
  } as Socket['write']
  return true
}

function findSocket (o: unknown, depth = 0): Socket | undefined {
  if (typeof o !== 'object' || o === null || depth > 6) return undefined
  const x = o as { socket?: unknown, maConn?: unknown }
  if (x.socket instanceof Socket) return x.socket
  return findSocket(x.maConn, depth + 1)
}

function rank (own: string, other: string): string {
  return createHash('sha1').update(own).update(other).digest('hex')
}

export type { PeerId }
