/**
 * The daemon's one config module: every field typed and documented (meaning, unit, default),
 * read from a YAML file, overridable by AGENTMESH_* environment variables, validated at the
 * edge. Every problem is reported at once, naming the field (and the file's line where there is
 * one); a daemon with a bad config does not start at all.
 *
 * The scalar fields live in one table (CONFIG_FIELDS); docs/configuration.md lists the same
 * fields and a test keeps the two in agreement. Services are a list of mappings
 * with their own table (SERVICE_FIELDS).
 */
import { FORECAST_DEFAULTS } from '../core/forecast-limits.js'
import { existsSync, readFileSync } from 'node:fs'
import { availableParallelism, hostname, totalmem } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { parseDocument } from 'yaml'
import { YamlSource } from '../core/yaml-source.js'
import { readServiceSpec, SERVICE_SPEC_FIELDS, type ServiceFieldDef } from '../core/service-spec-reader.js'
import { GOSSIP_DEFAULTS, PROTOCOL_LIMITS, utf8Length } from '../../protocol/index.js'
import { DEFAULT_TIMINGS, TIMING_PROFILES, timingProblems, type CoreTimings } from '../core/config.js'
import type { ServiceSpec } from '../core/service-spec.js'
import type { AgentSpec } from '../runtime/container-runtime.js'
import { checkAgentsForRuntime, readAgent, readSignals, type SignalEntry, type Where } from './config-workload.js'
import { DaemonError, DaemonErrorCode } from './errors.js'
import { parseHostHeader } from './http-target.js'
import { secretFileProblem } from './secret-file.js'
import { VAULT_DEFAULTS } from '../secrets/vault-defaults.js'
import type { ServiceSecret } from '../secrets/agent-secrets.js'
import { checkVaultSection, defaultSecretsDir, readServiceSecrets, type VaultKeyRef } from './config-vault.js'

export const ENV_PREFIX = 'AGENTMESH_'

/** Host ids and site names: letters, digits and ._-, at most PROTOCOL_LIMITS.maxIdBytes. */
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

type Kind = 'string' | 'int' | 'number' | 'bool' | 'list' | 'map' | 'enum'

export interface FieldDef {
  /** Dotted path in the YAML file, e.g. `network.listen`. */
  path: string
  kind: Kind
  /** The default; a string in `defaultText` explains computed defaults. */
  default: unknown
  defaultText?: string
  /** Meaning, unit and trade-off, for docs/configuration.md and the JSON Schema. */
  doc: string
  values?: readonly string[]
  min?: number
  max?: number
  required?: boolean
  /** A string field's form (checked with the field's other rules; the JSON Schema shows it). */
  pattern?: RegExp
}

const TIMING_DOCS: Record<keyof CoreTimings, string> = {
  heartbeatIntervalMs: 'How often this host gossips its heartbeat (ms). Lower reacts faster, costs more gossip.',
  suspectAfterMs: 'A peer not heard from for this long is suspect (ms).',
  deadAfterMs: 'A peer not heard from for this long is dead; its replicas are placed elsewhere (ms).',
  reapAfterMs: 'A dead peer leaves the electorate after this long, only on hosts with a live leader (ms).',
  leaderlessReapAfterMs: 'Without any leader for this long a host reaps dead peers anyway (ms).',
  leaderTimeoutMs: 'A follower that has not heard its leader for this long starts an election (ms).',
  electionStaggerMs: 'Extra wait before standing, spread by priority rank plus seeded jitter (ms).',
  electionRoundMs: 'A candidate without a majority after this long gives up and tries later (ms).',
  leaderLeaseMs: 'A leader that has not heard a majority within this window steps down (ms).',
  planIntervalMs: 'How often the leader recomputes desired replicas and placement (ms).',
  spillIntervalMs: 'A leader whose service needs more than its site can run asks another site to run the overflow this often while the need lasts (ms).',
  spillLeaseMs: 'A site runs another site\'s overflow for this long after its last request (ms).',
  riseGapMs: 'A rise in load is told at once (an early heartbeat) and planned for at once (an early round), at most once per this gap (ms).',
  planRepublishMs: 'An unchanged plan is published again this often (ms).',
  summaryIntervalMs: 'How often the leader gossips its site summary on the global topic (ms), at least; see summariesPerSecondMax.',
  summariesPerSecondMax: 'At most about this many site summaries a second reach a leader: a leader that knows more than summaryIntervalMs × this other sites sends its summary every (known sites ÷ this) seconds instead, so the global topic costs a leader the same in a fleet of any size (a count, not ms).',
  sampleMaxAgeMs: 'A signal sample older than this is stale: the service fails static (ms).',
  membershipSweepMs: 'How often membership states are re-evaluated, at the longest (ms); a re-evaluation due before the next heartbeat runs with that heartbeat, so a host wakes once an interval.',
}

/** Every scalar config field, with its default. The one place defaults live. */
export const CONFIG_FIELDS: readonly FieldDef[] = [
  { path: 'hostId', kind: 'string', pattern: ID_RE, default: '', defaultText: 'the machine\'s hostname', doc: 'This host\'s id, unique in the fleet (≤ 128 bytes).' },
  { path: 'site', kind: 'string', pattern: ID_RE, default: '', required: true, doc: 'The site this host belongs to (a room, a cloud region, an edge cluster). Required.' },
  { path: 'labels', kind: 'map', default: {}, doc: 'Labels services select on (`location`, `hardware`, …), at most 32. Env: `k=v,k2=v2`.' },
  { path: 'priority', kind: 'int', default: 0, min: -1_000_000, max: 1_000_000, doc: 'Higher stands for site leader first (stable on-prem servers over edge boxes, say).' },
  { path: 'capacity.slots', kind: 'int', default: 4, min: 0, max: PROTOCOL_LIMITS.maxReplicas, doc: 'Agent slots: replicas this host runs at once, all services together.' },
  { path: 'capacity.cpuMillis', kind: 'int', default: 0, min: 0, max: 0xffffffff, defaultText: '0 (detect: cores × 1000)', doc: 'CPU this host offers, in millicores; 0 detects it.' },
  { path: 'capacity.memoryMib', kind: 'int', default: 0, min: 0, max: 0xffffffff, defaultText: '0 (detect: total memory)', doc: 'Memory this host offers, in MiB; 0 detects it.' },
  { path: 'dataDir', kind: 'string', default: '/var/lib/agentmesh', doc: 'Where the host key, the election state and the incarnation are kept. Relative paths are resolved against the config file\'s folder.' },
  { path: 'profile', kind: 'enum', values: Object.keys(TIMING_PROFILES), default: 'lan', doc: 'Core timing profile: `lan` (one room or region, 500 ms heartbeats) or `wan` (slow or lossy links, 2 s).' },
  ...(Object.keys(DEFAULT_TIMINGS) as Array<keyof CoreTimings>).map((k): FieldDef => ({
    path: `timings.${k}`, kind: 'int', default: 0, min: 0, max: 86_400_000, defaultText: `0 (the profile's; lan ${DEFAULT_TIMINGS[k]})`, doc: TIMING_DOCS[k],
  })),
  { path: 'bootstrapExpect', kind: 'int', default: 1, min: 1, max: 100_000, doc: 'Before the site\'s first leader, a host stands only once it knows this many members (itself included), like Consul\'s `bootstrap_expect`.' },
  { path: 'network.listen', kind: 'list', default: ['/ip4/0.0.0.0/tcp/7420'], doc: 'libp2p listen multiaddrs (TCP). Env: comma-separated.' },
  { path: 'network.announce', kind: 'list', default: [], defaultText: '[] (the bound listen addresses)', doc: 'Addresses advertised to peers in heartbeats (at most 8), for hosts behind NAT or bound to 0.0.0.0.' },
  { path: 'network.bootstrap', kind: 'list', default: [], doc: 'Multiaddrs of a few other supervisors, each ending in `/p2p/<peer id>`. Re-dialled forever; further peers are learnt from heartbeats.' },
  { path: 'network.privateKeyFile', kind: 'string', default: '', defaultText: '`<dataDir>/host.key`', doc: 'This host\'s libp2p identity (Ed25519, protobuf), created with mode 0600 on first start.' },
  { path: 'network.swarmKeyFile', kind: 'string', default: '', defaultText: '`<dataDir>/swarm.key`', doc: 'The private-network pre-shared key (pnet, `/key/swarm/psk/1.0.0/` format), the same file on every host. Must exist, readable by the daemon only (see Secret files): `agentmesh supervise --new-swarm-key FILE` writes one.' },
  { path: 'network.maxConnections', kind: 'int', default: GOSSIP_DEFAULTS.maxConnections, min: 2, max: 100_000, doc: 'libp2p connection cap. Keep it above `targetPeers` plus inbound peers, or pruned connections look like failures.' },
  { path: 'network.targetPeers', kind: 'int', default: GOSSIP_DEFAULTS.targetPeers, min: 1, max: 10_000, doc: 'While this host has fewer open connections than this (either direction), the re-dial loop dials more (bootstrap peers first, then site members in an order that differs per host; half at once, the rest one at a time as `dialSettleMs` says); the leader this host follows is dialled whatever the count. A member needs a few connections for gossip and the one to its leader (docs/membership.md); every connection costs handshakes at start and gossipsub and ping traffic after, so more only makes a host\'s cost grow with its site.' },
  { path: 'network.redialIntervalMs', kind: 'int', default: GOSSIP_DEFAULTS.redialIntervalMs, min: 100, max: 600_000, doc: 'How often the re-dial loop runs (ms).' },
  { path: 'network.redialBackoffMaxMs', kind: 'int', default: 10_000, min: 100, max: 3_600_000, doc: 'Longest wait between two dials of one unreachable peer (ms); the wait doubles from `redialIntervalMs`.' },
  { path: 'network.dialTimeoutMs', kind: 'int', default: 5000, min: 100, max: 600_000, doc: 'One dial attempt (ms).' },
  { path: 'network.pingIntervalMs', kind: 'int', default: 30_000, min: 0, max: 3_600_000, doc: 'libp2p\'s connection monitor pings every connection this often and drops one whose ping fails, so a half-open connection is found and re-dialled (ms; 0 switches it off). Each ping opens a stream: at libp2p\'s 10 s default that was about 2 new streams a second on every host of a 20-host site.' },
  { path: 'network.dialSettleMs', kind: 'int', default: 3000, min: 0, max: 600_000, doc: 'Half of `targetPeers` is dialled at once; beyond that the re-dial loop opens one connection at a time, and only after this long without a new connection in either direction (ms). Hosts that start together dial each other: without the wait a 50-host site with `targetPeers` 8 opened 13–14 connections per member, each a handshake and an identify exchange on both sides while the site starts. A host joining a running site reaches `targetPeers` one dial per this interval.' },
  { path: 'network.maxParallelDials', kind: 'int', default: 8, min: 1, max: 1000, doc: 'Dials the re-dial loop runs at once.' },
  { path: 'network.inboundConnectionsPerSecond', kind: 'int', default: 50, min: 1, max: 100_000, doc: 'Inbound connections accepted per second per remote IP (libp2p\'s default of 5 refuses a site restarting behind one NAT).' },
  { path: 'network.ipColocationWhitelist', kind: 'list', default: ['127.0.0.1', '::1'], doc: 'IPs exempt from gossipsub\'s same-IP score penalty (more than 10 peers from one IP are graylisted): hosts behind one NAT, or many supervisors on one machine.' },
  { path: 'network.gossipD', kind: 'int', default: GOSSIP_DEFAULTS.D, min: 1, max: 64, doc: 'gossipsub mesh degree. Every message is flooded to every connected site member by its publisher, so the mesh only relays to hosts not connected directly; each receiver gets about this many duplicate copies, and each copy costs a signature check.' },
  { path: 'network.gossipDlo', kind: 'int', default: GOSSIP_DEFAULTS.Dlo, min: 1, max: 64, doc: 'gossipsub: below this many mesh peers, graft more.' },
  { path: 'network.gossipDhi', kind: 'int', default: GOSSIP_DEFAULTS.Dhi, min: 1, max: 128, doc: 'gossipsub: above this many mesh peers, prune.' },
  { path: 'network.maxTrackedSenders', kind: 'int', default: 10_000, min: 16, max: 1_000_000, doc: 'Senders whose sequence numbers and peer ids are remembered (replay and impersonation checks); when full, the least recently heard is forgotten only if quiet for rebindQuietMs, else the newcomer is ignored (sender-table-full).' },
  { path: 'network.rebindQuietMs', kind: 'int', default: 30_000, min: 1000, max: 86_400_000, doc: 'A host id moves to another peer id (a host that lost its key file restarts with a higher incarnation) only after its bound peer id has been quiet this long (ms); a live host cannot be taken over by another member. Also how long a sender must be quiet before a full sender table forgets it.' },
  { path: 'http.listen', kind: 'string', default: '127.0.0.1:7421', doc: 'Address of the local HTTP API, dashboard and /metrics (`host:port`; port 0 picks one).' },
  { path: 'http.tokenFile', kind: 'string', default: '', doc: 'File holding the bearer token mutating routes require (at least 16 characters; readable by the daemon only, see Secret files); empty switches mutating routes off.' },
  { path: 'http.maxBodyBytes', kind: 'int', default: 65_536, min: 0, max: 16 * 1024 * 1024, doc: 'Largest request body; larger is refused with 413 E_HTTP_TOO_LARGE.' },
  { path: 'http.allowedHosts', kind: 'list', default: [], doc: 'Host header values the API answers besides its own: it always takes the listen address, `localhost`, `127.0.0.1` and `[::1]` with the listen port (and, listening on 0.0.0.0 or ::, this machine\'s hostname and any IP address with the port). An entry `name` allows that name on any port, `name:port` on one port, `*` any host (switches the DNS-rebinding defence off: only behind a proxy that checks Host itself). Other hosts get 421 E_HTTP_HOST_REFUSED. Env: comma-separated.' },
  { path: 'http.maxConnections', kind: 'int', default: 64, min: 2, max: 100_000, doc: 'Open HTTP connections at once (event streams included); further connections are closed at once and counted in agentmesh_http_dropped_connections_total. Must exceed http.maxSseClients.' },
  { path: 'http.requestsPerSecond', kind: 'int', default: 50, min: 1, max: 100_000, doc: 'Requests per second per client address, all its connections together (token bucket; /healthz and /readyz are counted per connection only); over it, 429 E_HTTP_RATE_LIMITED.' },
  { path: 'http.requestBurst', kind: 'int', default: 100, min: 1, max: 100_000, doc: 'Bucket size of the per-address rate limit.' },
  { path: 'http.connectionRequestsPerSecond', kind: 'int', default: 25, min: 1, max: 100_000, doc: 'Requests per second on one connection (token bucket), so one keep-alive client cannot use up its address\'s bucket (every local client shares 127.0.0.1); at most http.requestsPerSecond.' },
  { path: 'http.connectionRequestBurst', kind: 'int', default: 50, min: 1, max: 100_000, doc: 'Bucket size of the per-connection rate limit; at most http.requestBurst.' },
  { path: 'http.maxHeaderBytes', kind: 'int', default: 16_384, min: 1024, max: 1_048_576, doc: 'Largest request line and headers together (Node\'s default); larger is refused with 431 E_HTTP_HEADERS_TOO_LARGE.' },
  { path: 'http.headersTimeoutMs', kind: 'int', default: 10_000, min: 100, max: 600_000, doc: 'A client must send its request headers within this long (ms), or gets 408 E_HTTP_TIMEOUT and is disconnected: a client that dribbles its headers cannot hold a connection.' },
  { path: 'http.requestTimeoutMs', kind: 'int', default: 30_000, min: 100, max: 3_600_000, doc: 'A client must send its whole request, body included, within this long (ms); at least http.headersTimeoutMs.' },
  { path: 'http.maxSseClients', kind: 'int', default: 16, min: 0, max: 10_000, doc: 'Open /v1/events streams at once; more get 503 E_HTTP_TOO_MANY_STREAMS.' },
  { path: 'http.sseMaxBufferedBytes', kind: 'int', default: 1_048_576, min: 1024, max: 1 << 30, doc: 'A stream whose client reads slower than this much backlog is closed (shed).' },
  { path: 'http.eventHistory', kind: 'int', default: 256, min: 0, max: 100_000, doc: 'Recent events kept for /v1/events clients that reconnect with Last-Event-ID (oldest dropped).' },
  { path: 'log.level', kind: 'enum', values: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], default: 'info', doc: 'pino log level (JSON lines on stdout).' },
  { path: 'runtime.kind', kind: 'enum', values: ['none', 'docker', 'process'], default: 'none', doc: 'Container runtime: `docker` (the engine at `runtime.dockerSocket`), `process` (agents as child processes, for hosts without an engine), or `none` (a null runtime: plans are computed and shown, nothing is started).' },
  { path: 'runtime.dockerSocket', kind: 'string', default: '/var/run/docker.sock', doc: 'Unix socket of the Docker engine (runtime.kind docker).' },
  { path: 'runtime.resyncIntervalMs', kind: 'int', default: 10_000, min: 100, max: 3_600_000, doc: 'Level-triggered resync: the runtime is observed at least this often (ms).' },
  { path: 'runtime.secretsDir', kind: 'string', default: '', defaultText: '`$RUNTIME_DIRECTORY/secrets` (systemd), else `$XDG_RUNTIME_DIR/agentmesh/secrets`, else `/dev/shm/agentmesh-UID/secrets`', doc: 'Where agents\' secret files are kept (`services[].secrets[].file`): must be on a tmpfs (checked), never a disk. Each host uses its own `<hostId>` folder inside (mode 0700), one folder per agent in it. With Docker the same path must be the host\'s (bind-mounted into each agent\'s container).' },
  { path: 'debug.faultInjection', kind: 'bool', default: false, doc: 'Enables `POST /v1/debug/partition` (bearer token required): cuts this host off the mesh and back, for tests and chaos drills.' },
  { path: 'vault.address', kind: 'string', default: '', doc: 'HashiCorp Vault\'s address, `https://vault.example:8200` (http:// only for a lab); empty: no Vault, and no service may name secrets. node-vault is loaded only when set.' },
  { path: 'vault.namespace', kind: 'string', default: '', doc: 'Vault Enterprise namespace, sent as `X-Vault-Namespace` on every request; empty: none.' },
  { path: 'vault.caFile', kind: 'string', default: '', defaultText: '"" (Node\'s CA store)', doc: 'PEM file of the CA(s) that sign Vault\'s certificate. Certificate checks are never switched off (`VAULT_SKIP_VERIFY` is ignored).' },
  { path: 'vault.auth.method', kind: 'enum', values: ['approle', 'token'], default: 'approle', doc: '`approle`: log in with `vault.auth.roleId` and the secret id in `vault.auth.secretIdFile`, and again whenever the token cannot be renewed. `token`: the token in `vault.auth.tokenFile`, read again whenever Vault refuses it.' },
  { path: 'vault.auth.tokenFile', kind: 'string', default: '', doc: 'File holding a Vault token (`token` method; readable by the daemon only, see Secret files).' },
  { path: 'vault.auth.roleId', kind: 'string', default: '', doc: 'The AppRole role id (`approle` method).' },
  { path: 'vault.auth.secretIdFile', kind: 'string', default: '', doc: 'File holding the AppRole secret id (`approle` method; readable by the daemon only), read at every login.' },
  { path: 'vault.auth.mount', kind: 'string', default: 'approle', doc: 'Path the AppRole auth method is enabled at (`auth/<mount>/login`).' },
  { path: 'vault.auth.renewFraction', kind: 'number', default: VAULT_DEFAULTS.renewFraction, min: 0.1, max: 0.9, doc: 'The token is renewed (`renew-self`) when this fraction of its TTL has passed; once Vault stops extending it (its max TTL), the daemon logs in again before it runs out.' },
  { path: 'vault.requestTimeoutMs', kind: 'int', default: VAULT_DEFAULTS.requestTimeoutMs, min: 100, max: 300_000, doc: 'Bound on one request to Vault (ms). A start that needs a secret waits at most this long for it.' },
  { path: 'vault.retryMsMin', kind: 'int', default: VAULT_DEFAULTS.retryMsMin, min: 50, max: 3_600_000, doc: 'After a failed login, renewal or request with Vault down, the first wait before trying again (ms), doubling up to `vault.retryMsMax`. While Vault is down, reads fail at once instead of each waiting out the timeout, and `sys/health` is probed.' },
  { path: 'vault.retryMsMax', kind: 'int', default: VAULT_DEFAULTS.retryMsMax, min: 50, max: 3_600_000, doc: 'Longest wait between two attempts (ms).' },
  { path: 'vault.refreshIntervalMs', kind: 'int', default: VAULT_DEFAULTS.refreshIntervalMs, min: 1000, max: 86_400_000, doc: 'Secrets that running agents use are read again this often (ms; sooner when Vault gives the secret a lease). A new version is written into running agents\' secret files and restarts the agents of services that ask for it (`restartOnChange`).' },
  { path: 'vault.maxStaleMs', kind: 'int', default: VAULT_DEFAULTS.maxStaleMs, min: 0, max: 7 * 86_400_000, doc: 'While Vault does not answer or refuses, a start uses the copy of a secret kept in memory if it was read less than this long ago (ms); older, the start fails with E_VAULT_STALE. 0: never start from memory. A trade-off: availability while Vault is down against how long a revoked secret can still reach a new agent.' },
  { path: 'vault.maxCachedSecrets', kind: 'int', default: VAULT_DEFAULTS.maxCachedSecrets, min: 1, max: 100_000, doc: 'Secrets kept in memory at once; past it the least recently used one that no agent needs is dropped.' },
  { path: 'vault.maxSecretBytes', kind: 'int', default: VAULT_DEFAULTS.maxSecretBytes, min: 16, max: 16 * 1024 * 1024, doc: 'Largest value of one key accepted (bytes); larger is refused with E_VAULT_BAD_RESPONSE.' },
  { path: 'vault.startTimeoutMs', kind: 'int', default: VAULT_DEFAULTS.startTimeoutMs, min: 0, max: 3_600_000, doc: 'With the swarm key or the API token in Vault, how long the daemon keeps trying to read them at start (ms) before it exits 1.' },
  { path: 'network.swarmKeyVault.path', kind: 'string', default: '', doc: 'Read the swarm key from Vault instead of `network.swarmKeyFile`: the KV v2 path (under `network.swarmKeyVault.mount`). The value is the key file\'s text or just its 64 hex digits. Read once at start.' },
  { path: 'network.swarmKeyVault.mount', kind: 'string', default: 'secret', doc: 'KV v2 mount of `network.swarmKeyVault.path`.' },
  { path: 'network.swarmKeyVault.key', kind: 'string', default: 'swarm_key', doc: 'Key of the swarm key in that secret.' },
  { path: 'http.tokenVault.path', kind: 'string', default: '', doc: 'Read the API\'s bearer token from Vault instead of `http.tokenFile`: the KV v2 path (under `http.tokenVault.mount`). Read once at start.' },
  { path: 'http.tokenVault.mount', kind: 'string', default: 'secret', doc: 'KV v2 mount of `http.tokenVault.path`.' },
  { path: 'http.tokenVault.key', kind: 'string', default: 'token', doc: 'Key of the token in that secret.' },
]

export type { ServiceFieldDef } from '../core/service-spec-reader.js'

/** The fields of one `services[]` entry: the core's (SERVICE_SPEC_FIELDS) and the daemon's own. */
export const SERVICE_FIELDS: readonly ServiceFieldDef[] = [
  ...SERVICE_SPEC_FIELDS,
  { path: 'secrets', default: '[]', doc: 'Secrets from Vault each agent of the service receives (see the `services[].secrets[]` table and Secrets).' },
  { path: 'forecast.model', default: 'no forecast', doc: 'Predictive scaling (docs/forecast.md): `builtin`, or a path to an `.onnx` file (relative to this file). Needs a rate signal for the service.' },
  { path: 'forecast.step', default: '60s', doc: 'One step of the model\'s history and its horizon (the step it was trained on).' },
  { path: 'forecast.peakMultipleMax', default: String(FORECAST_DEFAULTS.peakMultipleMax), doc: 'A forecast above this multiple of the window\'s peak rate is ignored that round.' },
]

export interface DaemonConfig {
  hostId: string
  site: string
  labels: Map<string, string>
  priority: number
  capacity: { slots: number, cpuMillis: number, memoryMib: number }
  dataDir: string
  profile: string
  timings: CoreTimings
  bootstrapExpect: number
  network: {
    listen: string[]
    announce: string[]
    bootstrap: string[]
    privateKeyFile: string
    swarmKeyFile: string
    /** Set: the swarm key comes from Vault, not swarmKeyFile. */
    swarmKeyVault: VaultKeyRef | undefined
    maxConnections: number
    targetPeers: number
    redialIntervalMs: number
    redialBackoffMaxMs: number
    dialTimeoutMs: number
    dialSettleMs: number
    maxParallelDials: number
    pingIntervalMs: number
    inboundConnectionsPerSecond: number
    ipColocationWhitelist: string[]
    gossipD: number
    gossipDlo: number
    gossipDhi: number
    maxTrackedSenders: number
    rebindQuietMs: number
  }
  http: {
    host: string
    port: number
    tokenFile: string
    /** Set: the bearer token comes from Vault, not tokenFile. */
    tokenVault: VaultKeyRef | undefined
    maxBodyBytes: number
    allowedHosts: string[]
    maxConnections: number
    requestsPerSecond: number
    requestBurst: number
    connectionRequestsPerSecond: number
    connectionRequestBurst: number
    maxHeaderBytes: number
    headersTimeoutMs: number
    requestTimeoutMs: number
    maxSseClients: number
    sseMaxBufferedBytes: number
    eventHistory: number
  }
  log: { level: string }
  runtime: { kind: 'none' | 'docker' | 'process', resyncIntervalMs: number, dockerSocket: string, secretsDir: string }
  debug: { faultInjection: boolean }
  /** Undefined: no `vault.address`, no Vault. */
  vault: VaultConfig | undefined
  /** Secrets from Vault per service (`services[].secrets`); services without any are absent. */
  secrets: Record<string, ServiceSecret[]>
  services: ServiceSpec[]
  /** How to run each service's replicas (`services[].agent`), by service name. */
  agents: Record<string, AgentSpec>
  /** Where load is measured (`signals`). */
  signals: SignalEntry[]
}

export interface VaultConfig {
  address: string
  namespace: string
  /** Absolute path, or "" for Node's CA store. */
  caFile: string
  auth: { method: 'approle' | 'token', tokenFile: string, roleId: string, secretIdFile: string, mount: string, renewFraction: number }
  requestTimeoutMs: number
  retryMsMin: number
  retryMsMax: number
  refreshIntervalMs: number
  maxStaleMs: number
  maxCachedSecrets: number
  maxSecretBytes: number
  startTimeoutMs: number
}

/**
 * The `http` section with every default from CONFIG_FIELDS, listening on 127.0.0.1 on a port
 * the system picks: for embedding the HTTP API (tests, tools) without a config file.
 */
export function defaultHttpConfig (overrides: Partial<DaemonConfig['http']> = {}): DaemonConfig['http'] {
  const out: Record<string, unknown> = { host: '127.0.0.1', port: 0 }
  for (const f of CONFIG_FIELDS) {
    if (!f.path.startsWith('http.') || f.path === 'http.listen' || f.path.startsWith('http.tokenVault.')) continue
    out[f.path.slice('http.'.length)] = Array.isArray(f.default) ? [...f.default] : f.default
  }
  return { ...(out as unknown as DaemonConfig['http']), tokenVault: undefined, ...overrides }
}

/** `network.listen` → `AGENTMESH_NETWORK_LISTEN`. */
export function envName (path: string): string {
  return ENV_PREFIX + path.split('.').map(p => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
}

export const SERVICES_ENV = `${ENV_PREFIX}SERVICES`
export const SIGNALS_ENV = `${ENV_PREFIX}SIGNALS`

type Env = Record<string, string | undefined>

export interface LoadOptions {
  env?: Env
}

/** Reads, overrides from the environment, and validates. Throws DaemonError listing every problem. */
export function loadConfig (file: string, opts: LoadOptions = {}): DaemonConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new DaemonError(DaemonErrorCode.ConfigIo, `cannot read config file ${file}: ${(err as Error).message}`, [], { cause: err })
  }
  return parseConfig(text, { file, env: opts.env ?? process.env })
}

export function parseConfig (text: string, opts: { file: string, env: Env }): DaemonConfig {
  const source = new YamlSource(text, opts.file)
  if (source.errors.length > 0) throw new DaemonError(DaemonErrorCode.ConfigInvalid, `invalid config ${opts.file}`, source.errors)
  const r = new Reader(source)
  const raw: unknown = source.toJS() ?? {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DaemonError(DaemonErrorCode.ConfigInvalid, `invalid config ${opts.file}`, [`${opts.file}: the file must be a YAML mapping`])
  }
  const config = build(raw as Record<string, unknown>, r, opts.env, opts.file)
  if (r.problems.length > 0) throw new DaemonError(DaemonErrorCode.ConfigInvalid, `invalid config ${opts.file}`, r.problems)
  return config!
}

class Reader {
  readonly problems: string[] = []
  constructor (private readonly source: YamlSource) {}

  where (path: readonly (string | number)[]): string {
    return this.source.where(path)
  }

  fail (path: readonly (string | number)[], field: string, message: string, source: 'file' | 'env' = 'file'): undefined {
    const at = source === 'env' ? `env ${envName(field)}` : this.where(path)
    this.problems.push(`${at} ${field}: ${message}`)
    return undefined
  }
}

const SECTIONS = ['capacity', 'timings', 'network', 'http', 'log', 'runtime', 'debug', 'vault']

function build (raw: Record<string, unknown>, r: Reader, env: Env, file: string): DaemonConfig | undefined {
  checkUnknown(raw, r)
  const v = new Map<string, unknown>()
  for (const f of CONFIG_FIELDS) v.set(f.path, readField(f, raw, r, env))
  const servicesRead = readServices(raw.services, r, env)
  const services = servicesRead?.specs
  const get = <T>(path: string): T => v.get(path) as T

  const hostId = get<string>('hostId') !== '' ? get<string>('hostId') : hostname()
  checkId(hostId, 'hostId', r)
  if (get<string>('site') !== '') checkId(get<string>('site'), 'site', r)
  const labels = new Map(Object.entries(get<Record<string, string>>('labels')))
  checkLabels(labels, r)

  const baseDir = file === '' ? process.cwd() : resolve(file, '..')
  const dataDir = absolute(get<string>('dataDir'), baseDir)
  // A forecast model path is relative to the config file, as every other path here.
  for (const s of services ?? []) if (s.forecast !== undefined && s.forecast.model !== 'builtin') s.forecast.model = absolute(s.forecast.model, baseDir)
  const timings = readTimings(get<string>('profile'), v, r)
  const listen = get<string[]>('network.listen')
  const announce = get<string[]>('network.announce')
  const bootstrap = get<string[]>('network.bootstrap')
  checkMultiaddrs(listen, 'network.listen', r, false)
  checkMultiaddrs(announce, 'network.announce', r, false)
  checkMultiaddrs(bootstrap, 'network.bootstrap', r, true)
  if (listen.length === 0) r.fail(['network', 'listen'], 'network.listen', 'needs at least one address')
  if (announce.length > PROTOCOL_LIMITS.maxAddrs) r.fail(['network', 'announce'], 'network.announce', `at most ${PROTOCOL_LIMITS.maxAddrs} addresses`)
  const targetPeers = get<number>('network.targetPeers')
  if (targetPeers >= get<number>('network.maxConnections')) {
    r.fail(['network', 'targetPeers'], 'network.targetPeers', 'must be below network.maxConnections, or the connection manager prunes what the re-dial loop keeps')
  }
  if (get<number>('network.redialBackoffMaxMs') < get<number>('network.redialIntervalMs')) {
    r.fail(['network', 'redialBackoffMaxMs'], 'network.redialBackoffMaxMs', 'must be at least network.redialIntervalMs')
  }
  if (!(get<number>('network.gossipDlo') <= get<number>('network.gossipD') && get<number>('network.gossipD') <= get<number>('network.gossipDhi'))) {
    r.fail(['network', 'gossipD'], 'network.gossipD', 'must satisfy gossipDlo ≤ gossipD ≤ gossipDhi')
  }
  const http = parseHostPort(get<string>('http.listen'))
  if (http === undefined) r.fail(['http', 'listen'], 'http.listen', `must be host:port with a port from 0 to 65535, got "${get<string>('http.listen')}"`)
  if (get<number>('http.requestBurst') < 1) r.fail(['http', 'requestBurst'], 'http.requestBurst', 'must be at least 1')
  httpLimitProblems(get, r)

  const privateKeyFile = get<string>('network.privateKeyFile')
  const swarmKeyFile = get<string>('network.swarmKeyFile')
  const tokenFile = get<string>('http.tokenFile')
  const keyRef = (prefix: string): VaultKeyRef | undefined => get<string>(`${prefix}.path`) === ''
    ? undefined
    : { mount: get<string>(`${prefix}.mount`), path: get<string>(`${prefix}.path`), key: get<string>(`${prefix}.key`) }
  const secretsDir = get<string>('runtime.secretsDir')
  const config: DaemonConfig = {
    hostId,
    site: get('site'),
    labels,
    priority: get('priority'),
    capacity: {
      slots: get('capacity.slots'),
      cpuMillis: get<number>('capacity.cpuMillis') === 0 ? availableParallelism() * 1000 : get('capacity.cpuMillis'),
      memoryMib: get<number>('capacity.memoryMib') === 0 ? Math.floor(totalmem() / 1048576) : get('capacity.memoryMib'),
    },
    dataDir,
    profile: get('profile'),
    timings: timings ?? DEFAULT_TIMINGS,
    bootstrapExpect: get('bootstrapExpect'),
    network: {
      listen,
      announce,
      bootstrap,
      privateKeyFile: privateKeyFile === '' ? join(dataDir, 'host.key') : absolute(privateKeyFile, baseDir),
      swarmKeyFile: swarmKeyFile === '' ? join(dataDir, 'swarm.key') : absolute(swarmKeyFile, baseDir),
      swarmKeyVault: keyRef('network.swarmKeyVault'),
      maxConnections: get('network.maxConnections'),
      targetPeers,
      redialIntervalMs: get('network.redialIntervalMs'),
      redialBackoffMaxMs: get('network.redialBackoffMaxMs'),
      dialTimeoutMs: get('network.dialTimeoutMs'),
      dialSettleMs: get('network.dialSettleMs'),
      maxParallelDials: get('network.maxParallelDials'),
      pingIntervalMs: get('network.pingIntervalMs'),
      inboundConnectionsPerSecond: get('network.inboundConnectionsPerSecond'),
      ipColocationWhitelist: get('network.ipColocationWhitelist'),
      gossipD: get('network.gossipD'),
      gossipDlo: get('network.gossipDlo'),
      gossipDhi: get('network.gossipDhi'),
      maxTrackedSenders: get('network.maxTrackedSenders'),
      rebindQuietMs: get('network.rebindQuietMs'),
    },
    http: {
      host: http?.host ?? '127.0.0.1',
      port: http?.port ?? 0,
      tokenFile: tokenFile === '' ? '' : absolute(tokenFile, baseDir),
      tokenVault: keyRef('http.tokenVault'),
      maxBodyBytes: get('http.maxBodyBytes'),
      allowedHosts: get('http.allowedHosts'),
      maxConnections: get('http.maxConnections'),
      requestsPerSecond: get('http.requestsPerSecond'),
      requestBurst: get('http.requestBurst'),
      connectionRequestsPerSecond: get('http.connectionRequestsPerSecond'),
      connectionRequestBurst: get('http.connectionRequestBurst'),
      maxHeaderBytes: get('http.maxHeaderBytes'),
      headersTimeoutMs: get('http.headersTimeoutMs'),
      requestTimeoutMs: get('http.requestTimeoutMs'),
      maxSseClients: get('http.maxSseClients'),
      sseMaxBufferedBytes: get('http.sseMaxBufferedBytes'),
      eventHistory: get('http.eventHistory'),
    },
    log: { level: get('log.level') },
    runtime: {
      kind: get('runtime.kind'),
      resyncIntervalMs: get('runtime.resyncIntervalMs'),
      dockerSocket: absolute(get<string>('runtime.dockerSocket'), baseDir),
      secretsDir: secretsDir === '' ? defaultSecretsDir(env) : absolute(secretsDir, baseDir),
    },
    debug: { faultInjection: get('debug.faultInjection') },
    vault: get<string>('vault.address') === ''
      ? undefined
      : {
          address: get<string>('vault.address').replace(/\/+$/, ''),
          namespace: get('vault.namespace'),
          caFile: get<string>('vault.caFile') === '' ? '' : absolute(get<string>('vault.caFile'), baseDir),
          auth: {
            method: get('vault.auth.method'),
            tokenFile: get<string>('vault.auth.tokenFile') === '' ? '' : absolute(get<string>('vault.auth.tokenFile'), baseDir),
            roleId: get('vault.auth.roleId'),
            secretIdFile: get<string>('vault.auth.secretIdFile') === '' ? '' : absolute(get<string>('vault.auth.secretIdFile'), baseDir),
            mount: get('vault.auth.mount'),
            renewFraction: get('vault.auth.renewFraction'),
          },
          requestTimeoutMs: get('vault.requestTimeoutMs'),
          retryMsMin: get('vault.retryMsMin'),
          retryMsMax: get('vault.retryMsMax'),
          refreshIntervalMs: get('vault.refreshIntervalMs'),
          maxStaleMs: get('vault.maxStaleMs'),
          maxCachedSecrets: get('vault.maxCachedSecrets'),
          maxSecretBytes: get('vault.maxSecretBytes'),
          startTimeoutMs: get('vault.startTimeoutMs'),
        },
    services: services ?? [],
    agents: Object.fromEntries(servicesRead?.agents ?? []),
    signals: [],
    secrets: Object.fromEntries(servicesRead?.secrets ?? []),
  }
  const signalsList = listSource(raw.signals, SIGNALS_ENV, r, env)
  if (signalsList !== undefined) config.signals = readSignals(signalsList.value, config.services, baseDir, signalsList.where)
  if (servicesRead !== undefined) checkAgentsForRuntime(config.runtime.kind, config.services, servicesRead.agents, servicesRead.agentGiven, servicesRead.where)
  checkVaultSection(config, { explicitSwarmKeyFile: swarmKeyFile !== '' }, (path, field, msg) => r.fail(path, field, msg))
  if (config.network.swarmKeyVault !== undefined) {
    // the key comes from Vault: no file to check
  } else if (!existsSync(config.network.swarmKeyFile)) {
    r.fail(['network', 'swarmKeyFile'], 'network.swarmKeyFile', `no swarm key at ${config.network.swarmKeyFile}; copy the mesh's key there or create one with \`agentmesh supervise --new-swarm-key FILE\``)
  } else {
    const problem = secretFileProblem(config.network.swarmKeyFile, 'swarm key')
    if (problem !== undefined) r.fail(['network', 'swarmKeyFile'], 'network.swarmKeyFile', problem)
  }
  if (config.http.tokenFile !== '') {
    const problem = existsSync(config.http.tokenFile) ? secretFileProblem(config.http.tokenFile, 'token file') : `no token file at ${config.http.tokenFile}`
    if (problem !== undefined) r.fail(['http', 'tokenFile'], 'http.tokenFile', problem)
  }
  if (config.debug.faultInjection && config.http.tokenFile === '' && config.http.tokenVault === undefined) {
    r.fail(['debug', 'faultInjection'], 'debug.faultInjection', 'needs http.tokenFile (or http.tokenVault): the partition route is a mutating route')
  }
  return config
}

function checkUnknown (raw: Record<string, unknown>, r: Reader): void {
  const top = new Set([...CONFIG_FIELDS.map(f => f.path.split('.')[0]), 'services', 'signals'])
  for (const k of Object.keys(raw)) {
    if (!top.has(k)) r.fail([k], k, `unknown field; known: ${[...top].join(', ')}`)
  }
  for (const section of SECTIONS) checkSection(raw[section], [section], r)
}

/** The keys of one section (or sub-section, `vault.auth`) against CONFIG_FIELDS. */
function checkSection (s: unknown, path: string[], r: Reader): void {
  if (s === undefined || s === null) return
  const name = path.join('.')
  if (typeof s !== 'object' || Array.isArray(s)) { r.fail(path, name, 'must be a mapping'); return }
  const below = CONFIG_FIELDS.filter(f => f.path.startsWith(name + '.')).map(f => f.path.slice(name.length + 1))
  const known = [...new Set(below.map(p => p.split('.')[0]))]
  for (const [k, v] of Object.entries(s)) {
    if (!known.includes(k)) { r.fail([...path, k], `${name}.${k}`, `unknown field; known: ${known.join(', ')}`); continue }
    if (!below.includes(k)) checkSection(v, [...path, k], r) // a sub-section
  }
}

function fileValue (raw: Record<string, unknown>, path: string): unknown {
  let v: unknown = raw
  for (const p of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
    v = (v as Record<string, unknown>)[p]
  }
  return v === null ? undefined : v
}

function readField (f: FieldDef, raw: Record<string, unknown>, r: Reader, env: Env): unknown {
  const path = f.path.split('.')
  const envText = env[envName(f.path)]
  if (envText !== undefined) return coerce(f, fromEnv(f, envText), r, path, 'env')
  const v = fileValue(raw, f.path)
  if (v === undefined) {
    if (f.required === true) r.fail(path, f.path, `is required (or set ${envName(f.path)})`)
    return f.default
  }
  return coerce(f, v, r, path, 'file')
}

function fromEnv (f: FieldDef, text: string): unknown {
  switch (f.kind) {
    case 'int': case 'number': return text.trim() === '' ? NaN : Number(text)
    case 'bool': return text === 'true' ? true : text === 'false' ? false : text
    case 'list': return text.trim() === '' ? [] : text.split(',').map(s => s.trim())
    case 'map': {
      const out: Record<string, string> = {}
      for (const pair of text.split(',').filter(s => s.trim() !== '')) {
        const i = pair.indexOf('=')
        if (i <= 0) return text
        out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim()
      }
      return out
    }
    default: return text
  }
}

function coerce (f: FieldDef, v: unknown, r: Reader, path: string[], source: 'file' | 'env'): unknown {
  const bad = (msg: string): unknown => { r.fail(path, f.path, msg, source); return f.default }
  switch (f.kind) {
    case 'string':
      return typeof v === 'string' ? v : bad(`must be a string, got ${show(v)}`)
    case 'enum':
      return typeof v === 'string' && f.values!.includes(v) ? v : bad(`must be one of ${f.values!.join(', ')}, got ${show(v)}`)
    case 'bool':
      return typeof v === 'boolean' ? v : bad(`must be true or false, got ${show(v)}`)
    case 'int': case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`must be a number, got ${show(v)}`)
      if (f.kind === 'int' && !Number.isSafeInteger(v)) return bad(`must be a whole number, got ${v}`)
      if ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max)) return bad(`must be from ${f.min} to ${f.max}, got ${v}`)
      return v
    }
    case 'list':
      return Array.isArray(v) && v.every(s => typeof s === 'string') ? v : bad(`must be a list of strings, got ${show(v)}`)
    case 'map': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(`must be a mapping of strings${source === 'env' ? ' (k=v,k2=v2)' : ''}, got ${show(v)}`)
      const out: Record<string, string> = {}
      for (const [k, x] of Object.entries(v)) {
        if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') out[k] = String(x)
        else return bad(`value of "${k}" must be a string`)
      }
      return out
    }
  }
}

function show (v: unknown): string {
  const s = JSON.stringify(v)
  return s === undefined ? String(v) : s.length > 60 ? s.slice(0, 57) + '...' : s
}


function checkId (id: string, field: string, r: Reader): void {
  if (!ID_RE.test(id) || utf8Length(id) > PROTOCOL_LIMITS.maxIdBytes) {
    r.fail([field], field, `must be letters, digits and ._- (starting with a letter or digit), at most ${PROTOCOL_LIMITS.maxIdBytes} bytes, got ${show(id)}`)
  }
}

function checkLabels (labels: Map<string, string>, r: Reader): void {
  if (labels.size > PROTOCOL_LIMITS.maxLabels) r.fail(['labels'], 'labels', `at most ${PROTOCOL_LIMITS.maxLabels} labels, got ${labels.size}`)
  for (const [k, v] of labels) {
    if (k === '' || utf8Length(k) > PROTOCOL_LIMITS.maxLabelKeyBytes) r.fail(['labels', k], `labels.${k}`, `key must be 1 to ${PROTOCOL_LIMITS.maxLabelKeyBytes} bytes`)
    if (utf8Length(v) > PROTOCOL_LIMITS.maxLabelValueBytes) r.fail(['labels', k], `labels.${k}`, `value must be at most ${PROTOCOL_LIMITS.maxLabelValueBytes} bytes`)
  }
}

function checkMultiaddrs (addrs: string[], field: string, r: Reader, needPeerId: boolean): void {
  addrs.forEach((a, i) => {
    try {
      const ma = multiaddr(a)
      if (needPeerId && ma.getComponents().find(c => c.name === 'p2p') === undefined) {
        r.fail([...field.split('.'), i], `${field}[${i}]`, `must end in /p2p/<peer id> (the peer's id is printed in its log at start and in its status), got "${a}"`)
      }
      if (utf8Length(a) > PROTOCOL_LIMITS.maxAddrBytes) r.fail([...field.split('.'), i], `${field}[${i}]`, `at most ${PROTOCOL_LIMITS.maxAddrBytes} bytes`)
    } catch (err) {
      r.fail([...field.split('.'), i], `${field}[${i}]`, `not a multiaddr: "${a}" (${(err as Error).message})`)
    }
  })
}

function readTimings (profile: string, v: Map<string, unknown>, r: Reader): CoreTimings | undefined {
  const base = TIMING_PROFILES[profile]
  if (base === undefined) return undefined
  const overrides: Partial<CoreTimings> = {}
  for (const k of Object.keys(DEFAULT_TIMINGS) as Array<keyof CoreTimings>) {
    const x = v.get(`timings.${k}`) as number
    if (x > 0) overrides[k] = x
  }
  const t = { ...DEFAULT_TIMINGS, ...base, ...overrides }
  for (const p of timingProblems(t)) r.fail(['timings'], 'timings', `${p} (profile ${profile} with the overrides given)`)
  return t
}

/** Relations between the HTTP API's limits, each broken one reported on its field. */
function httpLimitProblems (get: <T>(path: string) => T, r: Reader): void {
  const n = (path: string): number => get<number>(`http.${path}`)
  if (n('maxConnections') <= n('maxSseClients')) {
    r.fail(['http', 'maxConnections'], 'http.maxConnections', `must exceed http.maxSseClients (${n('maxSseClients')}), or open event streams leave no connection for /healthz`)
  }
  if (n('connectionRequestsPerSecond') > n('requestsPerSecond')) {
    r.fail(['http', 'connectionRequestsPerSecond'], 'http.connectionRequestsPerSecond', `must be at most http.requestsPerSecond (${n('requestsPerSecond')}), or one connection can use up its address's share`)
  }
  if (n('connectionRequestBurst') > n('requestBurst')) {
    r.fail(['http', 'connectionRequestBurst'], 'http.connectionRequestBurst', `must be at most http.requestBurst (${n('requestBurst')})`)
  }
  if (n('headersTimeoutMs') > n('requestTimeoutMs')) {
    r.fail(['http', 'headersTimeoutMs'], 'http.headersTimeoutMs', `must be at most http.requestTimeoutMs (${n('requestTimeoutMs')})`)
  }
  for (const [i, h] of get<string[]>('http.allowedHosts').entries()) {
    if (h !== '*' && parseHostHeader(h) === undefined) r.fail(['http', 'allowedHosts', i], `http.allowedHosts[${i}]`, `must be a host name, an IP address (IPv6 in brackets), either with :port, or *; got ${show(h)}`)
  }
}

export function parseHostPort (s: string): { host: string, port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s)
  if (m === null) return undefined
  const port = Number(m[3])
  if (port > 65535) return undefined
  return { host: m[1] ?? m[2], port }
}

function absolute (p: string, baseDir: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p)
}

// ---- services ------------------------------------------------------------------------------

/** A service's fields besides the core's ServiceSpec (node/core/service-spec-reader.ts reads those, for scenarios too). */
const DAEMON_SERVICE_FIELDS = ['agent', 'secrets'] as const

/**
 * A list section (`services`, `signals`) from the file, or from its environment variable (YAML
 * or JSON) when set; `where` reports a problem at a path inside it, naming the line or the variable.
 */
function listSource (fileValue: unknown, envVar: string, r: Reader, env: Env): { value: unknown, where: Where } | undefined {
  let value = fileValue
  let source: 'file' | 'env' = 'file'
  const envText = env[envVar]
  if (envText !== undefined) {
    source = 'env'
    try {
      value = parseDocument(envText).toJS()
    } catch (err) {
      r.problems.push(`env ${envVar}: not YAML or JSON (${(err as Error).message})`)
      return undefined
    }
  }
  const where: Where = (path, msg) => {
    if (source === 'env') { r.problems.push(`env ${envVar} ${pathText(path)}: ${msg}`); return undefined }
    return r.fail(path, pathText(path), msg)
  }
  return { value, where }
}

function pathText (path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => typeof p === 'number' ? `[${p}]` : (i === 0 ? p : `.${p}`)).join('')
}

function readServices (fileValueRaw: unknown, r: Reader, env: Env): { specs: ServiceSpec[], agents: Map<string, AgentSpec>, agentGiven: Set<string>, secrets: Map<string, ServiceSecret[]>, where: Where } | undefined {
  const src = listSource(fileValueRaw, SERVICES_ENV, r, env)
  if (src === undefined) return undefined
  const { value: v, where } = src
  const agents = new Map<string, AgentSpec>()
  const agentGiven = new Set<string>()
  const secrets = new Map<string, ServiceSecret[]>()
  if (v === undefined || v === null) return { specs: [], agents, agentGiven, secrets, where }
  if (!Array.isArray(v)) { where(['services'], 'must be a list of services'); return undefined }
  if (v.length > PROTOCOL_LIMITS.maxServices) where(['services'], `at most ${PROTOCOL_LIMITS.maxServices} services`)
  const specs: ServiceSpec[] = []
  const names = new Set<string>()
  v.forEach((s: unknown, i) => {
    const spec = readServiceSpec(s, ['services', i], where, DAEMON_SERVICE_FIELDS)
    if (spec === undefined) return
    if (names.has(spec.name)) where(['services', i, 'name'], `duplicate service name "${spec.name}"`)
    names.add(spec.name)
    specs.push(spec)
    const raw = (s as Record<string, unknown>).agent
    if (raw !== undefined && raw !== null) agentGiven.add(spec.name)
    const agent = readAgent(raw, spec.name, ['services', i, 'agent'], where)
    if (agent !== undefined) agents.set(spec.name, agent)
    const list = readServiceSecrets((s as Record<string, unknown>).secrets, ['services', i, 'secrets'], agent, where)
    if (list.length > 0) secrets.set(spec.name, list)
  })
  return { specs, agents, agentGiven, secrets, where }
}



