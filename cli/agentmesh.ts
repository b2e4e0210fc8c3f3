#!/usr/bin/env node
/**
 * The `agentmesh` command line. Every subcommand listed here exists and works; a command is
 * added to COMMANDS only when it does.
 */
import type { Command } from './commands/command.js'
import { packageVersion } from './package-version.js'
import { EXIT } from './exit-codes.js'

/**
 * Each command's module is loaded only when that command runs (or for `--help`): the simulator
 * and the JSON Schema library behind `sim` cost a supervisor about 250 modules and several MB
 * of memory it never uses.
 */
const COMMANDS: ReadonlyArray<{ name: string, load: () => Promise<Command> }> = [
  { name: 'version', load: async () => (await import('./commands/version.js')).versionCommand },
  { name: 'sim', load: async () => (await import('./commands/sim.js')).simCommand },
  { name: 'supervise', load: async () => (await import('./commands/supervise.js')).superviseCommand },
  { name: 'status', load: async () => (await import('./commands/status.js')).statusCommand },
  { name: 'demo', load: async () => (await import('./commands/demo.js')).demoCommand },
]

async function help (): Promise<string> {
  const commands = await Promise.all(COMMANDS.map(async c => await c.load()))
  const width = Math.max(...commands.map(c => c.name.length))
  return [
    `agentmesh ${packageVersion()}: a peer-to-peer autoscaler for agent containers across on-prem, cloud and edge hosts`,
    '',
    'usage: agentmesh COMMAND [options]',
    '',
    'commands:',
    ...commands.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `agentmesh COMMAND --help` for the options and examples of one command.',
    '',
    `exit status (every command): ${EXIT.ok} the job was done, ${EXIT.failed} it failed, ${EXIT.usage} bad input (nothing started)`,
  ].join('\n')
}

export async function main (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await help())
    return name === undefined ? 2 : 0
  }
  const entry = COMMANDS.find(c => c.name === (name === '--version' ? 'version' : name))
  if (entry === undefined) {
    console.error(`agentmesh: unknown command "${name}"\n\n${await help()}`)
    return 2
  }
  const command = await entry.load()
  if (name === '--version') return await command.run([])
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage)
    return 0
  }
  return await command.run(rest)
}

process.exitCode = await main(process.argv.slice(2))
