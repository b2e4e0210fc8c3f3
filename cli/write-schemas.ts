/**
 * `npm run schemas`: writes the JSON Schemas of agentmesh.yaml and of the scenario format to
 * schemas/, generated from the tables the readers validate with. The files are committed so
 * editors (yaml-language-server's `# yaml-language-server: $schema=` line) can read them from
 * a checkout; test/docs/schemas.test.ts fails when they differ from what the code generates.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configJsonSchema } from '../node/daemon/config-schema.js'
import { scenarioJsonSchema } from '../sim/scenario-schema.js'

/** Repo-relative path → file content, as committed. */
export function schemaFiles (): Record<string, string> {
  const text = (s: unknown): string => JSON.stringify(s, null, 2) + '\n'
  return {
    'schemas/agentmesh.schema.json': text(configJsonSchema()),
    'schemas/scenario.schema.json': text(scenarioJsonSchema()),
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  for (const [path, text] of Object.entries(schemaFiles())) {
    writeFileSync(join(root, path), text)
    console.log(`wrote ${path}`)
  }
}
