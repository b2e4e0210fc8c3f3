#!/usr/bin/env node
// The test agent: the "agent container" that agentmesh scales in the demo and the e2e tests.
//
// It takes work messages from an MQTT topic through a shared subscription (`$share/GROUP/TOPIC`),
// so the broker splits the messages between replicas, and processes at most AGENT_RATE_PER_S of
// them per second ("processing" is only pacing: it stands for parsing, a model, an upload).
// After each message it may publish an acknowledgement to AGENT_REPLY_TOPIC, which is how tests
// see which replica did which message. SIGTERM or SIGINT: it disconnects and exits 0.
//
// Plain JS with no npm dependencies (mqtt-lite.mjs speaks the MQTT 3.1.1 subset), so it runs in
// an image that holds only the node binary. It needs only a TCP route to the broker: run it with
// Docker network mode `host` against a broker on 127.0.0.1.
//
// Delivery is QoS 0: messages queued inside an agent that stops are lost, and the broker assigns
// a message to a replica when it arrives, so a new replica takes new messages only. When its
// queue is full the agent stops reading from the socket (TCP back-pressure), so memory stays
// bounded and the broker, not the agent, holds the overflow.
//
// Environment (all optional except AGENT_TOPIC):
//   AGENT_MQTT_URL      mqtt://HOST:PORT of the broker          default mqtt://127.0.0.1:1883
//   AGENT_TOPIC         topic the work arrives on                required
//   AGENT_SHARE_GROUP   shared-subscription group; empty = a plain subscription (every replica
//                       gets every message)                      default agents
//   AGENT_RATE_PER_S    messages processed per second, > 0       default 10
//   AGENT_REPLY_TOPIC   where to publish one JSON ack per processed message
//                       {"agent","processed","queued","msg"}    default none
//   AGENT_QUEUE_MAX     messages held before reading pauses      default 1000
//   AGENT_KEEPALIVE_S   MQTT keep-alive                          default 30
//   AGENT_ID            client id                                default agent-HOSTNAME-RANDOM
// Logs: one JSON object per line on stdout. Exit codes: 0 after a signal, 2 on bad config.

import net from 'node:net'
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import {
  DISCONNECT,
  PINGREQ,
  PacketReader,
  SUBACK_FAILURE,
  encodeConnect,
  encodePublish,
  encodeSubscribe,
} from './mqtt-lite.mjs'

/** Reconnect backoff bounds. */
const RECONNECT_DELAY_MS_MIN = 250
const RECONNECT_DELAY_MS_MAX = 5_000
/** How long a stop may take before the process exits anyway. */
const STOP_GRACE_MS = 2_000
/** Largest part of a work message echoed in an ack. */
const ACK_ECHO_BYTES_MAX = 256
/** Packet id of our only SUBSCRIBE. */
const SUBSCRIBE_PACKET_ID = 1

function log(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ time: Date.now(), event, ...fields })}\n`)
}

function readConfig(env) {
  const problems = []
  const number = (name, fallback, ok) => {
    const raw = env[name]
    const value = raw === undefined || raw === '' ? fallback : Number(raw)
    if (!ok(value)) problems.push(`${name}=${raw} is not valid`)
    return value
  }
  const url = new URL(env.AGENT_MQTT_URL || 'mqtt://127.0.0.1:1883')
  if (url.protocol !== 'mqtt:') problems.push(`AGENT_MQTT_URL must be mqtt://HOST:PORT, got ${url.href}`)
  const topic = env.AGENT_TOPIC ?? ''
  if (topic === '' || /[+#]/.test(topic)) problems.push('AGENT_TOPIC must be set and have no wildcards')
  const group = env.AGENT_SHARE_GROUP ?? 'agents'
  if (/[/+#]/.test(group)) problems.push('AGENT_SHARE_GROUP must not hold / + #')
  const config = {
    host: url.hostname || '127.0.0.1',
    port: url.port === '' ? 1883 : Number(url.port),
    topicFilter: group === '' ? topic : `$share/${group}/${topic}`,
    ratePerS: number('AGENT_RATE_PER_S', 10, (v) => Number.isFinite(v) && v > 0),
    replyTopic: env.AGENT_REPLY_TOPIC || undefined,
    queueMax: number('AGENT_QUEUE_MAX', 1000, (v) => Number.isInteger(v) && v >= 1),
    keepAliveS: number('AGENT_KEEPALIVE_S', 30, (v) => Number.isInteger(v) && v >= 1 && v <= 65_535),
    clientId: env.AGENT_ID || `agent-${os.hostname()}-${randomBytes(4).toString('hex')}`,
  }
  return { config, problems }
}

function main() {
  const { config, problems } = readConfig(process.env)
  if (problems.length > 0) {
    log('agent:config-invalid', { problems })
    process.exitCode = 2
    return
  }
  const agent = createAgent(config)
  for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => agent.stop(signal))
  agent.start()
}

function createAgent(config) {
  const intervalMs = 1000 / config.ratePerS
  /** @type {Buffer[]} */
  const queue = []
  let processed = 0
  let socket
  let reader
  let subscribed = false
  let stopping = false
  let paused = false
  let reconnectDelayMs = RECONNECT_DELAY_MS_MIN
  let lastReceivedMs = 0
  let workTimer
  let pingTimer
  let reconnectTimer

  function connect() {
    reader = new PacketReader()
    subscribed = false
    paused = false
    socket = net.connect({ host: config.host, port: config.port })
    socket.setNoDelay(true)
    socket.on('connect', () => {
      lastReceivedMs = Date.now()
      socket.write(encodeConnect({ clientId: config.clientId, keepAliveS: config.keepAliveS }))
    })
    socket.on('data', onData)
    socket.on('error', (err) => log('agent:socket-error', { code: err.code, message: err.message }))
    socket.on('close', onClose)
  }

  function onData(chunk) {
    lastReceivedMs = Date.now()
    let packets
    try {
      packets = reader.push(chunk)
    } catch (err) {
      log('agent:protocol-error', { code: err.code, message: err.message })
      socket.destroy()
      return
    }
    for (const p of packets) onPacket(p)
  }

  function onPacket(p) {
    if (p.type === 'connack') {
      if (p.returnCode !== 0) {
        log('agent:connect-refused', { returnCode: p.returnCode })
        socket.destroy()
        return
      }
      socket.write(encodeSubscribe({ packetId: SUBSCRIBE_PACKET_ID, topicFilter: config.topicFilter }))
    } else if (p.type === 'suback') {
      if (p.returnCodes[0] === SUBACK_FAILURE) {
        log('agent:subscribe-refused', { topicFilter: config.topicFilter })
        socket.destroy()
        return
      }
      subscribed = true
      reconnectDelayMs = RECONNECT_DELAY_MS_MIN
      log('agent:subscribed', { clientId: config.clientId, topicFilter: config.topicFilter })
    } else if (p.type === 'publish') {
      queue.push(p.payload)
      if (queue.length >= config.queueMax && !paused) {
        paused = true
        socket.pause()
      }
      scheduleWork()
    }
  }

  function onClose() {
    clearTimeout(workTimer)
    workTimer = undefined
    if (stopping) return
    log('agent:disconnected', { retryInMs: reconnectDelayMs })
    reconnectTimer = setTimeout(connect, reconnectDelayMs)
    reconnectDelayMs = Math.min(reconnectDelayMs * 2, RECONNECT_DELAY_MS_MAX)
  }

  // Work runs one message per interval while the queue is not empty.
  function scheduleWork() {
    if (workTimer === undefined && queue.length > 0 && !stopping) {
      workTimer = setTimeout(workOne, intervalMs)
    }
  }

  function workOne() {
    workTimer = undefined
    const payload = queue.shift()
    if (payload === undefined) return
    processed += 1
    if (config.replyTopic !== undefined && subscribed) {
      const ack = {
        agent: config.clientId,
        processed,
        queued: queue.length,
        msg: payload.subarray(0, ACK_ECHO_BYTES_MAX).toString('utf8'),
      }
      socket.write(encodePublish({ topic: config.replyTopic, payload: JSON.stringify(ack) }))
    }
    if (paused && queue.length <= config.queueMax / 2) {
      paused = false
      socket.resume()
    }
    scheduleWork()
  }

  // Keep-alive: ping at half the interval; a broker silent for 1.5 intervals is gone (§3.1.2.10).
  // While paused we read nothing, so silence then proves nothing.
  function keepAlive() {
    if (socket === undefined || socket.destroyed || socket.connecting) return
    if (!paused && Date.now() - lastReceivedMs > config.keepAliveS * 1500) {
      log('agent:keepalive-timeout')
      socket.destroy()
      return
    }
    socket.write(PINGREQ)
  }

  return {
    start() {
      log('agent:start', {
        clientId: config.clientId,
        broker: `${config.host}:${config.port}`,
        topicFilter: config.topicFilter,
        ratePerS: config.ratePerS,
      })
      pingTimer = setInterval(keepAlive, config.keepAliveS * 500)
      connect()
    },
    stop(signal) {
      if (stopping) return
      stopping = true
      clearInterval(pingTimer)
      clearTimeout(workTimer)
      clearTimeout(reconnectTimer)
      log('agent:stop', { signal, processed, droppedQueued: queue.length })
      // Normally the loop empties and node exits; this bounds a close that hangs.
      setTimeout(() => process.exit(0), STOP_GRACE_MS).unref()
      if (socket !== undefined && !socket.destroyed && !socket.connecting) {
        socket.end(DISCONNECT, () => socket.destroy())
      } else {
        socket?.destroy()
      }
    },
  }
}

main()
