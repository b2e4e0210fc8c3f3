/** Stable error codes of the wire protocol. Never branch on an error's message. */
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

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
  readonly code: ProtocolErrorCode

  constructor (code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}
