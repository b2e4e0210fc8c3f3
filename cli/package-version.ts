/**
 * The agentmesh version, read once from package.json. It lives with the command line, above
 * both shells: the daemon and the simulator are given it by the commands that start them.
 */
import { readFileSync } from 'node:fs'

let cached: string | undefined

export function packageVersion (): string {
  // This file runs as dist/cli/package-version.js; package.json is at the repo root.
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  return cached
}
