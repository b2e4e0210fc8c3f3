/**
 * The base of every agentmesh error: a stable `code` to branch on (never the message) and an
 * optional `cause`. It lives here, in the lowest layer, so that every layer can extend it.
 */
export class CodedError<C extends string = string> extends Error {
  readonly code: C

  constructor (code: C, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Stable error codes of the wire protocol. */
export const ProtocolErrorCode = {
  /** The message is larger than PROTOCOL_LIMITS.maxEncodedBytes. */
  TooLarge: 'E_PROTO_TOO_LARGE',
  /** The major version byte is not one this build speaks. */
  Version: 'E_PROTO_VERSION',
  /** The bytes are not a protobuf envelope. */
  Malformed: 'E_PROTO_MALFORMED',
  /** A count or a string length is past its named limit. */
  Limit: 'E_PROTO_LIMIT',
  /** The envelope decodes but breaks a rule: no body, two bodies, a bad number. */
  Invalid: 'E_PROTO_INVALID',
  /** The envelope carries no body this build knows: sent by a newer minor version. */
  UnknownKind: 'E_PROTO_UNKNOWN_KIND',
} as const

export type ProtocolErrorCode = typeof ProtocolErrorCode[keyof typeof ProtocolErrorCode]

export class ProtocolError extends CodedError<ProtocolErrorCode> {
  override readonly name = 'ProtocolError'
}
