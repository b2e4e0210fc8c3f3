import { readFileSync } from 'node:fs'
import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../../protocol/index.js'
import type { Command } from './command.js'

export function packageVersion (): string {
  const url = new URL('../../../package.json', import.meta.url)
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
}

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the agentmesh and wire protocol versions',
  usage: 'usage: agentmesh version',
  async run () {
    console.log(`agentmesh ${packageVersion()} (protocol ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}, node ${process.versions.node})`)
    return 0
  },
}
