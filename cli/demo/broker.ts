/**
 * The demo's embedded MQTT broker: aedes on a plain TCP server bound to loopback, with the
 * shared subscriptions the test agent relies on (shared-subscriptions.ts). It stands in for the
 * site's real broker (Mosquitto, EMQX…), so that `agentmesh demo` needs nothing installed.
 */
import { createServer, type Server, type Socket } from 'node:net'
import aedesModule from 'aedes'
import { SharedSubscriptions } from './shared-subscriptions.js'
import { DemoError, DemoErrorCode } from './errors.js'

export const BROKER_HOST = '127.0.0.1'

export interface EmbeddedBrokerInit {
  /** TCP port; 0 picks a free one. */
  port: number
  signal?: AbortSignal
}

export interface EmbeddedBroker {
  readonly port: number
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string
  connectedClientsCount: () => number
  close: () => Promise<void>
}

type AedesFactory = (opts?: import('aedes').AedesOptions) => import('aedes').default
// aedes is CommonJS: its default export is the factory function.
const createAedes = aedesModule as unknown as AedesFactory

export async function startEmbeddedBroker (init: EmbeddedBrokerInit): Promise<EmbeddedBroker> {
  init.signal?.throwIfAborted()
  const shared = new SharedSubscriptions()
  // One token per connection object, not the MQTT client id: a client that reconnects under the
  // same id must not lose its group membership when its old connection's close arrives late.
  const tokens = new WeakMap<object, string>()
  let nextToken = 1
  const tokenOf = (client: object): string => {
    let t = tokens.get(client)
    if (t === undefined) { t = `c${nextToken++}`; tokens.set(client, t) }
    return t
  }
  const aedes = createAedes({
    authorizeSubscribe (client, sub, callback) {
      const topic = shared.rewrite(tokenOf(client), sub.topic)
      if (topic === undefined) { callback(new Error('too many shared subscription groups')); return }
      callback(null, { ...sub, topic })
    },
    authorizeForward (client, packet) {
      const key = `${packet.brokerId}:${packet.brokerCounter}`
      return shared.forwardTo(tokenOf(client), packet.topic, key) ? packet : null
    },
  })
  aedes.on('clientDisconnect', (client) => shared.removeClient(tokenOf(client)))
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    aedes.handle(socket)
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(init.port, BROKER_HOST, () => { server.off('error', reject); resolve() })
    })
  } catch (err) {
    await new Promise<void>(resolve => aedes.close(() => resolve()))
    throw new DemoError(DemoErrorCode.BrokerListen, `the embedded MQTT broker cannot listen on ${BROKER_HOST}:${init.port}: ${(err as Error).message}`, { cause: err })
  }
  const port = (server.address() as { port: number }).port
  return {
    port,
    url: `mqtt://${BROKER_HOST}:${port}`,
    connectedClientsCount: () => aedes.connectedClients,
    async close () {
      const closed = new Promise<void>(resolve => server.close(() => resolve()))
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => aedes.close(() => resolve()))
      await closed
    },
  }
}
