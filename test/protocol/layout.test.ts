/**
 * The layout, kept honest: imports only go down the stack of folders, as the README's map of
 * the folders says. cli/ (the command line) sits above both shells; node/ (the daemon
 * and its adapters) and sim/ (the simulator) are the two shells and never import each other;
 * node/core/ imports only protocol/; protocol/ imports nothing of ours; the adapters
 * (node/runtime/, node/signals/) implement the core's ports and never import the daemon.
 *
 * The scan reads every relative import specifier of every .ts source (comments included:
 * an import in a comment is harmless but rare, and a false alarm is cheap to fix).
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Who may import whom: a source under `from` may not import anything under `forbidden`. */
const RULES: Array<{ from: string, forbidden: string[], why: string }> = [
  { from: 'protocol/', forbidden: ['node/', 'sim/', 'cli/', 'bench/', 'test/'], why: 'the wire format stands alone' },
  { from: 'node/core/', forbidden: ['node/daemon/', 'node/runtime/', 'node/signals/', 'sim/', 'cli/', 'bench/', 'test/'], why: 'the core imports only protocol/' },
  { from: 'node/runtime/', forbidden: ['node/daemon/', 'sim/', 'cli/'], why: 'adapters implement the core\'s ports, not the daemon\'s' },
  { from: 'node/signals/', forbidden: ['node/daemon/', 'sim/', 'cli/'], why: 'adapters implement the core\'s ports, not the daemon\'s' },
  { from: 'node/secrets/', forbidden: ['node/daemon/', 'sim/', 'cli/'], why: 'adapters implement the core\'s ports, not the daemon\'s' },
  { from: 'node/forecast/', forbidden: ['node/daemon/', 'sim/', 'cli/'], why: 'adapters implement the core\'s ports, not the daemon\'s' },
  { from: 'node/', forbidden: ['sim/', 'cli/', 'bench/', 'test/'], why: 'the daemon shell does not know the simulator or the command line' },
  { from: 'sim/', forbidden: ['node/daemon/', 'node/runtime/', 'node/signals/', 'cli/', 'bench/', 'test/'], why: 'the simulator runs the core, not the daemon' },
]

const SPECIFIER = /\b(?:from|import)\s*\(?\s*['"`](\.{1,2}\/[^'"`]+)['"`]/g

function sources (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(REPO_ROOT, dir))) {
    const rel = join(dir, name)
    if (statSync(join(REPO_ROOT, rel)).isDirectory()) out.push(...sources(rel))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

/** Every relative import of a file, as a repo-relative path. */
function importsOf (file: string): Array<{ line: number, target: string }> {
  const out: Array<{ line: number, target: string }> = []
  readFileSync(join(REPO_ROOT, file), 'utf8').split('\n').forEach((text, i) => {
    for (const m of text.matchAll(SPECIFIER)) out.push({ line: i + 1, target: normalize(join(dirname(file), m[1])) })
  })
  return out
}

describe('the layout', () => {
  const files = ['protocol', 'node', 'sim', 'cli'].flatMap(sources)

  it('has sources in every folder the architecture names', () => {
    for (const dir of ['protocol/', 'node/core/', 'node/daemon/', 'node/runtime/', 'node/signals/', 'node/secrets/', 'sim/', 'cli/']) {
      assert.ok(files.some(f => f.startsWith(dir)), `no sources under ${dir}`)
    }
  })

  it('imports only down the stack: cli/ → node/ and sim/ → node/core/ → protocol/', () => {
    const problems: string[] = []
    for (const file of files) {
      const rule = RULES.filter(r => file.startsWith(r.from))
      for (const { line, target } of importsOf(file)) {
        for (const r of rule) {
          const hit = r.forbidden.find(f => target.startsWith(f))
          if (hit !== undefined) problems.push(`${file}:${line} imports ${relative('.', target)} (${r.why})`)
        }
      }
    }
    assert.deepEqual(problems, [])
  })
})
