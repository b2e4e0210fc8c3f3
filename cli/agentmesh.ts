#!/usr/bin/env node
/**
 * The `agentmesh` command line. Every subcommand listed here exists and works; a command is
 * added to COMMANDS only when it does.
 */
import type { Command } from './commands/command.js'
import { packageVersion } from './package-version.js'
import { versionCommand } from './commands/version.js'
import { EXIT } from './exit-codes.js'
import { simCommand } from './commands/sim.js'
import { superviseCommand } from './commands/supervise.js'
import { statusCommand } from './commands/status.js'
import { demoCommand } from './commands/demo.js'

const COMMANDS: Command[] = [
  versionCommand,
  simCommand,
  superviseCommand,
  statusCommand,
  demoCommand,
]

function help (): string {
  const width = Math.max(...COMMANDS.map(c => c.name.length))
  return [
    `agentmesh ${packageVersion()}: a peer-to-peer autoscaler for agent containers across on-prem, cloud and edge hosts`,
    '',
    'usage: agentmesh COMMAND [options]',
    '',
    'commands:',
    ...COMMANDS.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `agentmesh COMMAND --help` for the options and examples of one command.',
    '',
    `exit status (every command): ${EXIT.ok} the job was done, ${EXIT.failed} it failed, ${EXIT.usage} bad input (nothing started)`,
  ].join('\n')
}

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help())
    return name === undefined ? 2 : 0
  }
  if (name === '--version') return await versionCommand.run([])
  const command = COMMANDS.find(c => c.name === name)
  if (command === undefined) {
    console.error(`agentmesh: unknown command "${name}"\n\n${help()}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage)
    return 0
  }
  return await command.run(rest)
}

process.exitCode = await main(process.argv.slice(2))
