/**
 * The contract of the container-runtime port (`ContainerRuntime`, node/core/ports.ts): what the
 * core's driver may rely on, whichever shell runs it. One suite, run against every
 * implementation (runtime.test.ts, docker-runtime.test.ts): the simulator's runtime, the
 * daemon's process and Docker runtimes behind its RuntimeDriver, and the `none` stand-in. If
 * the simulator's runtime drifts from the daemon's, a test here fails for one of them.
 *
 * Time is the shell's: `eventually` lets it pass (the simulator runs its event queue, a real
 * runtime waits for its change events), always with a bound.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ContainerRuntime, RuntimeObservation } from '../../node/core/ports.js'
import { OWNER_LABELS, isOwnedBy, reconcile, type ContainerAction, type ObservedContainer } from '../../node/core/reconcile.js'

export interface RuntimeUnderContract {
  runtime: ContainerRuntime
  hostId: string
  site: string
  /** A service the runtime has a spec for. */
  service: string
  /**
   * false for a stand-in that runs nothing (`runtime.kind: none`): it must say so (ok, nothing
   * observed) and accept every action without failing, and the rest of the contract is not its.
   */
  runsContainers: boolean
  /** Lets the shell's time pass until an observation satisfies `done`, within its bound; returns that observation. */
  eventually: (what: string, done: (o: RuntimeObservation) => boolean) => Promise<RuntimeObservation>
  /** Makes a running container exit behind the supervisor's back (a crash, a kill). */
  exitBehindItsBack?: (containerId: string) => Promise<void>
  close: () => Promise<void>
}

/** Builds a fresh runtime (one per suite: tests run in order and clean up after themselves). */
export type RuntimeFactory = () => Promise<RuntimeUnderContract>

const NO_SUCH_CONTAINER = 'agentmesh-contract-no-such-container'
const STAND_IN = 'a stand-in runs nothing (runtime.kind: none): its own test below says what it does instead'

export function containerRuntimeContract (shell: string, factory: RuntimeFactory): void {
  describe(`ContainerRuntime contract: ${shell}`, { timeout: 180_000 }, () => {
    let u: RuntimeUnderContract
    const signal = new AbortController().signal
    const observe = async (): Promise<RuntimeObservation> => await u.runtime.observe(signal)
    const apply = async (a: ContainerAction): Promise<void> => { await u.runtime.apply(a, signal) }
    const ours = (o: RuntimeObservation): ObservedContainer[] => o.containers.filter(c => isOwnedBy(c, u.hostId, u.site))
    const live = (o: RuntimeObservation): ObservedContainer[] => ours(o).filter(c => c.state !== 'exited')

    before(async () => { u = await factory() })
    after(async () => { await u?.close() })

    it('observes a fresh runtime as reachable, with no container of this host', async () => {
      const o = await observe()
      assert.equal(o.ok, true)
      assert.deepEqual(ours(o), [])
    })

    it('accepts a stop or a remove of a container that is already gone, and changes nothing', async () => {
      const before = (await observe()).containers.map(c => c.id).sort()
      await apply({ type: 'stop', service: u.service, containerId: NO_SUCH_CONTAINER })
      await apply({ type: 'remove', service: u.service, containerId: NO_SUCH_CONTAINER })
      assert.deepEqual((await observe()).containers.map(c => c.id).sort(), before)
    })

    it('starts a container that is observed running, labelled with its service, site, host and term', async (t) => {
      if (!u.runsContainers) return t.skip(STAND_IN)
      await apply({ type: 'start', service: u.service, term: 3 })
      const o = await u.eventually('one container running', o => live(o).length === 1 && live(o)[0].state === 'running')
      const [c] = live(o)
      for (const [label, value] of [[OWNER_LABELS.service, u.service], [OWNER_LABELS.site, u.site], [OWNER_LABELS.host, u.hostId], [OWNER_LABELS.term, '3']]) {
        assert.equal(c.labels[label], value, label)
      }
    })

    it('adds one container with its own id per start', async (t) => {
      if (!u.runsContainers) return t.skip(STAND_IN)
      const before = live(await observe()).map(c => c.id)
      await apply({ type: 'start', service: u.service, term: 3 })
      const o = await u.eventually('a second container', o => live(o).length === before.length + 1)
      assert.equal(new Set(live(o).map(c => c.id)).size, before.length + 1)
      assert.ok(before.every(id => live(o).some(c => c.id === id)), 'the earlier one is untouched')
    })

    it('takes a stopped container out of service, and a removed one out of the list', async (t) => {
      if (!u.runsContainers) return t.skip(STAND_IN)
      const victim = live(await observe())[0]
      await apply({ type: 'stop', service: u.service, containerId: victim.id })
      await u.eventually('the stopped container out of service', o => !live(o).some(c => c.id === victim.id))
      await apply({ type: 'remove', service: u.service, containerId: victim.id })
      await u.eventually('the removed container gone', o => !o.containers.some(c => c.id === victim.id))
      // Doing it again is not an error: the action is idempotent.
      await apply({ type: 'stop', service: u.service, containerId: victim.id })
      await apply({ type: 'remove', service: u.service, containerId: victim.id })
    })

    it('refuses a start of a service it has no spec for with E_RUNTIME_UNKNOWN_SERVICE, and starts nothing', async (t) => {
      if (!u.runsContainers) return t.skip(STAND_IN)
      const before = ours(await observe()).map(c => c.id).sort()
      await assert.rejects(async () => await apply({ type: 'start', service: 'agentmesh-contract-unknown', term: 3 }), (e: { code?: string }) => {
        assert.equal(e.code, 'E_RUNTIME_UNKNOWN_SERVICE')
        return true
      })
      assert.deepEqual(ours(await observe()).map(c => c.id).sort(), before)
    })

    it('reconciles level-triggered: once the actions are applied, reconciling again asks for nothing', async (t) => {
      if (!u.runsContainers) return t.skip(STAND_IN)
      for (const want of [2, 0]) {
        const wanted = new Map([[u.service, want]])
        const pass = (o: RuntimeObservation): ContainerAction[] => reconcile({ hostId: u.hostId, site: u.site, term: 4, wanted, observed: o.containers })
        for (const a of pass(await observe())) await apply(a)
        // Starts settle and stops finish in the shell's time; an exited container is removed on
        // the next pass, and nothing else may be left to do.
        const settled = await u.eventually(`${want} running`, o => live(o).length === want && !live(o).some(c => c.state === 'starting'))
        for (const a of pass(settled)) {
          assert.equal(a.type, 'remove', `only the clean-up of exited containers is left, got ${a.type}`)
          await apply(a)
        }
        const clean = await u.eventually('nothing left to do', o => pass(o).length === 0)
        assert.equal(live(clean).length, want)
        assert.deepEqual(pass(await observe()), [])
      }
    })

    it('reports a container that exits behind its back as exited or gone, and says that something changed', async (t) => {
      if (!u.runsContainers) return t.skip(STAND_IN)
      if (u.exitBehindItsBack === undefined || u.runtime.onChange === undefined) return t.skip('this shell cannot make a container exit from outside')
      await apply({ type: 'start', service: u.service, term: 5 })
      const o = await u.eventually('a container running', o => live(o).some(c => c.state === 'running'))
      const victim = live(o).find(c => c.state === 'running')!
      let changes = 0
      u.runtime.onChange(() => { changes++ })
      await u.exitBehindItsBack(victim.id)
      await u.eventually('the container exited or gone', o => !live(o).some(c => c.id === victim.id))
      assert.ok(changes > 0, 'onChange was called')
      for (const a of reconcile({ hostId: u.hostId, site: u.site, term: 5, wanted: new Map(), observed: (await observe()).containers })) await apply(a)
      await u.eventually('nothing of ours left', o => ours(o).length === 0)
    })

    it('as a stand-in that runs nothing, accepts every action, fails none and never shows a container', async (t) => {
      if (u.runsContainers) return t.skip('this shell runs containers')
      await apply({ type: 'start', service: u.service, term: 3 })
      await apply({ type: 'start', service: 'agentmesh-contract-unknown', term: 3 })
      await apply({ type: 'stop', service: u.service, containerId: NO_SUCH_CONTAINER })
      const o = await observe()
      assert.equal(o.ok, true)
      assert.deepEqual(o.containers, [])
    })
  })
}
