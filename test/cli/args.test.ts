/**
 * The command line's conventions, for every command: one parser (node:util parseArgs, strict),
 * so an unknown option, an option without its value and a stray argument are all refused the
 * same way (exit 2, E_ARGS_INVALID or the simulator's E_SIM_ARGS_INVALID); and a --help that shows examples and the
 * exit codes.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { parseCommandArgs } from '../../cli/args.js'
import { EXIT } from '../../cli/exit-codes.js'

const CLI = fileURLToPath(new URL('../../../dist/cli/agentmesh.js', import.meta.url))
const COMMANDS = ['version', 'sim', 'supervise', 'status', 'demo']

function run (...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, AGENTMESH_CONFIG: '' } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

describe('the argument parser', () => {
  const invalid = (m: string): Error => Object.assign(new Error(m), { code: 'E_ARGS_INVALID' })
  const options = { name: { type: 'string' }, on: { type: 'boolean' } } as const

  it('reads string and boolean options and positionals', () => {
    assert.deepEqual(parseCommandArgs(['--name', 'x', '--on', 'file'], options, 1, invalid), { values: { name: 'x', on: true }, positionals: ['file'] })
    assert.deepEqual(parseCommandArgs(['--name=y'], options, 0, invalid).values, { name: 'y' })
  })

  it('refuses an unknown option, a missing value, a value for a switch and a stray argument, with the command\'s error', () => {
    for (const argv of [['--bogus'], ['--name'], ['--on=yes'], ['extra'], ['a', 'b']]) {
      assert.throws(() => parseCommandArgs(argv, options, argv[0] === 'a' ? 1 : 0, invalid), { code: 'E_ARGS_INVALID' }, argv.join(' '))
    }
  })
})

describe('every command', () => {
  for (const name of COMMANDS) {
    it(`${name}: --help shows the usage, examples and exit status; a bad flag exits ${EXIT.usage}`, () => {
      const help = run(name, '--help')
      assert.equal(help.status, EXIT.ok)
      assert.match(help.stdout, new RegExp(`^usage: agentmesh ${name}`))
      assert.match(help.stdout, /exit status: 0 /)
      if (name !== 'version') assert.match(help.stdout, /\nexamples:\n {2}agentmesh /)
      const bad = run(name, '--no-such-flag')
      assert.equal(bad.status, EXIT.usage, bad.stderr)
      assert.match(bad.stderr, new RegExp(`agentmesh ${name}: E_(SIM_)?ARGS_INVALID: .*--no-such-flag`))
    })
  }

  it('a flag that needs a value and gets none is refused as bad input', () => {
    for (const [name, flag] of [['sim', '--seed'], ['status', '--url'], ['demo', '--sites'], ['supervise', '--config']]) {
      const r = run(name, flag)
      assert.equal(r.status, EXIT.usage, `${name} ${flag}: ${r.stderr}`)
      assert.match(r.stderr, /E_(SIM_)?ARGS_INVALID/)
    }
  })
})
