/**
 * The documentation the agreement tests read: the README (what a newcomer needs) and the
 * reference under docs/, one file per subject. A test names the file its facts belong in, so a
 * fact documented in the wrong place (or nowhere) fails it.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DOCS_REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The reference files under docs/. */
export type DocName = 'architecture' | 'benchmarks' | 'configuration' | 'http-api' | 'metrics' | 'operations' | 'simulator' | 'testing'

export function readDoc (name: DocName): string {
  return readFileSync(join(DOCS_REPO_ROOT, 'docs', `${name}.md`), 'utf8')
}

/** README.md and every docs/*.md, as repo-relative paths. */
export function markdownFiles (): string[] {
  return ['README.md', ...readdirSync(join(DOCS_REPO_ROOT, 'docs')).filter(f => f.endsWith('.md')).sort().map(f => `docs/${f}`)]
}
