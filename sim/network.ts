/**
 * Who can reach whom, and over which link. Hosts are numbered 0..N-1 (site by site, each
 * site's hosts in id order). Two hosts can talk when both sit in the same partition group
 * and, for hosts of different sites, both sites' uplinks are up (edge uplinks flap).
 * Whether a host is running is not the network's business: the simulation checks that.
 */
import type { InterSiteLink, LinkSpec, SiteSpec } from './scenario.js'

export class Network {
  /** Partition group per host; 0 = not in any listed group. */
  readonly group: Int32Array
  readonly siteOf: Int32Array
  readonly uplinkUp: Uint8Array
  /** Link inside each site (mutable: degrade faults). */
  readonly intra: LinkSpec[]
  /** Links between sites, [a * sites + b], symmetric. */
  private readonly inter: LinkSpec[]
  private readonly siteCount: number

  constructor (sites: readonly SiteSpec[], links: readonly InterSiteLink[], siteOf: Int32Array) {
    this.siteOf = siteOf
    this.group = new Int32Array(siteOf.length)
    this.siteCount = sites.length
    this.uplinkUp = new Uint8Array(sites.length).fill(1)
    this.intra = sites.map(s => ({ ...s.latency }))
    const index = new Map(sites.map((s, i) => [s.name, i]))
    this.inter = new Array(sites.length * sites.length)
    for (const l of links) {
      const a = index.get(l.a)!
      const b = index.get(l.b)!
      const spec = { medianMs: l.medianMs, jitterMs: l.jitterMs, loss: l.loss }
      this.inter[a * sites.length + b] = spec
      this.inter[b * sites.length + a] = spec
    }
  }

  connected (a: number, b: number): boolean {
    if (this.group[a] !== this.group[b]) return false
    const sa = this.siteOf[a]
    const sb = this.siteOf[b]
    return sa === sb || (this.uplinkUp[sa] === 1 && this.uplinkUp[sb] === 1)
  }

  /** The link a message between two sites (or inside one) travels over. */
  link (siteA: number, siteB: number): LinkSpec {
    return siteA === siteB ? this.intra[siteA] : this.inter[siteA * this.siteCount + siteB]
  }

  setLink (siteA: number, siteB: number, spec: LinkSpec): void {
    if (siteA === siteB) { this.intra[siteA] = spec; return }
    this.inter[siteA * this.siteCount + siteB] = spec
    this.inter[siteB * this.siteCount + siteA] = spec
  }

  /** Assigns every listed host to group i + 1; everything else to group 0. */
  partition (groups: readonly (readonly number[])[]): void {
    this.group.fill(0)
    groups.forEach((hosts, i) => { for (const h of hosts) this.group[h] = i + 1 })
  }

  heal (): void {
    this.group.fill(0)
  }
}
