/**
 * The latency relay (the stand-in for netem): bytes arrive whole, in order, and no sooner than
 * the link's delay in each direction; an end crosses the link; closing the relay cuts its links.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, connect, type Socket } from 'node:net'
import { describe, it } from 'node:test'
import { LatencyRelay } from './latency-relay.js'

async function echoServer (): Promise<{ port: number, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => { sockets.add(s); s.pipe(s) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as { port: number }).port
  return { port, close: async () => { for (const s of sockets) s.destroy(); server.close(); await once(server, 'close') } }
}

describe('the latency relay', () => {
  it('delivers every byte in order, a round trip no sooner than twice the delay, and passes the end on', async () => {
    const echo = await echoServer()
    const relay = await LatencyRelay.start(echo.port, { medianMs: 40, jitterMs: 20 })
    try {
      const client = connect({ host: '127.0.0.1', port: relay.port })
      await once(client, 'connect')
      const chunks: Buffer[] = []
      client.on('data', (c: Buffer) => chunks.push(c))
      const sent = Buffer.from(Array.from({ length: 2000 }, (_, i) => i % 251))
      const t0 = performance.now()
      // Many small writes, each its own chunk with its own jittered delay: order must still hold.
      for (let i = 0; i < sent.length; i += 100) client.write(sent.subarray(i, i + 100))
      client.end()
      await once(client, 'end')
      const elapsed = performance.now() - t0
      assert.deepEqual(Buffer.concat(chunks), sent)
      // Each direction waits at least the median, 40 ms.
      assert.ok(elapsed >= 80, `round trip ${elapsed.toFixed(1)} ms`)
    } finally {
      await relay.close()
      await echo.close()
    }
  })

  it('closing the relay cuts the links it carries', async () => {
    const echo = await echoServer()
    const relay = await LatencyRelay.start(echo.port, { medianMs: 1, jitterMs: 0 })
    const client = connect({ host: '127.0.0.1', port: relay.port })
    await once(client, 'connect')
    client.write('x')
    await once(client, 'data')
    client.on('error', () => {})
    await relay.close()
    await once(client, 'close')
    await echo.close()
  })
})
