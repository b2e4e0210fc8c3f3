/**
 * One argument parser for every `agentmesh` command: node:util's parseArgs in strict mode
 * (unknown options, a missing value, an option given a value it does not take, and stray
 * positionals are refused), with its errors turned into the command's own E_ARGS_INVALID
 * error. Commands then check the values' meaning themselves (ranges, enums) and say which
 * flag is wrong.
 */
import { parseArgs } from 'node:util'

export type OptionSpec = Record<string, { type: 'string' | 'boolean' }>

type Values<T extends OptionSpec> = { [K in keyof T]?: T[K]['type'] extends 'string' ? string : boolean }

export interface ParsedArgs<T extends OptionSpec> {
  values: Values<T>
  positionals: string[]
}

/** node:util's parse errors, by their stable codes (never by message). */
const PARSE_ERROR_CODES = new Set([
  'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
])

/**
 * Parses `argv` against `options`; at most `maxPositionals` positionals. A parse error becomes
 * `invalid(message)` (the command's E_ARGS_INVALID error), anything else is rethrown.
 */
export function parseCommandArgs<T extends OptionSpec> (argv: readonly string[], options: T, maxPositionals: number, invalid: (message: string) => Error): ParsedArgs<T> {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: maxPositionals > 0 })
    if (positionals.length > maxPositionals) throw invalid(`at most ${maxPositionals} argument${maxPositionals === 1 ? '' : 's'}; got ${positionals.map(p => `"${p}"`).join(' ')}`)
    return { values: { ...values } as Values<T>, positionals }
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' && PARSE_ERROR_CODES.has(code)) throw invalid((err as Error).message)
    throw err
  }
}

/** A whole number from `min` to `max`, or `invalid` naming the flag. */
export function intFlag (flag: string, v: string, min: number, max: number, invalid: (message: string) => Error): number {
  const n = Number(v)
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) throw invalid(`${flag} must be a whole number from ${min} to ${max}, got ${v}`)
  return n
}
