/**
 * The gossip and connection parameters a supervisor runs with, in one place. The daemon's
 * config defaults (node/daemon/config.ts: `network.gossipD`, `network.targetPeers`, …) and its
 * libp2p set-up (node/daemon/mesh.ts) read them, and the simulator models the same values
 * (sim/scenario-parse.ts, sim/fleet.ts) unless a scenario's `gossip` block overrides them, so the
 * two cannot drift apart. Pure constants: no I/O (the folder is kept free of it by a test).
 *
 * Where a value is gossipsub's own default (the daemon does not change it), the daemon passes
 * it explicitly anyway, so that a new gossipsub release changing its defaults does not change
 * the daemon behind the simulator's back.
 */
export const GOSSIP_DEFAULTS = {
  /**
   * gossipsub mesh degree, and the bounds its heartbeat keeps it in (graft below Dlo, prune
   * above Dhi). The publisher floods its own messages to every connected subscriber
   * (floodPublish), so the mesh only relays to hosts not connected to the publisher.
   */
  D: 3,
  Dlo: 2,
  Dhi: 6,
  /** Connected non-mesh peers that get IHAVE gossip at each heartbeat (gossipsub's default). */
  Dlazy: 6,
  /** A publisher sends its message to every connected peer subscribed to the topic, not only its mesh peers. */
  floodPublish: true,
  /** gossipsub's heartbeat (ms): mesh maintenance and IHAVE emission (gossipsub's default). */
  heartbeatMs: 1000,
  /** Heartbeats during which a message id is still advertised in IHAVE (mcacheGossip, gossipsub's default). */
  historyGossipHeartbeats: 3,
  /** Heartbeats a message is kept for IWANT (mcacheLength, gossipsub's default); at least historyGossipHeartbeats. */
  historyLengthHeartbeats: 5,
  /** While a host has fewer open connections than this (either direction), its re-dial loop dials more. */
  targetPeers: 8,
  /** libp2p's connection cap per host: above it, connections are pruned or refused. */
  maxConnections: 300,
  /** How often the re-dial loop runs (ms). */
  redialIntervalMs: 1000,
} as const

/** How the leader sends its site digest (digestRoute, below): to each member on its own digest topic, or on the site topic. */
export const DIGEST_ROUTING = {
  /**
   * One digest in this many goes on the site topic even when every member listed can be sent
   * its own copy (digestRoute): hosts not listed yet (joining, or of an older release that does
   * not subscribe to its digest topic) hear the leader at least this often (every 4 s at the
   * `lan` profile's 500 ms heartbeats).
   */
  siteTopicEvery: 8,
  /**
   * A digest listing more members than this goes on the site topic: each member's own copy is a
   * message of its own, signed and published by the leader, and only sites of up to 50 hosts
   * were measured (at 20, the leader's idle CPU did not move).
   */
  directMembersMax: 64,
} as const

/**
 * How the leader sends one site digest: to each member listed on its own digest topic, or on
 * the site topic. On the site topic every member receives the leader's flood copy and then one
 * copy from each of its gossipsub mesh peers (3 to 6), and at rest those relayed copies and the
 * IHAVE gossip about them were most of what an idle member received and decrypted (a 20-host
 * site: 13.6 RPCs a second for 2.7 new messages; docs/membership.md). A member's own copy crosses
 * the one connection to the leader. It goes on the site topic instead whenever one member
 * listed cannot be sent its own (`directTopicOf` undefined: not connected to the leader, or not
 * subscribed to the topic), once every DIGEST_ROUTING.siteTopicEvery digests, and in a site
 * larger than DIGEST_ROUTING.directMembersMax: a digest is
 * sent one way or the other, never both, so no member receives one sequence number twice.
 * `index` counts the digests this host sent while leading, from 0. The daemon's Mesh routes
 * with it, and the simulator charges a member's own copy no duplicates (sim/simulation.ts).
 */
export function digestRoute<T> (members: ReadonlyArray<{ hostId: string }>, ownHostId: string, index: number, directTopicOf: (hostId: string) => T | undefined): 'site' | T[] {
  if (index % DIGEST_ROUTING.siteTopicEvery === 0 || members.length > DIGEST_ROUTING.directMembersMax) return 'site'
  const topics: T[] = []
  for (const m of members) {
    if (m.hostId === ownHostId) continue
    const t = directTopicOf(m.hostId)
    if (t === undefined) return 'site'
    topics.push(t)
  }
  return topics.length === 0 ? 'site' : topics
}

// Relations gossipsub itself asserts at start (it throws otherwise): checked when this loads.
if (!(GOSSIP_DEFAULTS.Dlo <= GOSSIP_DEFAULTS.D && GOSSIP_DEFAULTS.D <= GOSSIP_DEFAULTS.Dhi)) throw new Error('GOSSIP_DEFAULTS: Dlo ≤ D ≤ Dhi')
if (!(GOSSIP_DEFAULTS.historyGossipHeartbeats <= GOSSIP_DEFAULTS.historyLengthHeartbeats)) throw new Error('GOSSIP_DEFAULTS: mcacheGossip ≤ mcacheLength')
if (!(GOSSIP_DEFAULTS.targetPeers < GOSSIP_DEFAULTS.maxConnections)) throw new Error('GOSSIP_DEFAULTS: targetPeers < maxConnections')
