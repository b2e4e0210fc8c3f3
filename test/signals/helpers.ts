// Helpers for the signal tests: a free loopback port, waiting on a signal's change events with a
// bound, and a throwaway Mosquitto broker of the test's own (the shared one on 18830 is never
// stopped: other test files use it).

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceSignal, SignalStatus } from '../../node/signals/signal-source.js'

export async function freePort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Resolves with the status once `predicate` holds (checked now and at every change event). */
export function waitForStatus (signal: ServiceSignal, predicate: (s: SignalStatus) => boolean, timeoutMs: number, what: string, clock: () => number = Date.now): Promise<SignalStatus> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const s = signal.status(clock())
      if (!predicate(s)) return false
      clearTimeout(timer)
      off()
      resolve(s)
      return true
    }
    const timer = setTimeout(() => { off(); reject(new Error(`${what}: not within ${timeoutMs} ms; status ${JSON.stringify(signal.status(clock()))}`)) }, timeoutMs)
    const off = signal.onChange(() => { check() })
    check()
  })
}

/** A Mosquitto broker on a loopback port, started and stopped by one test. */
export class TestBroker {
  private child: ChildProcess | undefined
  private readonly dir = mkdtempSync(join(tmpdir(), 'agentmesh-test-broker-'))
  constructor (readonly port: number) {}

  get url (): string { return `mqtt://127.0.0.1:${this.port}` }

  /** Starts it and resolves once it logs that it runs (its own readiness line, no polling). */
  async start (timeoutMs = 15_000): Promise<void> {
    const conf = join(this.dir, 'mosquitto.conf')
    writeFileSync(conf, [
      'per_listener_settings false', 'allow_anonymous true', 'persistence false',
      `listener ${this.port} 127.0.0.1`, 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice', 'log_type information',
    ].join('\n') + '\n')
    const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`mosquitto on ${this.port} did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs)
      child.stderr!.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (/ running/.test(out)) { clearTimeout(timer); resolve() }
      })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`mosquitto exited ${String(code)}:\n${out}`)) })
    })
  }

  async stop (): Promise<void> {
    const child = this.child
    this.child = undefined
    if (child === undefined || child.exitCode !== null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL') // a broker that dies, not one that says goodbye
    await exited
  }

  async dispose (): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
