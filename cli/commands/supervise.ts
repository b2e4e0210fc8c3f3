/**
 * `agentmesh supervise --config FILE`: runs the supervisor daemon until SIGINT or SIGTERM (a
 * graceful stop: the site hears a goodbye and does not wait for a timeout). Exit 0 after a
 * clean stop, 1 when the daemon fails while running (an unexpected error included: logged,
 * then the same graceful leave), 2 on a bad config or bad flags.
 */
import type { Command } from './command.js'
import { DaemonError, DaemonErrorCode } from '../../node/daemon/errors.js'
import { parseCommandArgs } from '../args.js'
import { CodedError } from '../../protocol/errors.js'

const USAGE = `usage: agentmesh supervise --config FILE [--check]
       agentmesh supervise --new-swarm-key FILE

Runs the supervisor daemon for this host: joins the site's libp2p mesh, takes part in the site
leader election, serves the local HTTP API (status, plan, events, /metrics, the dashboard).

options:
  --config FILE          the YAML config (see docs/configuration.md); every field
                         can be overridden by an AGENTMESH_* environment variable
  --check                validate the config, print the effective config as JSON, and exit
  --new-swarm-key FILE   write a new private-network key (mode 0600) and exit; copy the same
                         file to every host of the mesh

examples:
  agentmesh supervise --config /etc/agentmesh/agentmesh.yaml
  agentmesh supervise --config agentmesh.yaml --check      validate, print the effective config
  agentmesh supervise --new-swarm-key /etc/agentmesh/swarm.key

exit status: 0 clean stop, 1 the daemon failed (an unexpected error is logged, the site hears
a goodbye, then exit), 2 bad config or flags`

interface SuperviseArgs { config: string, check: boolean, newSwarmKey: string }

const invalid = (message: string): DaemonError => new DaemonError(DaemonErrorCode.ArgsInvalid, message)

const OPTIONS = { config: { type: 'string' }, check: { type: 'boolean' }, 'new-swarm-key': { type: 'string' } } as const

export function parseSuperviseArgs (argv: readonly string[]): SuperviseArgs {
  const { values: v } = parseCommandArgs(argv, OPTIONS, 0, invalid)
  const args: SuperviseArgs = { config: v.config ?? process.env.AGENTMESH_CONFIG ?? '', check: v.check === true, newSwarmKey: v['new-swarm-key'] ?? '' }
  if (args.newSwarmKey === '' && args.config === '') throw invalid('--config FILE is required (or AGENTMESH_CONFIG)')
  return args
}

export const superviseCommand: Command = {
  name: 'supervise',
  summary: 'run the supervisor daemon for this host (--config FILE)',
  usage: USAGE,
  async run (argv) {
    try {
      const args = parseSuperviseArgs(argv)
      if (args.newSwarmKey !== '') {
        const { writeNewSwarmKey } = await import('../../node/daemon/identity.js')
        writeNewSwarmKey(args.newSwarmKey)
        console.error(`wrote a new swarm key to ${args.newSwarmKey}`)
        return 0
      }
      const { loadConfig } = await import('../../node/daemon/config.js')
      const config = loadConfig(args.config)
      if (args.check) {
        const { redactSignals } = await import('../../node/daemon/config-workload.js')
        console.log(JSON.stringify({ ...config, labels: Object.fromEntries(config.labels), signals: redactSignals(config.signals) }, null, 2))
        return 0
      }
      return await runDaemon(config)
    } catch (err) {
      if (err instanceof DaemonError) {
        console.error(`agentmesh supervise: ${err.code}: ${err.message}`)
        return err.code === DaemonErrorCode.ConfigInvalid || err.code === DaemonErrorCode.ConfigIo || err.code === DaemonErrorCode.ArgsInvalid || err.code === DaemonErrorCode.KeyInvalid || err.code === DaemonErrorCode.SecretsDir ? 2 : 1
      }
      // Vault could not give the swarm key or the API token at start (E_VAULT_*): a restart may.
      if (err instanceof CodedError) {
        console.error(`agentmesh supervise: ${err.code}: ${err.message}`)
        return 1
      }
      throw err
    }
  },
}

/** Bound on the graceful leave after an unexpected error, before the process exits anyway. */
const FATAL_STOP_MS = 5000

/**
 * The process-wide policy for errors nobody caught (a bug, or a library throwing from a
 * callback): log it with its context, leave the site gracefully (peers drop this host at
 * once instead of waiting for a timeout, and a leader's site elects another), exit 1. The
 * leave is bounded by FATAL_STOP_MS: a daemon too broken to stop still exits. Only the first
 * error acts; later ones during the stop are logged.
 */
async function runDaemon (config: import('../../node/daemon/config.js').DaemonConfig): Promise<number> {
  const { Daemon } = await import('../../node/daemon/daemon.js')
  const { packageVersion } = await import('../package-version.js')
  const daemon = new Daemon(config, { version: packageVersion() })
  let exitCode = 0
  let stopping = false
  const done = new Promise<void>(resolve => {
    const stop = (code: number): void => {
      if (stopping) return
      stopping = true
      exitCode = code
      void daemon.stop().catch((err: unknown) => {
        daemon.log.error({ err: describe(err) }, 'graceful stop failed')
      }).finally(resolve)
    }
    const unexpected = (kind: string) => (err: unknown): void => {
      daemon.log.fatal({ err: describe(err), kind, stopping }, 'unexpected error; leaving the site and exiting')
      if (stopping) return
      stop(1)
      setTimeout(() => {
        daemon.log.fatal({ afterMs: FATAL_STOP_MS }, 'graceful stop did not finish; exiting')
        process.exit(1)
      }, FATAL_STOP_MS).unref()
    }
    process.on('uncaughtException', unexpected('uncaughtException'))
    process.on('unhandledRejection', unexpected('unhandledRejection'))
    process.once('SIGINT', () => stop(0))
    process.once('SIGTERM', () => stop(0))
    daemon.onFatal = () => stop(1)
  })
  try {
    await daemon.start()
  } catch (err) {
    await daemon.stop().catch(() => {})
    throw err
  }
  await done
  return exitCode
}

function describe (err: unknown): { message: string, code?: string, stack?: string } {
  if (!(err instanceof Error)) return { message: String(err) }
  const code = (err as { code?: unknown }).code
  return { message: err.message, ...(typeof code === 'string' ? { code } : {}), ...(err.stack === undefined ? {} : { stack: err.stack }) }
}
