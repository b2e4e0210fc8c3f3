/**
 * How the leader sends a site digest (protocol/gossip-defaults.ts, digestRoute, which mesh.ts and the simulator use): each member its own copy on its
 * digest topic, or one copy on the site topic, never both.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DIGEST_ROUTING, digestRoute } from '../../protocol/index.js'
import { hostDigestTopic } from '../../node/daemon/mesh.js'

const members = ['h1', 'h2', 'h3'].map(hostId => ({ hostId }))
const everyone = (h: string): string => hostDigestTopic('a', h)

describe('digestRoute', () => {
  it('sends every member but the leader its own copy when each can be reached on its digest topic', () => {
    assert.deepEqual(digestRoute(members, 'h1', 1, everyone), [hostDigestTopic('a', 'h2'), hostDigestTopic('a', 'h3')])
  })

  it('uses the site topic alone when one member cannot be reached on its own', () => {
    assert.equal(digestRoute(members, 'h1', 1, h => h === 'h3' ? undefined : everyone(h)), 'site')
  })

  it('uses the site topic once every siteTopicEvery digests, for hosts not listed yet', () => {
    const routes = Array.from({ length: 2 * DIGEST_ROUTING.siteTopicEvery }, (_, i) => digestRoute(members, 'h1', i, everyone))
    assert.deepEqual(routes.map((r, i) => r === 'site' ? i : -1).filter(i => i >= 0), [0, DIGEST_ROUTING.siteTopicEvery])
  })

  it('uses the site topic in a site larger than directMembersMax', () => {
    const many = Array.from({ length: DIGEST_ROUTING.directMembersMax + 1 }, (_, i) => ({ hostId: `h${i}` }))
    assert.equal(digestRoute(many, 'h0', 1, everyone), 'site')
    assert.equal(digestRoute(many.slice(0, -1), 'h0', 1, everyone).length, DIGEST_ROUTING.directMembersMax - 1)
  })

  it('uses the site topic when the leader lists no one else', () => {
    assert.equal(digestRoute([{ hostId: 'h1' }], 'h1', 1, everyone), 'site')
  })
})
