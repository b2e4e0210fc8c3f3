/**
 * One supervisor process to fuzz (test/fuzz/http-fuzz.test.ts and the `fuzz` benchmark): a
 * service with a push signal, so every route can answer 200; short request timeouts, so clients
 * that never finish are cut quickly; rate limits out of the way, so requests reach the routes.
 */
import { Cluster, TEST_TOKEN, waitFor, type Supervisor } from '../daemon/harness.js'
import type { HttpFuzzTarget } from './http-fuzzer.js'

export const FUZZ_HTTP = {
  maxSseClients: 4,
  maxConnections: 32,
  maxBodyBytes: 4096,
  maxHeaderBytes: 16_384,
  headersTimeoutMs: 1000,
  requestTimeoutMs: 1500,
  requestsPerSecond: 100_000,
  requestBurst: 100_000,
  connectionRequestsPerSecond: 100_000,
  connectionRequestBurst: 100_000,
}

export interface FuzzDaemon { cluster: Cluster, sup: Supervisor, target: HttpFuzzTarget }

export async function startFuzzDaemon (): Promise<FuzzDaemon> {
  const cluster = await Cluster.create({
    hosts: [{ hostId: 'fuzz-1', site: 'fuzz' }],
    common: {
      http: FUZZ_HTTP,
      // Both a service's load and an upstream's saturation can be pushed. With runtime.kind
      // none a load above zero asks for replicas nothing will ever start: this fuzzer found
      // that the driver then looped on those actions without yielding and the daemon stopped
      // answering (fixed in node/daemon/driver.ts; test/daemon/unmeetable-plan.test.ts).
      services: [{ name: 'svc', maxReplicas: 2, upstream: { name: 'broker' } }],
      signals: [{ upstream: 'broker', kind: 'push' }, { service: 'svc', kind: 'push', scope: 'site' }],
      log: { level: 'warn' },
    },
  })
  const sup = cluster.sups[0]
  sup.start()
  await waitFor('the daemon to answer /healthz', async () => (await fetch(sup.url + '/healthz', { signal: AbortSignal.timeout(1000) })).ok || undefined, 20_000)
  return {
    cluster,
    sup,
    target: {
      port: sup.httpPort,
      token: TEST_TOKEN,
      pushService: 'broker',
      maxSseClients: FUZZ_HTTP.maxSseClients,
      maxConnections: FUZZ_HTTP.maxConnections,
      maxBodyBytes: FUZZ_HTTP.maxBodyBytes,
      maxHeaderBytes: FUZZ_HTTP.maxHeaderBytes,
      requestTimeoutMs: FUZZ_HTTP.requestTimeoutMs,
      alive: () => sup.running,
    },
  }
}
