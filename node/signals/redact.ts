/**
 * Credentials in URLs (`mqtt://user:secret@broker:1883`) must not reach what the daemon shows:
 * `/v1/status` (a signal's `lastError`), logs, events, `--check` output and config errors.
 * A signal keeps the URL it connects with and uses `redactUrl` of it in every message; text from
 * libraries (mqtt.js, fetch) can quote the URL too, so every error message is passed through
 * `redactCredentials` before it is recorded or logged.
 */

/**
 * `scheme://` followed by user info up to the last `@` of the same token (a password may hold
 * an `@`; a token ends at white space or a quote). Erring towards hiding more: an `@` later in a
 * path also hides what precedes it.
 */
const USERINFO_RE = /([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>`]*@/gi

export const REDACTED = '***'

/** Every `scheme://user:pass@` in `text` as `scheme://***@`. */
export function redactCredentials (text: string): string {
  return text.replace(USERINFO_RE, `$1${REDACTED}@`)
}

/** A URL for display: its user info, if any, replaced. */
export function redactUrl (url: string): string {
  return redactCredentials(url)
}
