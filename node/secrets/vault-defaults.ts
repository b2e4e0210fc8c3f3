/**
 * Every limit and interval of the Vault client and of agent secrets, with its default, in one
 * place. The daemon's config module (node/daemon/config.ts) offers the user-facing ones as
 * `vault.*` fields with these defaults; the rest are fixed here.
 */
export const VAULT_DEFAULTS = {
  /** Bound on one request to Vault, ms (connection included). */
  requestTimeoutMs: 5_000,
  /** A token is renewed when this fraction of its TTL has passed (Vault Agent renews at about 2/3). */
  renewFraction: 0.67,
  /** Backoff of logins, token renewals and sys/health probes after a failure: first delay and cap, ms. */
  retryMsMin: 500,
  retryMsMax: 30_000,
  /** A cached secret is read again this often (or at its lease, when Vault gives one and it is shorter), ms. */
  refreshIntervalMs: 60_000,
  /** A start may use a cached copy this old when Vault does not answer or refuses, ms (0: never). */
  maxStaleMs: 300_000,
  /** Secrets kept in memory at once; past it, the least recently used one no agent needs is dropped. */
  maxCachedSecrets: 256,
  /** Largest value of one key accepted, bytes (larger: E_VAULT_BAD_RESPONSE). */
  maxSecretBytes: 65_536,
  /** At start, how long the daemon keeps asking Vault for the swarm key and the API token, ms. */
  startTimeoutMs: 60_000,
  /** Secrets one service may name. */
  secretsPerServiceMax: 32,
  /** Where file secrets appear inside an agent's container. */
  containerSecretsDir: '/run/secrets',
  /** A token whose renewal would be due sooner than this is not renewed but replaced by a login, ms. */
  renewMinIntervalMs: 250,
  /** A secrets folder made for a start that no observation ever listed is removed after this long (the start died unseen), ms. */
  inflightDirMaxAgeMs: 5 * 60_000,
  /** A restart for a changed secret waits at most this long for the service's replicas to run again before the next one, ms. */
  restartSettleMsMax: 60_000,
} as const

if (VAULT_DEFAULTS.retryMsMin > VAULT_DEFAULTS.retryMsMax) throw new Error('VAULT_DEFAULTS: retryMsMin is above retryMsMax')
if (!(VAULT_DEFAULTS.renewFraction > 0 && VAULT_DEFAULTS.renewFraction < 1)) throw new Error('VAULT_DEFAULTS: renewFraction must be between 0 and 1')
