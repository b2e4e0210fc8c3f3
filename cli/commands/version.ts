import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../../protocol/index.js'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { parseCommandArgs } from '../args.js'
import { EXIT } from '../exit-codes.js'
import { packageVersion } from '../package-version.js'
import type { Command } from './command.js'

const USAGE = `usage: agentmesh version [--json]

Prints the agentmesh version, the wire protocol version (major.minor) and the Node.js version.

options:
  --json   print {"version", "protocol": {"major", "minor"}, "node"} as JSON

exit status: 0 printed, 2 bad flags`

export const versionCommand: Command = {
  name: 'version',
  summary: 'print the agentmesh and wire protocol versions',
  usage: USAGE,
  async run (argv) {
    let json: boolean
    try {
      json = parseCommandArgs(argv, { json: { type: 'boolean' } }, 0, m => new DaemonError(DaemonErrorCode.ArgsInvalid, m)).values.json === true
    } catch (err) {
      if (!(err instanceof DaemonError)) throw err
      console.error(`agentmesh version: ${err.code}: ${err.message}\n\n${USAGE}`)
      return EXIT.usage
    }
    if (json) console.log(JSON.stringify({ version: packageVersion(), protocol: { major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR }, node: process.versions.node }))
    else console.log(`agentmesh ${packageVersion()} (protocol ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}, node ${process.versions.node})`)
    return EXIT.ok
  },
}
