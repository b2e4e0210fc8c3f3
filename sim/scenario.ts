/**
 * A validated scenario: what scenario-parse.ts builds from YAML, with every default filled in
 * and every duration in integer milliseconds. The simulator trusts these values.
 */
import type { ServiceSpec } from '../node/core/service-spec.js'

export type SiteKind = 'on-prem' | 'cloud' | 'edge'
export const SITE_KINDS: readonly SiteKind[] = ['on-prem', 'cloud', 'edge']

export type PolicyName = 'agentmesh' | 'hpa' | 'keda' | 'central'
/** agentmesh first: every comparison is agentmesh ÷ one of the others. */
export const POLICY_NAMES: readonly PolicyName[] = ['agentmesh', 'hpa', 'keda', 'central']
/** The central baselines (sim/central-controller.ts). */
export type BaselineName = Exclude<PolicyName, 'agentmesh'>
export const BASELINE_NAMES: readonly BaselineName[] = ['hpa', 'keda', 'central']

export interface LinkSpec {
  medianMs: number
  /** Extra delay drawn uniformly from [0, jitterMs] per hop. */
  jitterMs: number
  /** Probability that one transmission over the link is lost. */
  loss: number
}

export interface FlapSpec {
  /** Mean time the link stays up, then down (exponentially distributed, seeded). */
  upMs: number
  downMs: number
}

export interface SiteSpec {
  name: string
  kind: SiteKind
  hosts: number
  slots: number
  labels: Record<string, string>
  priority: number
  /** Core timing profile (node/core/config.ts). */
  profile: string
  /** Between two hosts of the site. */
  latency: LinkSpec
  /** The site's uplink to every other site flaps (edge clusters on cellular). */
  flap: FlapSpec | undefined
}

export interface InterSiteLink extends LinkSpec {
  a: string
  b: string
}

export interface StartLatencySpec { medianMs: number, p99Ms: number }

export interface ContainerModel {
  startLatency: Record<SiteKind, StartLatencySpec>
  startFailure: number
  crashMtbfMs: number
}

export interface SimService {
  spec: ServiceSpec
  /** Backlog units one running replica drains per second. */
  drainPerReplicaPerS: number
  /** Backlog above this is an SLA violation. */
  slaBacklog: number
  /** Sites where the service is configured (its supervisors know it). */
  sites: string[]
}

export interface UpstreamSpec {
  name: string
  /** One instance per listed site. */
  sites: string[]
  /** Backlog units per second the upstream accepts from all services that name it, per site. */
  capacityPerS: number
}

export type LoadShape =
  | { type: 'constant', rate: number }
  | { type: 'step', rate: number, steps: { atMs: number, rate: number }[] }
  | { type: 'diurnal', mean: number, amplitude: number, periodMs: number, phaseMs: number }
  | { type: 'bursts', rate: number, bursts: { atMs: number, durationMs: number, rate: number }[] }
  | { type: 'trace', file: string, points: { tMs: number, rate: number }[], scale: number, loop: boolean, offsetMs: number }

export interface LoadSpec {
  service: string
  sites: string[]
  shape: LoadShape
}

export type HostTarget =
  | { type: 'leader', site: string }
  | { type: 'host', hostId: string }
  | { type: 'random', count: number, site: string | undefined }

export type FaultSpec =
  | { kind: 'crash', atMs: number, target: HostTarget, mode: 'host' | 'supervisor', restartAfterMs: number | undefined }
  | { kind: 'restart', atMs: number, target: HostTarget }
  | { kind: 'partition', atMs: number, groups: string[][], healAfterMs: number | undefined }
  | { kind: 'heal', atMs: number }
  | { kind: 'degrade', atMs: number, sites: [string, string], link: Partial<LinkSpec>, restoreAfterMs: number | undefined }
  | { kind: 'docker-stop', atMs: number, target: HostTarget | { type: 'site', site: string }, restartAfterMs: number | undefined }
  | { kind: 'docker-start', atMs: number, target: HostTarget | { type: 'site', site: string } }
  | { kind: 'signal-kill', atMs: number, site: string, service: string | undefined, restoreAfterMs: number | undefined }
  | { kind: 'signal-restore', atMs: number, site: string, service: string | undefined }
  /**
   * Test only: from this time the simulated runtime of the host ignores slots and starts one
   * container more than the plan asks, so the observer must flag host-capacity. Proves that a
   * broken invariant fails the run with a replay line.
   */
  | { kind: 'inject-over-capacity', atMs: number, hostId: string }

/** The gossip model (sim/gossip-mesh.ts); every default is the daemon's (protocol/gossip-defaults.ts) or measured (sim/defaults.ts). */
export interface GossipSpec {
  D: number
  Dlo: number
  Dhi: number
  Dlazy: number
  heartbeatMs: number
  historyHeartbeats: number
  /** The publisher sends to every connected subscriber (the daemon's setting), not only its mesh peers. */
  floodPublish: boolean
  /** Each host dials while it has fewer open connections than this. */
  targetPeers: number
  /** Nobody dials a host with this many connections. */
  maxConnections: number
  /** CPU a host spends on each message it receives, µs: messages queue behind each other (simulation.ts). */
  messageCpuUs: number
  /** CPU a host spends on each duplicate copy of a message it already has, µs (gossipsub drops it by id). */
  duplicateCpuUs: number
  /** CPU each end of a new connection spends on its handshake (pnet, Noise), µs. */
  connectCpuUs: number
  /** CPU a host spends when a peer's connection dies under it, before the core hears of it, µs. */
  disconnectCpuUs: number
  /**
   * The site's hosts share this many cores (a test site of processes on one machine, as the
   * fidelity benchmark runs it); 0: every host has a core of its own (the default: a host per machine).
   */
  siteCores: number
  /** Share of a core, %, each supervisor's idle work takes (timers, gossip heartbeats, pings): its messages get the rest. */
  idleCpuPct: number
  /** One encoded message in this many is decoded and encoded again, both results compared (0: never). */
  codecSampleEvery: number
  /** Who receives global-topic messages (site summaries): each site's current leader, or every host. */
  globalSubscribers: 'leaders' | 'all'
}

export interface BaselineSpec {
  /** Site of the central controller (its first controllerReplicas hosts by id) when not controllerPerSite. */
  controllerSite: string
  /** One controller (with its standbys) in every site, scaling that site only, instead of one for all. */
  controllerPerSite: boolean
  /** Hosts that can run the controller: the active one and its standbys (an HA control plane). */
  controllerReplicas: number
  /** A standby takes over this long after the active controller's host is lost (leader-election lease). */
  leaseMs: number
  /** HPA controller sync period (--horizontal-pod-autoscaler-sync-period). */
  hpaSyncMs: number
  /** Prometheus scrape interval of the metric the hpa baseline scales on. */
  hpaScrapeMs: number
  /** Extra age of that metric on top of the scrape (recording rules, exporter caching, adapter). */
  hpaMetricDelayMs: number
  /** `spec`: the HPA has the service's scaleUp/scaleDown as its behavior; `legacy`: an HPA created without behavior. */
  hpaBehavior: 'spec' | 'legacy'
  /** --horizontal-pod-autoscaler-downscale-stabilization: the only stabilisation of a legacy HPA. */
  hpaDownscaleStabilizationMs: number
  /** KEDA pollingInterval: how often it checks activation (0↔1). */
  kedaPollMs: number
  /** KEDA cooldownPeriod: inactive this long before scaling to zero. */
  kedaCooldownMs: number
}

export interface Scenario {
  name: string
  description: string
  /**
   * The scenario file's path as given (for replay lines); for a scenario built from a host's
   * config, the `--from-config …` flags that build it again; '' for scenarios built in code.
   */
  file: string
  seed: number
  durationMs: number
  policies: PolicyName[]
  sites: SiteSpec[]
  links: InterSiteLink[]
  containers: ContainerModel
  services: SimService[]
  upstreams: UpstreamSpec[]
  load: LoadSpec[]
  /**
   * rate: reporters also read each service's arrival rate (a broker's publish counter, say) and
   * report it as a rate signal; false: the backlog alone, as the baselines read it.
   */
  signals: { intervalMs: number, delayMs: number, reporters: number, rate: boolean }
  faults: FaultSpec[]
  gossip: GossipSpec
  baseline: BaselineSpec
  loadStepMs: number
  replaceWithinMs: number
  /** propagationMs counts messages sent from this time on (0: the whole run), as a benchmark's quiet window skips the start-up. */
  measureFromMs: number
}
