/**
 * The HTTP API's reading of what a request is for, from untrusted text: the request target
 * (`/v1/status?x`, `//`, `http://host/path`, `*`) and the Host header. Pure, and never throws:
 * anything it cannot read is `undefined`, which the API answers with 400. `new URL` is not used
 * on the request target: it throws on targets such as `//` or `//[`, and it decodes and
 * normalises paths (`/v1/../v1/status`), which routing must not do.
 *
 * Also the Host allowlist, the defence against DNS rebinding: a page on an attacker's domain
 * that has made its name resolve to 127.0.0.1 reaches the API from the victim's browser with
 * `Host: attacker.example:7421`. Only names the operator chose are answered.
 */
import { isIP } from 'node:net'

export interface RequestTarget {
  /** The path as sent, not decoded (`%2F` stays), without query or fragment; `*` for OPTIONS *. */
  path: string
  /** The authority of an absolute-form target (`http://host:port/…`), which stands for Host. */
  authority?: string
}

/** Longest request-target scheme read (`http`, `https`); longer ones are refused. */
const SCHEME_CHARS_MAX = 16

export function parseRequestTarget (raw: string): RequestTarget | undefined {
  if (raw.startsWith('/')) return { path: beforeQuery(raw) }
  if (raw === '*') return { path: '*' }
  const sep = raw.indexOf('://')
  if (sep <= 0 || sep > SCHEME_CHARS_MAX) return undefined
  const scheme = raw.slice(0, sep).toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') return undefined
  const rest = raw.slice(sep + 3)
  const end = firstIndexOf(rest, '/?#')
  const authority = rest.slice(0, end)
  if (authority === '' || authority.includes('@')) return undefined
  const tail = rest.slice(end)
  return { path: tail.startsWith('/') ? beforeQuery(tail) : '/', authority }
}

function beforeQuery (s: string): string {
  return s.slice(0, firstIndexOf(s, '?#'))
}

/** Index of the first of `chars` in `s`, or `s.length`. */
function firstIndexOf (s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) if (chars.includes(s[i])) return i
  return s.length
}

export interface HostPort {
  /** Lower case, without a trailing dot; an IPv6 address without brackets, in canonical form. */
  host: string
  port: number | undefined
  ip: boolean
}

const NAME_RE = /^[a-z0-9_~-]+(?:\.[a-z0-9_~-]+)*$/

/** `name`, `name:port`, `1.2.3.4:port`, `[::1]:port`; undefined for anything else. */
export function parseHostHeader (text: string): HostPort | undefined {
  let host: string
  let portText: string | undefined
  if (text.startsWith('[')) {
    const close = text.indexOf(']')
    if (close < 0) return undefined
    host = text.slice(1, close)
    const after = text.slice(close + 1)
    if (after !== '' && !after.startsWith(':')) return undefined
    portText = after === '' ? undefined : after.slice(1)
    if (isIP(host) !== 6) return undefined
    host = canonicalIpv6(host)
  } else {
    const colon = text.lastIndexOf(':')
    host = colon < 0 ? text : text.slice(0, colon)
    portText = colon < 0 ? undefined : text.slice(colon + 1)
    host = host.toLowerCase()
    if (host.endsWith('.')) host = host.slice(0, -1)
    if (!NAME_RE.test(host)) return undefined
  }
  let port: number | undefined
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return undefined
    port = Number(portText)
    if (port > 65535) return undefined
  }
  return { host, port, ip: isIP(host) !== 0 }
}

/** `::1`, `0:0::1` and `0:0:0:0:0:0:0:1` alike; the input is a valid IPv6 address. */
function canonicalIpv6 (addr: string): string {
  try {
    return new URL(`http://[${addr}]/`).hostname.slice(1, -1)
  } catch {
    return addr.toLowerCase()
  }
}

function canonical (host: string): string {
  return isIP(host) === 6 ? canonicalIpv6(host) : host.toLowerCase()
}

export interface HostAllowlistInit {
  /** The configured listen host (http.listen), e.g. `127.0.0.1`, `0.0.0.0`, `::`, a name. */
  listenHost: string
  /** The bound port. */
  port: number
  /** http.allowedHosts. */
  extra: readonly string[]
  /** This machine's host name, taken when listening on a wildcard address. */
  hostname: string
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1']
const WILDCARDS = new Set(['0.0.0.0', '::'])

/**
 * Which Host values the API answers. Always: the listen host, `localhost`, `127.0.0.1` and
 * `::1`, with the bound port. Listening on a wildcard address (0.0.0.0, ::), also the wildcard
 * itself, this machine's host name, and any IP address, with the bound port: DNS rebinding
 * needs a name whose DNS answers the attacker controls, so an address in Host means the browser
 * was pointed at this machine itself, and the same-origin policy already keeps other pages out;
 * an address list taken from the interfaces would miss NAT and cloud public addresses. Plus
 * http.allowedHosts: `name` on any port, `name:port` on one, `*` everything.
 */
export class HostAllowlist {
  private readonly onPort = new Set<string>()
  private readonly anyPort = new Set<string>()
  private readonly exact = new Set<string>()
  private readonly anyIp: boolean
  private readonly anyHost: boolean

  constructor (private readonly init: HostAllowlistInit) {
    const listen = canonical(init.listenHost)
    const wildcard = WILDCARDS.has(listen)
    this.anyIp = wildcard
    for (const h of [listen, ...LOOPBACK_NAMES]) this.onPort.add(h)
    if (wildcard) this.onPort.add(init.hostname.toLowerCase())
    this.anyHost = init.extra.includes('*')
    for (const e of init.extra) {
      const hp = e === '*' ? undefined : parseHostHeader(e)
      if (hp === undefined) continue
      if (hp.port === undefined) this.anyPort.add(hp.host)
      else this.exact.add(`${hp.host}:${hp.port}`)
    }
  }

  /** Whether a Host header value (or an absolute target's authority) is one the API answers. */
  allows (hostHeader: string): boolean {
    if (this.anyHost) return true
    const hp = parseHostHeader(hostHeader)
    if (hp === undefined) return false
    const port = hp.port ?? 80
    if (this.anyPort.has(hp.host) || this.exact.has(`${hp.host}:${port}`)) return true
    if (port !== this.init.port) return false
    return this.onPort.has(hp.host) || (this.anyIp && hp.ip)
  }

  /** Whether an Origin header (`scheme://host[:port]`) is this API itself or an allowed host. */
  allowsOrigin (origin: string): boolean {
    const m = /^(https?):\/\/([^/]+)$/.exec(origin)
    if (m === null) return false
    const hp = parseHostHeader(m[2])
    if (hp === undefined) return false
    const port = hp.port ?? (m[1] === 'https' ? 443 : 80)
    return this.allows(hp.ip && hp.host.includes(':') ? `[${hp.host}]:${port}` : `${hp.host}:${port}`)
  }
}
