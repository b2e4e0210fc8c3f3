/**
 * protocol/ and node/core/ do no I/O and read no clock: time and randomness come in as
 * arguments, and only the daemon's driver and the simulator touch the world. This test scans
 * their sources and fails, naming file and line, on anything that reaches out.
 *
 * Comments are blanked before scanning so prose may name what code may not use (codec.ts
 * explains why js-libp2p's codec was chosen). String literals are kept, since import
 * specifiers are strings. Known gap: a regular expression literal holding a quote or a comment
 * opener can confuse the comment blanking; none exists in these folders.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

// This file runs as dist/test/protocol/purity.test.js; the sources are at the repo root.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Folders that must stay pure; `required` ones must exist and hold sources. */
const PURE_DIRS = [
  { dir: 'protocol', required: true },
  { dir: 'node/core', required: false },
]

const FORBIDDEN: Array<{ name: string, pattern: RegExp }> = [
  { name: 'Date.now', pattern: /\bDate\s*\.\s*now\b/ },
  { name: 'new Date', pattern: /\bnew\s+Date\b/ },
  { name: 'Math.random', pattern: /\bMath\s*\.\s*random\b/ },
  { name: 'setTimeout', pattern: /\bsetTimeout\b/ },
  { name: 'setInterval', pattern: /\bsetInterval\b/ },
  { name: 'setImmediate', pattern: /\bsetImmediate\b/ },
  { name: 'process.', pattern: /\bprocess\s*\./ },
  { name: "from 'node:", pattern: /\b(?:from|import)\s*\(?\s*['"`]node:/ },
  { name: 'require(', pattern: /\brequire\s*\(/ },
  { name: 'libp2p', pattern: /libp2p/ },
  { name: 'dockerode', pattern: /dockerode/ },
  { name: 'console.', pattern: /\bconsole\s*\./ },
  { name: 'performance.', pattern: /\bperformance\s*\./ },
]

const IMPORT_SPECIFIER = /\b(?:from|import)\s*\(?\s*['"`]([^'"`]+)['"`]/g
const NODE_BUILTINS = new Set(builtinModules)

type Mode = 'code' | 'line-comment' | 'block-comment' | "'" | '"' | '`'

/**
 * The source with every comment replaced by spaces, newlines kept so line numbers still match.
 * Strings and template literals (with `${}` holes, nested) are kept as they are.
 */
export function blankComments (source: string): string {
  const out: string[] = []
  const modes: Mode[] = ['code']
  // Open braces per `${` hole, so the `}` that closes a hole returns to its template.
  const holeDepths: number[] = []
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    const next = source[i + 1]
    const mode = modes[modes.length - 1]
    if (mode === 'line-comment') {
      if (c === '\n') { modes.pop(); out.push(c) } else out.push(' ')
    } else if (mode === 'block-comment') {
      if (c === '*' && next === '/') { modes.pop(); out.push('  '); i++ } else out.push(c === '\n' ? c : ' ')
    } else if (mode === "'" || mode === '"' || mode === '`') {
      out.push(c)
      if (c === '\\') { out.push(next ?? ''); i++ } else if (c === mode) modes.pop()
      else if (mode === '`' && c === '$' && next === '{') { out.push(next); i++; modes.push('code'); holeDepths.push(0) }
    } else if (c === '/' && next === '/') {
      modes.push('line-comment'); out.push('  '); i++
    } else if (c === '/' && next === '*') {
      modes.push('block-comment'); out.push('  '); i++
    } else {
      out.push(c)
      if (c === "'" || c === '"' || c === '`') modes.push(c)
      else if (holeDepths.length > 0 && c === '{') holeDepths[holeDepths.length - 1]++
      else if (holeDepths.length > 0 && c === '}') {
        if (holeDepths[holeDepths.length - 1] === 0) { holeDepths.pop(); modes.pop() } else holeDepths[holeDepths.length - 1]--
      }
    }
  }
  return out.join('')
}

/** Every forbidden use in one source, as `file:line: what: the line`. */
export function findImpurities (file: string, source: string): string[] {
  const found: string[] = []
  const lines = blankComments(source).split('\n')
  const original = source.split('\n')
  lines.forEach((line, index) => {
    const where = `${file}:${index + 1}`
    for (const { name, pattern } of FORBIDDEN) {
      if (pattern.test(line)) found.push(`${where}: ${name}: ${original[index].trim()}`)
    }
    for (const [, specifier] of line.matchAll(IMPORT_SPECIFIER)) {
      if (NODE_BUILTINS.has(specifier)) found.push(`${where}: Node built-in '${specifier}': ${original[index].trim()}`)
    }
  })
  return found
}

function sourcesIn (dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join(dir, name))
    .sort()
}

describe('purity of the protocol and the core', () => {
  test('the comment blanking hides comments but keeps code and strings', () => {
    const source = [
      "// Date.now() is not called here",
      "/* nor console.log('x') */ const a = 'Date.now'",
      "const b = `x ${ {}.y ?? `${'/*'}` } z` + Math.random()",
      "const c = 1 // process.exit()",
    ].join('\n')
    const blanked = blankComments(source).split('\n')
    assert.equal(blanked.length, 4)
    assert.doesNotMatch(blanked[0], /Date/)
    assert.doesNotMatch(blanked[1], /console/)
    assert.match(blanked[1], /'Date\.now'/)
    assert.match(blanked[2], /Math\.random/)
    assert.doesNotMatch(blanked[3], /process/)
  })

  test('the scan names file, line and rule for each forbidden use', () => {
    const found = findImpurities('x.ts', "import { readFileSync } from 'fs'\nconst t = Date.now()\n// setTimeout is fine here\n")
    assert.deepEqual(found, [
      "x.ts:1: Node built-in 'fs': import { readFileSync } from 'fs'",
      'x.ts:2: Date.now: const t = Date.now()',
    ])
  })

  test('protocol/ and node/core/ use no clock, timer, randomness, process, Node built-in, network, docker or console', () => {
    const files: string[] = []
    for (const { dir, required } of PURE_DIRS) {
      if (!existsSync(join(REPO_ROOT, dir))) {
        assert.ok(!required, `${dir}/ is missing`)
        continue
      }
      const sources = sourcesIn(dir)
      assert.ok(!required || sources.length > 0, `${dir}/ holds no .ts files`)
      files.push(...sources)
    }
    // The generated protocol/wire.ts is scanned like the rest: protons emits nothing forbidden.
    const impurities = files.flatMap((file) => findImpurities(file, readFileSync(join(REPO_ROOT, file), 'utf8')))
    assert.deepEqual(impurities, [], `impure code in a pure folder:\n${impurities.join('\n')}`)
  })
})
