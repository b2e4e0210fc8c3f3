/**
 * One hand-written example message per body kind, whose v1 encodings are checked in under
 * golden/v1/. Each example sets every field of its body to a non-default value where it can,
 * so a change to any field's number, type or encoding shows up as a changed golden file
 * (minor stays 0, the minor version these examples were written at; siteDigest, added at
 * minor 1, says 1).
 *
 * Never edit an example to make a golden test pass: a changed encoding of an existing message
 * breaks every deployed peer. Add fields, and new examples, instead.
 */
import type { Message, MessageKind } from '../../protocol/codec.js'

const envelope = {
  minor: 0,
  sender: 'host-a1',
  site: 'lyon-1',
  incarnation: 3,
  seq: 42,
  sentAtMs: 1_700_000_000_123,
}

export const GOLDEN_MESSAGES: Record<MessageKind, Message> = {
  heartbeat: {
    ...envelope,
    body: {
      kind: 'heartbeat',
      heartbeat: {
        labels: new Map([['zone', 'edge'], ['région', 'Auvergne-Rhône-Alpes'], ['gpu', '']]),
        capacity: { slots: 8, cpuMillis: 4000, memoryMib: 16384 },
        priority: -2,
        running: [{ service: 'summarizer', replicas: 2 }, { service: 'traducteur-🌍', replicas: 1 }],
        signals: [
          { service: 'summarizer', value: 12.5, ageMs: 250, upstream: false },
          { service: 'llm-gateway', value: 0.875, ageMs: 1200, upstream: true },
        ],
        addrs: ['/ip4/10.0.0.7/tcp/4001', '/ip6/::1/udp/4001/quic-v1'],
        term: 7,
        leaderId: 'host-b2',
        planVersion: 19,
        runtimeOk: true,
      },
    },
  },
  voteRequest: {
    ...envelope,
    body: { kind: 'voteRequest', voteRequest: { term: 8, priority: 10, electorate: 5, preVote: true } },
  },
  vote: {
    ...envelope,
    sender: 'host-b2',
    body: { kind: 'vote', vote: { term: 8, candidateId: 'host-a1', granted: true, preVote: true } },
  },
  leave: {
    ...envelope,
    seq: 43,
    body: { kind: 'leave' },
  },
  plan: {
    ...envelope,
    body: {
      kind: 'plan',
      plan: {
        term: 8,
        version: 20,
        services: ['summarizer', 'traducteur-🌍'],
        hosts: [
          { hostId: 'host-a1', replicas: [2, 0] },
          { hostId: 'host-b2', replicas: [1, 3] },
        ],
        decisions: [
          { service: 'summarizer', desired: 3, failingStatic: false },
          { service: 'traducteur-🌍', desired: 3, failingStatic: true },
        ],
      },
    },
  },
  siteSummary: {
    ...envelope,
    body: {
      kind: 'siteSummary',
      siteSummary: {
        term: 8,
        hostsAlive: 4,
        slotsTotal: 32,
        slotsFree: 9,
        services: [{ service: 'summarizer', desired: 6, running: 4, load: 37.25, unplaced: 2 }],
      },
    },
  },
  spillRequest: {
    ...envelope,
    body: {
      kind: 'spillRequest',
      // toSite '' (a sender older than the field): the same bytes as before it was added.
      spillRequest: { requestId: 'lyon-1/8/1', service: 'summarizer', replicas: 2, term: 8, toSite: '' },
    },
  },
  spillOffer: {
    ...envelope,
    sender: 'host-c3',
    site: 'paris-2',
    body: {
      kind: 'spillOffer',
      spillOffer: { requestId: 'lyon-1/8/1', toSite: 'lyon-1', service: 'summarizer', replicas: 1, term: 4 },
    },
  },
  siteDigest: {
    ...envelope,
    minor: 1,
    sender: 'host-b2',
    seq: 44,
    body: {
      kind: 'siteDigest',
      siteDigest: {
        term: 8,
        planVersion: 20,
        members: [
          { hostId: 'host-a1', incarnation: 3, ageMs: 410, priority: -2 },
          { hostId: 'host-b2', incarnation: 5, ageMs: 0, priority: 10 },
        ],
        leaderAddrs: ['/ip4/10.0.0.8/tcp/4001/p2p/12D3KooWExample'],
      },
    },
  },
}
