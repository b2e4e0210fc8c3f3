/**
 * `agentmesh demo`: a small live mesh on this machine (cli/demo/run-demo.ts). Exit 0 after a
 * clean stop (Ctrl-C, SIGTERM or the end of --duration), 1 when the demo could not run (no
 * leader elected, --runtime docker without an engine, the broker port taken), 2 on bad flags.
 */
import type { Command } from './command.js'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { intFlag, parseCommandArgs } from '../args.js'
import { LOAD_CYCLE_MS_DEFAULT, LOAD_CYCLE_MS_MIN } from '../demo/load-shape.js'

const SITES_DEFAULT = 2
const SITES_MAX = 3
const HOSTS_PER_SITE_DEFAULT = 3
const HOSTS_PER_SITE_MAX = 5

const USAGE = `usage: agentmesh demo [--sites N] [--hosts-per-site N] [--duration SECONDS]
                      [--runtime auto|docker|process] [--mqtt-port P] [--cycle SECONDS] [--json]

Starts a small mesh on this machine: sites of supervisor processes on loopback (each site elects
a leader), an embedded MQTT broker (aedes), and per site a synthetic sensor load that rises,
bursts and falls. Each site's leader scales the service "detector" on the site's backlog; the
agents (agent/agent.mjs) take the work through a shared subscription. Every second it prints
each site's leader, load, backlog, desired and running replicas, and the dashboard URL. Ctrl-C
(or SIGTERM, or the end of --duration) stops the supervisors, removes every agent of the run
and the temporary folder, and exits 0.

options:
  --sites N             sites, 1 to ${SITES_MAX} (default ${SITES_DEFAULT})
  --hosts-per-site N    supervisors per site, 1 to ${HOSTS_PER_SITE_MAX} (default ${HOSTS_PER_SITE_DEFAULT}); each offers 4 agent slots
  --duration SECONDS    stop by itself after this long (default: run until Ctrl-C)
  --runtime R           auto (default): Docker containers of the image agentmesh/agent:test when
                        the engine at /var/run/docker.sock answers and has that image (build it
                        with bash test/services/images.sh), else child processes, saying why;
                        docker: containers or fail; process: child processes
  --mqtt-port P         port of the embedded broker on 127.0.0.1 (default: a free port)
  --cycle SECONDS       length of one load cycle, at least ${LOAD_CYCLE_MS_MIN / 1000} (default ${LOAD_CYCLE_MS_DEFAULT / 1000})
  --json                one JSON object per line (events start, load-started, tick every second,
                        stop) instead of the table; also the output when stdout is not a terminal

examples:
  agentmesh demo                                  two sites of three, until Ctrl-C
  agentmesh demo --sites 3 --duration 120         three sites, two minutes
  agentmesh demo --runtime process --json | jq .  no Docker; JSON lines for a script

exit status: 0 stopped cleanly, 1 the demo could not run, 2 bad flags`

export interface DemoArgs {
  sites: number
  hostsPerSite: number
  durationMs: number | undefined
  runtime: 'auto' | 'docker' | 'process'
  mqttPort: number
  cycleMs: number
  json: boolean
}

const invalid = (message: string): DaemonError => new DaemonError(DaemonErrorCode.ArgsInvalid, message)

const OPTIONS = {
  sites: { type: 'string' },
  'hosts-per-site': { type: 'string' },
  duration: { type: 'string' },
  runtime: { type: 'string' },
  'mqtt-port': { type: 'string' },
  cycle: { type: 'string' },
  json: { type: 'boolean' },
} as const

export function parseDemoArgs (argv: readonly string[]): DemoArgs {
  const { values: v } = parseCommandArgs(argv, OPTIONS, 0, invalid)
  const args: DemoArgs = { sites: SITES_DEFAULT, hostsPerSite: HOSTS_PER_SITE_DEFAULT, durationMs: undefined, runtime: 'auto', mqttPort: 0, cycleMs: LOAD_CYCLE_MS_DEFAULT, json: v.json === true }
  if (v.sites !== undefined) args.sites = intFlag('--sites', v.sites, 1, SITES_MAX, invalid)
  if (v['hosts-per-site'] !== undefined) args.hostsPerSite = intFlag('--hosts-per-site', v['hosts-per-site'], 1, HOSTS_PER_SITE_MAX, invalid)
  if (v.duration !== undefined) args.durationMs = intFlag('--duration', v.duration, 1, 7 * 24 * 3600, invalid) * 1000
  if (v['mqtt-port'] !== undefined) args.mqttPort = intFlag('--mqtt-port', v['mqtt-port'], 1, 65_535, invalid)
  if (v.cycle !== undefined) args.cycleMs = intFlag('--cycle', v.cycle, LOAD_CYCLE_MS_MIN / 1000, 24 * 3600, invalid) * 1000
  if (v.runtime !== undefined) {
    if (v.runtime !== 'auto' && v.runtime !== 'docker' && v.runtime !== 'process') throw invalid(`--runtime must be auto, docker or process, got ${v.runtime}`)
    args.runtime = v.runtime
  }
  return args
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'start a small live mesh on this machine: sites, leaders, load, agents (Ctrl-C stops it)',
  usage: USAGE,
  async run (argv) {
    let args: DemoArgs
    try {
      args = parseDemoArgs(argv)
    } catch (err) {
      if (!(err instanceof DaemonError)) throw err
      console.error(`agentmesh demo: ${err.code}: ${err.message}`)
      return 2
    }
    const { runDemo } = await import('../demo/run-demo.js')
    return await runDemo(args, {
      out: s => process.stdout.write(`${s}\n`),
      columns: () => process.stdout.columns,
      err: s => process.stderr.write(`${s}\n`),
      tty: process.stdout.isTTY === true && !args.json,
    })
  },
}
