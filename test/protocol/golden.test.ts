/**
 * Golden encodings: the exact v1 bytes of one example message per kind, checked in as hex.
 *
 * A failure here means the wire format changed for a message every deployed peer must still
 * read. If the change is intended (a field appended, say), regenerate and review the diff:
 *
 *   npx tsc -p . && UPDATE_GOLDEN=1 node --test dist/test/protocol/golden.test.js
 *
 * Without UPDATE_GOLDEN=1 a missing file is a failure, never silently written.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { decodeMessage, encodeMessage, PROTOCOL_MAJOR } from '../../protocol/codec.js'
import type { MessageKind } from '../../protocol/codec.js'
import { fromHex, toHex } from './frames.js'
import { GOLDEN_MESSAGES } from './golden-messages.js'

// This file runs as dist/test/protocol/golden.test.js; the checked-in files live in the sources.
const GOLDEN_DIR = fileURLToPath(new URL('../../../test/protocol/golden/v1/', import.meta.url))
const UPDATE = process.env.UPDATE_GOLDEN === '1'
const KINDS = Object.keys(GOLDEN_MESSAGES) as MessageKind[]

/** voteRequest → vote-request.hex: file names are kebab-case like every other file. */
function goldenFileName (kind: MessageKind): string {
  return `${kind.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.hex`
}

function goldenPath (kind: MessageKind): string {
  return `${GOLDEN_DIR}${goldenFileName(kind)}`
}

/** 32 bytes per line, so a changed field shows as a changed line in review. */
function goldenText (bytes: Uint8Array): string {
  return `${toHex(bytes).replace(/(.{64})/g, '$1\n').trimEnd()}\n`
}

function readGolden (kind: MessageKind): Uint8Array {
  const path = goldenPath(kind)
  if (!existsSync(path)) {
    assert.fail(`golden file ${path} is missing; to create it run ` +
      'UPDATE_GOLDEN=1 node --test dist/test/protocol/golden.test.js and review it')
  }
  return fromHex(readFileSync(path, 'utf8'))
}

describe('golden v1 encodings', () => {
  for (const kind of KINDS) {
    const example = GOLDEN_MESSAGES[kind]

    if (UPDATE) {
      test(`the ${kind} golden file is rewritten from its example`, () => {
        mkdirSync(GOLDEN_DIR, { recursive: true })
        writeFileSync(goldenPath(kind), goldenText(encodeMessage(example)))
      })
      continue
    }

    test(`the ${kind} example encodes to exactly its checked-in bytes`, () => {
      assert.equal(toHex(encodeMessage(example)), toHex(readGolden(kind)))
    })

    test(`the checked-in ${kind} bytes decode to the ${kind} example`, () => {
      const bytes = readGolden(kind)
      assert.equal(bytes[0], PROTOCOL_MAJOR)
      assert.deepStrictEqual(decodeMessage(bytes), example)
    })
  }

  test('every golden file belongs to a known message kind', { skip: UPDATE }, () => {
    const expected = new Set(KINDS.map(goldenFileName))
    const stray = readdirSync(GOLDEN_DIR).filter((name) => !expected.has(name))
    assert.deepEqual(stray, [], `stray files in ${GOLDEN_DIR}`)
  })
})
