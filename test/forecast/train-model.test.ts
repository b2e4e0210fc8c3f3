import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SHIPPED_MODEL_FILE, trainModel } from '../../sim/forecast-train/train-model.js'

/** The bound on the committed model file. */
const MODEL_BYTES_MAX = 200 * 1024

describe('the shipped forecast model', () => {
  it('is what the training script writes, byte for byte', () => {
    const committed = readFileSync(SHIPPED_MODEL_FILE)
    const trained = trainModel().bytes
    assert.equal(Buffer.compare(Buffer.from(trained), committed), 0, 'run `node dist/sim/forecast-train/train-model.js` and commit the model')
  })

  it('is at most 200 KB', () => {
    assert.ok(readFileSync(SHIPPED_MODEL_FILE).length <= MODEL_BYTES_MAX)
  })
})
