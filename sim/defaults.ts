/**
 * Every default and named limit of the simulator, in one place. The scenario reference in
 * docs/simulator.md lists the same values (test/sim/scenario-parse.test.ts checks that it names
 * every field and fault kind; the values themselves are kept in agreement by hand).
 */
import { GOSSIP_DEFAULTS } from '../protocol/gossip-defaults.js'
import type { BaselineSpec, GossipSpec, SiteKind } from './scenario.js'

export const SIM_DEFAULTS = {
  /** Simulated time when neither the scenario nor --duration says. */
  durationMs: 600_000,
  seed: 1,
  /** Agent slots per host. */
  slots: 8,
  /** Resolution of the load model: arrivals, drain and SLA accounting advance in steps of this. */
  loadStepMs: 1000,
  /** How often a signal reporter reads its source, and how old the reading is when it lands. */
  signalIntervalMs: 1000,
  signalDelayMs: 500,
  /** Reporters read each service's arrival rate too (signals.rate). */
  signalRate: true,
  /** Hosts per site that report each service's backlog (each a share); fewer if the site is smaller. */
  signalReporters: 3,
  /** Probability that one container start fails (the container exits at once after its start latency). */
  containerStartFailure: 0.01,
  /** Mean time between crashes of one container; 0 = containers never crash on their own. */
  containerCrashMtbfMs: 0,
  /** Docker list latency: the supervisor observes the runtime this long after an event. */
  observeDelayMs: 5,
  /**
   * CPU one supervisor spends on one message it accepts (js-libp2p's read path, the signature
   * check, decoding, the message gate and the core), µs. Measured as
   * `fidelity.cpu_ms_per_msg_real` (bench/fidelity-suite.ts: each of 20 daemons' CPU time from
   * /proc against the messages it accepted, least squares over the hosts; the leader, which
   * receives every member's heartbeat, spans the range): 1.186 and 1.226 ms over a quiet window
   * on 2026-11-30. Fitted over failovers too, with duplicates apart, it came out at 1.37, 1.55,
   * 1.82 and 1.96 ms in four runs the same day; but the failover windows also spend CPU on
   * what no message count measures (connections opened after the election, dials to the dead
   * leader, disconnects), which the slope absorbs, and the quiet propagation figure
   * (`fidelity.propagation_p50_ratio`: 1.07 at 1200 µs; 1.36 at 1450 and 1.28 at 1200, both
   * with idleCpuPct) agrees with the lower value: kept.
   */
  messageCpuUs: 1200,
  /**
   * CPU one supervisor spends on a copy of a message it has already seen (read, Noise, pnet,
   * yamux and protobuf decoding, then gossipsub drops it by id before any signature check), µs.
   * Measured as `fidelity.cpu_ms_per_duplicate_real` (the same fit): 0.160, 0.085, 0.041 and
   * 0.005 ms in four runs on 2026-11-30, and 0.208 ms in a separate experiment (four failovers of a 20-host site,
   * debug logging) — a small cost, poorly separated from the rest on a noisy machine. An election
   * in a 20-host site brings each host about 1.5 copies per message it accepts.
   */
  duplicateCpuUs: 150,
  /**
   * CPU each end of a new connection spends on its handshake (TCP, pnet, Noise XX), µs: about
   * 25 ms on the test machine, measured with CPU profiles of 50 daemons starting together
   * (docs/membership.md, Connections).
   */
  connectCpuUs: 25_000,
  /**
   * CPU a supervisor spends when a peer's connection dies under it (the close through Noise,
   * yamux and libp2p, gossipsub forgetting the peer, the core's hint), before the daemon hears of
   * it, µs. Measured as `fidelity.cpu_ms_per_disconnect_real`: each survivor's CPU over the 300 ms
   * after a peer's SIGKILL less an idle 300 ms, 3-host sites on loopback: 7.68 ms (median 6.96,
   * standard error 0.76, 30 survivors) on 2026-11-30.
   */
  disconnectCpuUs: 7000,
  /** Cores a site's hosts share; 0: each host has its own (a host per machine). */
  siteCores: 0,
  /**
   * Share of a core, %, an idle supervisor keeps busy with its timers, gossipsub heartbeats,
   * pings and the rest that no message brings: its messages get what is left of its core, or
   * of the cores its site shares (`siteCores`: 20 hosts at 2.1 % leave 2 cores 1.58). Measured
   * as the intercept of the fidelity benchmark's fit (CPU per second against messages and
   * duplicates per second): 2.07, 2.19, 2.35 and 1.50 % in four runs on 2026-11-30.
   */
  idleCpuPct: 2.1,
  /**
   * The codec round trip (simulation.ts, `codec-round-trip`): one encoded message in this many
   * is decoded and encoded again. Chosen so that it costs under 3 % of a fleet run (measured on
   * fleet-1k: docs/simulator.md, Fidelity).
   */
  codecSampleEvery: 16,
  /**
   * Baselines, as a stock install runs them (the sources are cited in central-controller.ts):
   * kube-controller-manager's HPA sync period and downscale stabilisation, and its leader
   * election lease (a standby takes over once it expires); the Prometheus Operator's default
   * scrape interval; prometheus-adapter queries Prometheus on every HPA request, so it adds no
   * delay of its own; KEDA's pollingInterval and cooldownPeriod defaults.
   */
  hpaSyncMs: 15_000,
  hpaScrapeMs: 30_000,
  hpaMetricDelayMs: 0,
  hpaDownscaleStabilizationMs: 300_000,
  kedaPollMs: 30_000,
  kedaCooldownMs: 300_000,
  controllerLeaseMs: 15_000,
  /** Three control-plane hosts: the active controller and two standbys. */
  controllerReplicas: 3,
  /** The hpa metric's total age (scrape wait excluded) is capped by the load model's history. */
  maxMetricDelayMs: 120_000,
  /** A plan that wants more containers than run on a reachable host must be met within this (plus start latency). */
  replaceWithinMs: 60_000,
  /** Points per series in the HTML report (the sample interval is duration / this, at least one load step). */
  reportPoints: 360,
  /** Upper bound on hosts in one scenario (memory guard). */
  maxHosts: 50_000,
  maxSites: 2_000,
  maxServices: 64,
  /** Lines of one CSV trace. */
  maxTraceRows: 1_000_000,
  /** Simulated time of one run. */
  maxDurationMs: 7 * 24 * 3_600_000,
} as const

export interface LinkDefaults { medianMs: number, jitterMs: number, loss: number }

/** Latency and loss between two hosts of one site, by site kind. */
export const INTRA_SITE_LINK: Record<SiteKind, LinkDefaults> = {
  'on-prem': { medianMs: 1, jitterMs: 1, loss: 0 },
  cloud: { medianMs: 1, jitterMs: 1, loss: 0 },
  edge: { medianMs: 8, jitterMs: 10, loss: 0.01 },
}

/** Latency and loss between sites, by the pair of kinds (sorted), when the scenario gives no link. */
export function interSiteLink (a: SiteKind, b: SiteKind): LinkDefaults {
  const key = [a, b].sort().join('|')
  switch (key) {
    case 'cloud|cloud': return { medianMs: 40, jitterMs: 10, loss: 0.001 }
    case 'cloud|on-prem': return { medianMs: 25, jitterMs: 8, loss: 0.001 }
    case 'on-prem|on-prem': return { medianMs: 10, jitterMs: 4, loss: 0.0005 }
    default: return { medianMs: 80, jitterMs: 40, loss: 0.02 } // anything with edge
  }
}

/** Container start latency (log-normal: median and 99th percentile), by site kind. */
export const START_LATENCY: Record<SiteKind, { medianMs: number, p99Ms: number }> = {
  'on-prem': { medianMs: 1500, p99Ms: 6000 },
  cloud: { medianMs: 2500, p99Ms: 12_000 },
  edge: { medianMs: 4000, p99Ms: 30_000 },
}

/** Timing profile of the core, by site kind (see node/core/config.ts). */
export const PROFILE_BY_KIND: Record<SiteKind, string> = { 'on-prem': 'lan', cloud: 'lan', edge: 'wan' }

/** Election priority of hosts, by site kind: stable servers over edge boxes. */
export const PRIORITY_BY_KIND: Record<SiteKind, number> = { 'on-prem': 10, cloud: 5, edge: 0 }

/** The baselines as a stock install runs them, their controller in `controllerSite`. */
export function defaultBaseline (controllerSite: string): BaselineSpec {
  return {
    controllerSite, controllerPerSite: false, controllerReplicas: SIM_DEFAULTS.controllerReplicas, leaseMs: SIM_DEFAULTS.controllerLeaseMs,
    hpaSyncMs: SIM_DEFAULTS.hpaSyncMs, hpaScrapeMs: SIM_DEFAULTS.hpaScrapeMs, hpaMetricDelayMs: SIM_DEFAULTS.hpaMetricDelayMs, hpaBehavior: 'spec',
    hpaDownscaleStabilizationMs: SIM_DEFAULTS.hpaDownscaleStabilizationMs, kedaPollMs: SIM_DEFAULTS.kedaPollMs, kedaCooldownMs: SIM_DEFAULTS.kedaCooldownMs,
  }
}

/**
 * The gossip model's parameters when the scenario does not override them: the daemon's own
 * (protocol/gossip-defaults.ts: gossipsub's degree, flood publishing, heartbeat and gossip
 * window, the dial loop's target and the connection cap), and the simulator's measured cost of a
 * message and codec sample rate.
 */
export function defaultGossip (): GossipSpec {
  return {
    D: GOSSIP_DEFAULTS.D, Dlo: GOSSIP_DEFAULTS.Dlo, Dhi: GOSSIP_DEFAULTS.Dhi, Dlazy: GOSSIP_DEFAULTS.Dlazy,
    heartbeatMs: GOSSIP_DEFAULTS.heartbeatMs, historyHeartbeats: GOSSIP_DEFAULTS.historyGossipHeartbeats,
    floodPublish: GOSSIP_DEFAULTS.floodPublish, targetPeers: GOSSIP_DEFAULTS.targetPeers, maxConnections: GOSSIP_DEFAULTS.maxConnections,
    messageCpuUs: SIM_DEFAULTS.messageCpuUs, duplicateCpuUs: SIM_DEFAULTS.duplicateCpuUs, connectCpuUs: SIM_DEFAULTS.connectCpuUs, disconnectCpuUs: SIM_DEFAULTS.disconnectCpuUs, siteCores: SIM_DEFAULTS.siteCores, idleCpuPct: SIM_DEFAULTS.idleCpuPct, codecSampleEvery: SIM_DEFAULTS.codecSampleEvery,
    globalSubscribers: 'leaders',
  }
}
