// The test services themselves: a Docker engine, the locally built agent image, the Mosquitto
// broker, and agent containers splitting work from a shared subscription. Every later
// integration test stands on these, so a broken service shows up here first, by name.

import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import mqtt from 'mqtt'
import {
  AGENT_IMAGE,
  BASE_IMAGE,
  MQTT_URL,
  TEST_LABEL,
  TEST_RUN_LABEL,
  docker,
  ensureServices,
  newRunId,
  removeContainersByLabel,
  waitForLogLine,
} from './services.js'

const MESSAGES_COUNT = 40
const AGENTS_COUNT = 2
const AGENT_RATE_PER_S = 100
const SUBSCRIBED_TIMEOUT_MS = 15_000
/** 40 messages at 2 × 100/s take 0.2 s; the bound is generous for a loaded CI machine. */
const ACKS_TIMEOUT_MS = 20_000
const CONNECT_TIMEOUT_MS = 5_000
/** `docker stop` grace: an agent ignoring SIGTERM would be killed (exit 137) after it. */
const STOP_GRACE_S = 5

const RUN = newRunId('infra')

interface Ack {
  agent: string
  processed: number
  queued: number
  msg: string
}

function runAgent(name: string, env: Record<string, string>): Promise<string> {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])
  return docker([
    'run', '-d', '--name', name, '--network', 'host',
    '--label', `${TEST_LABEL}=1`, '--label', `${TEST_RUN_LABEL}=${RUN}`,
    ...envArgs, AGENT_IMAGE,
  ])
}

describe('test services', { timeout: 15 * 60_000 }, () => {
  before(async () => {
    await ensureServices()
  })

  after(async () => {
    await removeContainersByLabel(TEST_RUN_LABEL, RUN)
  })

  it('has a Docker engine that answers', async () => {
    const version = await docker(['info', '--format', '{{.ServerVersion}}'])
    assert.match(version, /^\d+\.\d+/)
  })

  it('has the base and agent images, built locally with their input hash', async () => {
    for (const image of [BASE_IMAGE, AGENT_IMAGE]) {
      const hash = await docker(['image', 'inspect', '--format', '{{ index .Config.Labels "agentmesh.inputs-hash" }}', image])
      assert.match(hash, /^[0-9a-f]{64}$/, `${image} carries agentmesh.inputs-hash`)
    }
  })

  it('runs node in the agent image with no network at all', async () => {
    const out = await docker(['run', '--rm', '--network', 'none', '--label', `${TEST_LABEL}=1`, AGENT_IMAGE, 'node', '--version'])
    assert.match(out, /^v\d+\.\d+\.\d+$/)
  })

  it('has a Mosquitto broker that accepts a connection', async () => {
    const client = await mqtt.connectAsync(MQTT_URL, { connectTimeout: CONNECT_TIMEOUT_MS, reconnectPeriod: 0 })
    try {
      assert.equal(client.connected, true)
    } finally {
      await client.endAsync()
    }
  })

  it('splits work between agent containers on a shared subscription and stops them cleanly', async () => {
    const workTopic = `agentmesh-test/${RUN}/work`
    const ackTopic = `agentmesh-test/${RUN}/acks`
    const client = await mqtt.connectAsync(MQTT_URL, { connectTimeout: CONNECT_TIMEOUT_MS, reconnectPeriod: 0 })
    try {
      const acks = new Map<string, Ack[]>()
      let allAcked: () => void = () => {}
      const allAckedP = new Promise<void>((resolve) => { allAcked = resolve })
      client.on('message', (topic, payload) => {
        if (topic !== ackTopic) return
        const ack = JSON.parse(payload.toString('utf8')) as Ack
        acks.set(ack.msg, [...(acks.get(ack.msg) ?? []), ack])
        if (acks.size === MESSAGES_COUNT) allAcked()
      })
      await client.subscribeAsync(ackTopic, { qos: 0 })

      const names = Array.from({ length: AGENTS_COUNT }, (_, i) => `${RUN}-agent-${i}`)
      for (const name of names) {
        await runAgent(name, {
          AGENT_MQTT_URL: MQTT_URL,
          AGENT_TOPIC: workTopic,
          AGENT_REPLY_TOPIC: ackTopic,
          AGENT_RATE_PER_S: String(AGENT_RATE_PER_S),
          AGENT_ID: name,
        })
      }
      // Messages published before a replica subscribes would go to the others only.
      await Promise.all(names.map((n) => waitForLogLine(n, /"agent:subscribed"/, SUBSCRIBED_TIMEOUT_MS)))

      for (let i = 0; i < MESSAGES_COUNT; i++) await client.publishAsync(workTopic, `m${i}`, { qos: 1 })
      await withTimeout(allAckedP, ACKS_TIMEOUT_MS, () => `only ${acks.size}/${MESSAGES_COUNT} messages acked`)

      const perAgent = new Map<string, number>()
      for (const [msg, list] of acks) {
        assert.equal(list.length, 1, `${msg} processed exactly once`)
        perAgent.set(list[0].agent, (perAgent.get(list[0].agent) ?? 0) + 1)
      }
      assert.deepEqual([...perAgent.keys()].sort(), [...names].sort(), 'every replica took a share')

      for (const name of names) {
        await docker(['stop', '--time', String(STOP_GRACE_S), name])
        const exitCode = await docker(['inspect', '--format', '{{.State.ExitCode}}', name])
        assert.equal(exitCode, '0', `${name} exits 0 on SIGTERM, not killed after the grace`)
      }
    } finally {
      await client.endAsync()
    }
  })
})

async function withTimeout<T>(p: Promise<T>, timeoutMs: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), timeoutMs)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}
