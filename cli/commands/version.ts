import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../../protocol/index.js'
import { packageVersion } from '../package-version.js'
import type { Command } from './command.js'

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the agentmesh and wire protocol versions',
  usage: 'usage: agentmesh version',
  async run () {
    console.log(`agentmesh ${packageVersion()} (protocol ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}, node ${process.versions.node})`)
    return 0
  },
}
