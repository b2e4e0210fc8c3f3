import { CodedError } from '../../protocol/errors.js'

/**
 * The core's own error: thrown only when a caller breaks the core's contract (a bug in the
 * shell), never for bad input from peers, which is dropped and reported as an event.
 */
export const CoreErrorCode = {
  /** A configuration relation the core depends on does not hold. */
  ConfigInvalid: 'E_CORE_CONFIG_INVALID',
  /** An internal guarantee broke: a bug. */
  Assertion: 'E_CORE_ASSERTION',
} as const

export type CoreErrorCode = typeof CoreErrorCode[keyof typeof CoreErrorCode]

export class CoreError extends CodedError<CoreErrorCode> {
  override readonly name = 'CoreError'
}

/** Guards what our own code must guarantee. Always on. */
export function assert (condition: unknown, message: string): asserts condition {
  if (!condition) throw new CoreError(CoreErrorCode.Assertion, message)
}
