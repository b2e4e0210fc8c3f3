/**
 * Every relative link in README.md and docs/*.md resolves: the file exists, and an anchor
 * (`#section`) names a heading of that file, slugged as GitHub slugs headings (lower case,
 * punctuation other than `-` and `_` dropped, spaces to `-`, repeats numbered `-1`, `-2`).
 * Links to the web are not fetched.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { describe, it } from 'node:test'
import { DOCS_REPO_ROOT, markdownFiles } from './doc-files.js'

/** `[text](target)`, outside code spans and fences (stripped before matching). */
const LINK = /\[[^\]\n]*\]\(([^)\s]+)\)/g

function withoutCode (text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '')
}

export function slug (heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

export function anchorsOf (text: string): Set<string> {
  const out = new Set<string>()
  const seen = new Map<string, number>()
  for (const line of text.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line)
    if (m === null) continue
    const base = slug(m[1])
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

function brokenLinks (file: string): string[] {
  const text = readFileSync(join(DOCS_REPO_ROOT, file), 'utf8')
  const problems: string[] = []
  for (const m of withoutCode(text).matchAll(LINK)) {
    const target = m[1]
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // http:, https:, mailto:
    const [path, anchor] = target.split('#') as [string, string | undefined]
    const resolved = path === '' ? file : normalize(join(dirname(file), path))
    const abs = join(DOCS_REPO_ROOT, resolved)
    if (!existsSync(abs)) { problems.push(`${file}: ${target}: no such file ${resolved}`); continue }
    if (anchor === undefined) continue
    if (statSync(abs).isDirectory() || !resolved.endsWith('.md')) { problems.push(`${file}: ${target}: an anchor into a file that is not markdown`); continue }
    if (!anchorsOf(readFileSync(abs, 'utf8')).has(anchor)) problems.push(`${file}: ${target}: ${resolved} has no heading #${anchor}`)
  }
  return problems
}

describe('links between the docs', () => {
  it('slugs headings as GitHub does', () => {
    assert.equal(slug('The core (`node/core/`)'), 'the-core-nodecore')
    assert.equal(slug('`agentmesh status`'), 'agentmesh-status')
    assert.deepEqual([...anchorsOf('# A\n## A\n```\n# not a heading\n```\n')], ['a', 'a-1'])
  })

  it('finds a broken link and a broken anchor (the check can fail)', () => {
    const text = '[x](docs/nothing-here.md) [y](README.md#no-such-heading)'
    const problems = [...withoutCode(text).matchAll(LINK)].map(m => m[1])
    assert.deepEqual(problems, ['docs/nothing-here.md', 'README.md#no-such-heading'])
    assert.ok(!existsSync(join(DOCS_REPO_ROOT, 'docs/nothing-here.md')))
    assert.ok(!anchorsOf(readFileSync(join(DOCS_REPO_ROOT, 'README.md'), 'utf8')).has('no-such-heading'))
  })

  it('every relative link in README.md and docs/*.md points to an existing file and heading', () => {
    const files = markdownFiles()
    assert.ok(files.length >= 9, files.join(', '))
    assert.deepEqual(files.flatMap(brokenLinks), [])
  })

  it('the README links every reference file under docs/', () => {
    const readme = readFileSync(join(DOCS_REPO_ROOT, 'README.md'), 'utf8')
    for (const f of markdownFiles().filter(f => f.startsWith('docs/'))) assert.ok(readme.includes(`](${f})`), `README.md does not link ${f}`)
  })
})
