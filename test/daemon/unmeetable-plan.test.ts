/**
 * A plan that the runtime cannot meet must not stop the supervisor. With every runtime (the
 * null runtime, which never starts anything; the process runtime with a program that does not
 * exist; Docker with a command the image does not have) a lone supervisor leads its site and
 * wants two replicas it can never run. Throughout, /healthz answers, the actions it retries
 * stay few (the driver's re-observe backoff), and SIGTERM still stops it cleanly.
 *
 * Before the driver's loop was bounded, the null runtime turned apply → observe → the same
 * starts again into a microtask loop: /healthz never answered and SIGTERM was ignored.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { Cluster, waitFor, type Supervisor } from './harness.js'
import { AGENT_IMAGE, ensureServices, removeContainersByLabel } from '../services/services.js'

/** How long /healthz is polled while the plan cannot be met. */
const WINDOW_MS = 5000
const POLL_MS = 100
/** Bound on one /healthz answer: a live event loop answers in milliseconds. */
const ANSWER_MS = 1000
/**
 * Most actions in the window: the re-observe backoff (100 ms doubling) allows about 7 passes
 * in 5 s, each asking for 2 starts and, with Docker, the removal of the failed containers.
 * Without the bound it was thousands.
 */
const ACTIONS_MAX = 60

interface Case { runtime: 'none' | 'process' | 'docker', agent?: Record<string, unknown> }

const RUN = `unmet-${randomBytes(3).toString('hex')}`
const CASES: Case[] = [
  { runtime: 'none' },
  { runtime: 'process', agent: { command: [`/nonexistent/${RUN}/agent`], stopTimeoutMs: 1000 } },
  { runtime: 'docker', agent: { image: AGENT_IMAGE, command: [`/nonexistent/${RUN}/agent`], stopTimeoutMs: 1000 } },
]

async function actionsTotal (sup: Supervisor): Promise<number> {
  return await sup.metric('agentmesh_container_actions_total')
}

describe('a plan the runtime cannot meet', { timeout: 3 * 60_000 }, () => {
  const clusters: Cluster[] = []
  after(async () => {
    for (const c of clusters) await c.stopAll()
    await removeContainersByLabel('agentmesh.site', `U-${RUN}-docker`).catch(() => 0)
  })

  for (const c of CASES) {
    it(`leaves /healthz answering and SIGTERM working (runtime ${c.runtime})`, async () => {
      if (c.runtime === 'docker') await ensureServices()
      const site = `U-${RUN}-${c.runtime}`
      const cluster = await Cluster.create({
        hosts: [{ hostId: `u-${c.runtime}`, site }],
        common: {
          log: { level: 'warn' },
          runtime: { kind: c.runtime, resyncIntervalMs: 10_000 },
          services: [{ name: 'unmet', targetPerReplica: 10, minReplicas: 2, maxReplicas: 2, ...(c.agent === undefined ? {} : { agent: c.agent }) }],
        },
      })
      clusters.push(cluster)
      const sup = cluster.sups[0]
      sup.start()
      await waitFor('the supervisor leads and wants 2 replicas', async () => {
        const plan = await sup.get<{ plan?: { decisions: Array<{ desired: number }> } }>('/v1/plan').catch(() => undefined)
        return plan?.plan?.decisions[0]?.desired === 2 ? true : undefined
      }, 30_000)

      const before = await actionsTotal(sup)
      const startedAt = Date.now()
      let polls = 0
      while (Date.now() - startedAt < WINDOW_MS) {
        const res = await fetch(`${sup.url}/healthz`, { signal: AbortSignal.timeout(ANSWER_MS) })
        assert.equal(res.status, 200, `/healthz answered ${res.status}`)
        await res.arrayBuffer()
        polls++
        await new Promise(resolve => setTimeout(resolve, POLL_MS))
      }
      const actions = await actionsTotal(sup) - before
      assert.ok(polls >= WINDOW_MS / (POLL_MS + ANSWER_MS), `only ${polls} polls answered`)
      assert.ok(actions > 0, 'the supervisor kept trying to meet its plan')
      assert.ok(actions <= ACTIONS_MAX, `${actions} container actions in ${WINDOW_MS} ms (at most ${ACTIONS_MAX})`)

      sup.proc!.kill('SIGTERM')
      const code = await Promise.race([sup.exited, new Promise(resolve => setTimeout(() => resolve('timeout'), 15_000))])
      assert.equal(code, 0, `exit after SIGTERM: ${String(code)}`)
    })
  }
})
