/**
 * Every size limit of the wire protocol, with its default, in one place.
 *
 * Encoding a message past a limit fails with ProtocolError(E_PROTO_LIMIT) on the sender;
 * decoding one fails the same way on the receiver, so an oversize or over-long message never
 * reaches the core. Limits only ever grow within a major version: a peer on an older minor
 * must still accept what a newer one sends.
 */
export const PROTOCOL_LIMITS = {
  /** Whole message on the wire, version byte included. gossipsub's own cap is set to this. */
  maxEncodedBytes: 64 * 1024,
  /** Labels on one host. */
  maxLabels: 32,
  /** Services in one heartbeat, plan, or site summary. */
  maxServices: 64,
  /** Signal samples in one heartbeat: one per service plus upstreams. */
  maxSignals: 128,
  /** Hosts with replicas in one plan (assignments are grouped by host). */
  maxAssignments: 4096,
  /**
   * Members listed in one site digest: the largest site one leader can describe. About 30
   * bytes a member with short host ids, so a full digest of long ids stays under
   * maxEncodedBytes only up to a few hundred members of 128-byte ids: the encoder refuses it
   * (E_PROTO_TOO_LARGE) rather than sending it.
   */
  maxDigestMembers: 2048,
  /** Dialable addresses carried in one heartbeat. */
  maxAddrs: 8,
  /** Host ids, site names, service names, request ids, candidate ids. */
  maxIdBytes: 128,
  /** Label keys. */
  maxLabelKeyBytes: 128,
  /** Label values. */
  maxLabelValueBytes: 256,
  /** One multiaddr string. */
  maxAddrBytes: 256,
  /** Replicas of one service on one host, or asked for in one spill request. */
  maxReplicas: 100_000,
} as const

export type ProtocolLimits = typeof PROTOCOL_LIMITS
