/**
 * The daemon's typed errors. Bad input (a config file, a key file, an HTTP request) is refused
 * with one of these; branch on `code`, never on the message.
 */
import { CodedError } from '../../protocol/errors.js'

export const DaemonErrorCode = {
  /** The config file or an AGENTMESH_* variable breaks the schema; `problems` names every field. */
  ConfigInvalid: 'E_CONFIG_INVALID',
  /** The config file cannot be read. */
  ConfigIo: 'E_CONFIG_IO',
  /**
   * A key or secret file (host key, swarm key, http.tokenFile, a signal's passwordFile or
   * bearerTokenFile) is missing, unreadable, malformed, or readable by others.
   */
  KeyInvalid: 'E_KEY_INVALID',
  /** `runtime.secretsDir` (agents' secret files) is not on a tmpfs, is reachable by another user, or cannot be made. */
  SecretsDir: 'E_SECRETS_DIR',
  /** The state file in the data dir cannot be read, parsed or written. */
  StateIo: 'E_STATE_IO',
  /** The libp2p node could not start (listen address in use, say). */
  MeshStart: 'E_MESH_START',
  /** The HTTP API could not listen. */
  HttpListen: 'E_HTTP_LISTEN',
  /** `agentmesh status` could not reach the daemon. */
  StatusUnreachable: 'E_STATUS_UNREACHABLE',
  /** A command-line flag is unknown or malformed. */
  ArgsInvalid: 'E_ARGS_INVALID',
} as const

export type DaemonErrorCode = typeof DaemonErrorCode[keyof typeof DaemonErrorCode]

export class DaemonError extends CodedError<DaemonErrorCode> {
  override readonly name = 'DaemonError'
  /** One line per problem, each naming the field. */
  readonly problems: readonly string[]

  constructor (code: DaemonErrorCode, message: string, problems: readonly string[] = [], options?: { cause?: unknown }) {
    super(code, problems.length > 0 ? `${message}\n  ${problems.join('\n  ')}` : message, options)
    this.problems = problems
  }
}

/**
 * Error codes the HTTP API answers with, as `{"error": {"code", "message"}}`. Stable: clients
 * branch on them.
 */
export const HttpErrorCode = {
  NotFound: 'E_HTTP_NOT_FOUND',
  MethodNotAllowed: 'E_HTTP_METHOD',
  /** The request body is larger than http.maxBodyBytes. */
  TooLarge: 'E_HTTP_TOO_LARGE',
  /** The client sent more than http.requestsPerSecond (burst http.requestBurst). */
  RateLimited: 'E_HTTP_RATE_LIMITED',
  /** A mutating route without a valid bearer token, or with no token file configured. */
  Unauthorized: 'E_HTTP_UNAUTHORIZED',
  /** The body is not the JSON the route takes, or the request itself is malformed. */
  BadRequest: 'E_HTTP_BAD_REQUEST',
  /** The request's headers are larger than Node's limit (431). */
  HeadersTooLarge: 'E_HTTP_HEADERS_TOO_LARGE',
  /** The client did not send its headers (http.headersTimeoutMs) or request (http.requestTimeoutMs) in time (408). */
  Timeout: 'E_HTTP_TIMEOUT',
  /**
   * The Host header (or an absolute request target) names a host the API does not serve:
   * not the listen address, a loopback name or one of http.allowedHosts (421). The defence
   * against DNS rebinding.
   */
  HostRefused: 'E_HTTP_HOST_REFUSED',
  /** A browser request from another site (its Origin or Sec-Fetch-Site header says so) (403). */
  CrossSite: 'E_HTTP_CROSS_SITE',
  /** A bug in the daemon while answering; the daemon goes on (500). */
  Internal: 'E_HTTP_INTERNAL',
  /** Too many open /v1/events streams (http.maxSseClients). */
  TooManyStreams: 'E_HTTP_TOO_MANY_STREAMS',
  /** The route exists but is switched off in the config. */
  Disabled: 'E_HTTP_DISABLED',
} as const

export type HttpErrorCode = typeof HttpErrorCode[keyof typeof HttpErrorCode]
