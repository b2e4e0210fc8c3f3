/**
 * Counts the message copies this host receives in gossipsub RPCs, duplicates included.
 * gossipsub accepts a message once and drops every later copy by its id, but each copy was
 * still read, decrypted and decoded: in a 20-host site an election brings each host about 1.5
 * copies per message it accepts. The count (`agentmesh_gossip_received_copies_total`) against
 * the accepted messages gives the duplicates, and the fidelity benchmark fits their CPU cost
 * (the simulator's `gossip.duplicateCpuUs`).
 *
 * gossipsub has no event for a duplicate: its `handleReceivedRpc` (called as a method on the
 * instance, @libp2p/gossipsub 17.x) is wrapped on this instance only. If the shape differs (a
 * different version), nothing is wrapped and `countReceivedCopies` says so.
 */
interface RpcHandler {
  handleReceivedRpc?: (from: unknown, rpc: { messages?: unknown[] }) => Promise<void>
}

/** Wraps `pubsub`'s RPC handler to call `onCopies` with each RPC's message count; false when it has none. */
export function countReceivedCopies (pubsub: object, onCopies: (copies: number) => void): boolean {
  const target = pubsub as RpcHandler
  const original = target.handleReceivedRpc
  if (typeof original !== 'function') return false
  target.handleReceivedRpc = async function (this: unknown, from, rpc) {
    const copies = rpc?.messages?.length ?? 0
    if (copies > 0) onCopies(copies)
    return await original.call(this, from, rpc)
  }
  return true
}
