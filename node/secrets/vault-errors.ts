/**
 * Typed errors of the Vault client and of the secrets it hands to agents. Branch on `code`,
 * never on the message. A message names the secret (mount, path, key) and what Vault said, and
 * never a secret value, a token or a secret id: messages reach logs, /v1/status and events.
 */
import { CodedError } from '../../protocol/errors.js'

export const VaultErrorCode = {
  /** Vault cannot be reached: connection refused or reset, no such host, no answer within `vault.requestTimeoutMs`. */
  Unreachable: 'E_VAULT_UNREACHABLE',
  /** Vault answered but cannot serve: sealed (503), a standby without an active node, any other 5xx or 429. */
  Unavailable: 'E_VAULT_UNAVAILABLE',
  /** 403: the token's policies do not grant `read` on the secret's path (after a fresh login). */
  Forbidden: 'E_VAULT_FORBIDDEN',
  /** 404: no such secret, or the version asked for is deleted or destroyed. */
  NotFound: 'E_VAULT_NOT_FOUND',
  /** The secret exists but holds no such key. */
  KeyMissing: 'E_VAULT_KEY_MISSING',
  /** No token: the login was refused (AppRole role id or secret id), or the token file is missing, unreadable or holds a token Vault refuses. */
  Auth: 'E_VAULT_AUTH',
  /** The TLS handshake failed: Vault's certificate is not signed by `vault.caFile` (or the system's CAs), expired, or for another name. */
  Tls: 'E_VAULT_TLS',
  /** An answer that is not the shape Vault documents, or a value larger than `vault.maxSecretBytes`, or not a string. */
  BadResponse: 'E_VAULT_BAD_RESPONSE',
  /** Vault does not answer (or refuses) and the last copy read is older than `vault.maxStaleMs`. `cause` is Vault's error. */
  Stale: 'E_VAULT_STALE',
  /** The caller gave up (the supervisor is stopping). */
  Aborted: 'E_VAULT_ABORTED',
} as const

export type VaultErrorCode = typeof VaultErrorCode[keyof typeof VaultErrorCode]

export class VaultError extends CodedError<VaultErrorCode> {
  override readonly name = 'VaultError'
}

/** Errors that say Vault is not there to ask (the session then backs off and probes sys/health). */
export function isVaultDown (err: unknown): boolean {
  return err instanceof VaultError && (err.code === VaultErrorCode.Unreachable || err.code === VaultErrorCode.Unavailable)
}

/**
 * Errors after which a start may use a cached copy of the secret (up to `vault.maxStaleMs`):
 * Vault down or refusing (sealed, a policy or a login refused, a certificate problem). A 404 or
 * a missing key is Vault's answer about the secret itself: the secret is gone, and so is the
 * copy's right to be used.
 */
export function cacheMayServe (err: unknown): boolean {
  if (!(err instanceof VaultError)) return false
  return err.code !== VaultErrorCode.NotFound && err.code !== VaultErrorCode.KeyMissing && err.code !== VaultErrorCode.BadResponse && err.code !== VaultErrorCode.Aborted
}

/** The metric label of an outcome: `ok`, or the code without its prefix in kebab case (`not-found`). */
export function resultLabel (err: unknown): string {
  if (err === undefined) return 'ok'
  if (!(err instanceof VaultError)) return 'failed'
  return err.code.slice('E_VAULT_'.length).toLowerCase().replace(/_/g, '-')
}
