import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { DEFAULT_TIMINGS, TIMING_PROFILES, timingProblems, timingsFor, type CoreTimings } from '../../node/core/config.js'
import { CoreError, CoreErrorCode } from '../../node/core/errors.js'

function configError (fn: () => unknown): CoreError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof CoreError)
    assert.equal(err.code, CoreErrorCode.ConfigInvalid)
    return err
  }
  assert.fail('expected a CoreError')
}

describe('timingsFor', () => {
  it('gives the defaults for the lan profile', () => {
    assert.deepEqual(timingsFor('lan'), DEFAULT_TIMINGS)
  })

  it('applies a profile as overrides of the defaults', () => {
    const wan = timingsFor('wan')
    assert.equal(wan.heartbeatIntervalMs, 2000)
    assert.equal(wan.deadAfterMs, 20_000)
    for (const key of Object.keys(DEFAULT_TIMINGS) as Array<keyof CoreTimings>) {
      assert.equal(wan[key], TIMING_PROFILES.wan[key] ?? DEFAULT_TIMINGS[key], key)
    }
  })

  it('applies the caller\'s overrides on top of the profile', () => {
    const t = timingsFor('wan', { sampleMaxAgeMs: 30_000 })
    assert.equal(t.sampleMaxAgeMs, 30_000)
    assert.equal(t.heartbeatIntervalMs, 2000)
  })

  it('every named profile is valid on its own', () => {
    for (const name of Object.keys(TIMING_PROFILES)) assert.deepEqual(timingProblems(timingsFor(name)), [], name)
  })

  it('refuses an unknown profile, naming the known ones', () => {
    const err = configError(() => timingsFor('moon'))
    assert.match(err.message, /"moon"/)
    assert.match(err.message, /lan, wan/)
  })

  it('refuses names inherited from Object as profiles', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) configError(() => timingsFor(name))
  })

  it('refuses overrides that break a relation, naming every broken one at once', () => {
    const err = configError(() => timingsFor('lan', { suspectAfterMs: 600, planRepublishMs: 10 }))
    assert.match(err.message, /suspectAfterMs must be at least 2 × heartbeatIntervalMs/)
    assert.match(err.message, /planRepublishMs must be at least planIntervalMs/)
  })

  it('does not change the shared defaults or profiles', () => {
    const before = structuredClone({ DEFAULT_TIMINGS, TIMING_PROFILES })
    const t = timingsFor('wan', { heartbeatIntervalMs: 1000 })
    t.deadAfterMs = 1
    assert.deepEqual({ DEFAULT_TIMINGS, TIMING_PROFILES }, before)
  })
})

describe('timingProblems', () => {
  const relations: Array<[string, Partial<CoreTimings>, RegExp]> = [
    ['suspect after under two heartbeats', { suspectAfterMs: 999 }, /^suspectAfterMs must be at least 2 × heartbeatIntervalMs/],
    ['dead not after suspect', { deadAfterMs: 1500 }, /^deadAfterMs must be greater than suspectAfterMs$/],
    ['reap not after dead', { reapAfterMs: 5000 }, /^reapAfterMs must be greater than deadAfterMs$/],
    ['leaderless reaping before reaping', { leaderlessReapAfterMs: 29_999 }, /^leaderlessReapAfterMs must be at least reapAfterMs$/],
    ['leader timeout under two heartbeats', { leaderTimeoutMs: 999 }, /^leaderTimeoutMs must be at least 2 × heartbeatIntervalMs$/],
    ['lease not above two heartbeats', { leaderLeaseMs: 1000 }, /^leaderLeaseMs must be greater than 2 × heartbeatIntervalMs$/],
    ['republish before planning', { planRepublishMs: 999 }, /^planRepublishMs must be at least planIntervalMs$/],
    ['samples stale within two heartbeats', { sampleMaxAgeMs: 999 }, /^sampleMaxAgeMs must be at least 2 × heartbeatIntervalMs$/],
  ]

  for (const [what, change, message] of relations) {
    it(`reports ${what}`, () => {
      const problems = timingProblems({ ...DEFAULT_TIMINGS, ...change })
      assert.equal(problems.length, 1, problems.join('; '))
      assert.match(problems[0], message)
    })
  }

  it('accepts every relation at its edge', () => {
    const h = 500
    const edge: CoreTimings = {
      ...DEFAULT_TIMINGS,
      heartbeatIntervalMs: h,
      suspectAfterMs: 2 * h,
      deadAfterMs: 2 * h + 1,
      reapAfterMs: 2 * h + 2,
      leaderlessReapAfterMs: 2 * h + 2,
      leaderTimeoutMs: 2 * h,
      leaderLeaseMs: 2 * h + 1,
      planRepublishMs: DEFAULT_TIMINGS.planIntervalMs,
      sampleMaxAgeMs: 2 * h,
    }
    assert.deepEqual(timingProblems(edge), [])
  })

  it('reports every field that is not a whole positive number of ms, naming it, before any relation', () => {
    const t = { ...DEFAULT_TIMINGS, heartbeatIntervalMs: 0, deadAfterMs: 1.5, reapAfterMs: -1, planIntervalMs: Number.NaN, leaderLeaseMs: '2000' as unknown as number }
    const problems = timingProblems(t)
    assert.deepEqual(problems.map(p => p.split(' ')[0]), ['heartbeatIntervalMs', 'deadAfterMs', 'reapAfterMs', 'leaderLeaseMs', 'planIntervalMs'])
    for (const p of problems) assert.match(p, /must be a whole number of ms > 0, got /)
  })
})
