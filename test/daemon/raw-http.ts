/**
 * HTTP/1.1 over a plain socket, for tests that send what fetch never would (`GET //`, a bad
 * Content-Length, a dribbled header, pipelined requests on one connection) and read exactly
 * what came back, including a connection closed without an answer. Every wait is bounded.
 */
import { connect, type Socket } from 'node:net'

export interface RawResponse {
  status: number
  /** Header names in lower case; a repeated header keeps its last value. */
  headers: Record<string, string>
  body: Buffer
}

/** What the server did with one request: answered, closed without answering, or neither in time. */
export type RawOutcome = { kind: 'response', response: RawResponse } | { kind: 'closed' } | { kind: 'timeout' }

/** One connection; requests on it are answered in order (HTTP/1.1 keep-alive, pipelining). */
export class RawConnection {
  private buf = Buffer.alloc(0)
  private ended = false
  private wake: (() => void) | undefined
  readonly socket: Socket
  readonly connected: Promise<void>

  constructor (port: number, host = '127.0.0.1') {
    this.socket = connect(port, host)
    this.socket.on('data', (d: Buffer) => { this.buf = Buffer.concat([this.buf, d]); this.wake?.() })
    this.socket.on('close', () => { this.ended = true; this.wake?.() })
    this.socket.on('error', () => { this.ended = true; this.wake?.() })
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve())
      this.socket.once('error', reject)
    })
  }

  get closed (): boolean { return this.ended }

  write (data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data)
  }

  /** The next response, parsed; `head` when it answers a HEAD request (no body follows). */
  async read (timeoutMs: number, head = false): Promise<RawOutcome> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const parsed = parseResponse(this.buf, head, this.ended)
      if (parsed !== undefined) {
        this.buf = this.buf.subarray(parsed.used)
        return { kind: 'response', response: parsed.response }
      }
      if (this.ended) return { kind: 'closed' }
      const left = deadline - Date.now()
      if (left <= 0) return { kind: 'timeout' }
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, left)
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve() }
      })
    }
  }

  /** Waits until the server closes the connection (true) or `timeoutMs` passes (false). */
  async waitClosed (timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.ended) {
      const left = deadline - Date.now()
      if (left <= 0) return false
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, left)
        this.wake = () => { clearTimeout(t); this.wake = undefined; resolve() }
      })
    }
    return true
  }

  close (): void { this.socket.destroy() }
}

/** Sends one request on a new connection and reads the answer. */
export async function rawRequest (port: number, request: string | Buffer, timeoutMs = 3000, head = false): Promise<RawOutcome> {
  const c = new RawConnection(port)
  try {
    await c.connected
    c.write(request)
    return await c.read(timeoutMs, head)
  } catch {
    return { kind: 'closed' }
  } finally {
    c.close()
  }
}

/** `METHOD target HTTP/1.1` with a Host header (unless `host` is null) and the given headers. */
export function requestText (method: string, target: string, host: string | null, headers: Record<string, string> = {}, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`]
  if (host !== null) lines.push(`Host: ${host}`)
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
  if (body !== '' && headers['content-length'] === undefined && headers['transfer-encoding'] === undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`)
  return `${lines.join('\r\n')}\r\n\r\n${body}`
}

/** The JSON error code of a response, or undefined when the body is not `{"error": {"code"}}`. */
export function errorCode (r: RawResponse): string | undefined {
  try {
    const code = (JSON.parse(r.body.toString('utf8')) as { error?: { code?: unknown } }).error?.code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}

function parseResponse (buf: Buffer, head: boolean, ended: boolean): { response: RawResponse, used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n')
  if (end < 0) return undefined
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n')
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0])
  if (m === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`)
  const headers: Record<string, string> = {}
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':')
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim()
  }
  const status = Number(m[1])
  const start = end + 4
  if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) return { response: { status, headers, body: Buffer.alloc(0) }, used: start }
  // An event stream never ends: its headers, and whatever arrived with them, are the answer.
  if (headers['content-type'] === 'text/event-stream') return { response: { status, headers, body: buf.subarray(start) }, used: buf.length }
  if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length'])
    if (buf.length < start + n) return undefined
    return { response: { status, headers, body: buf.subarray(start, start + n) }, used: start + n }
  }
  if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
    const chunks: Buffer[] = []
    let at = start
    for (;;) {
      const eol = buf.indexOf('\r\n', at)
      if (eol < 0) return undefined
      const size = parseInt(buf.subarray(at, eol).toString('latin1'), 16)
      if (!Number.isFinite(size)) throw new Error('bad chunk size')
      if (buf.length < eol + 2 + size + 2) return undefined
      if (size === 0) return { response: { status, headers, body: Buffer.concat(chunks) }, used: eol + 4 }
      chunks.push(buf.subarray(eol + 2, eol + 2 + size))
      at = eol + 2 + size + 2
    }
  }
  // No length: the body runs to the end of the connection (an event stream never ends).
  if (!ended) return undefined
  return { response: { status, headers, body: buf.subarray(start) }, used: buf.length }
}
