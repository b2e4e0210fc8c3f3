// The supervisor image (Dockerfile): built with the classic builder against the locally
// assembled base (test/services/images.sh; nothing is pulled), from this checkout's build output.
// Checks that the real CLI runs in it, that its entrypoint and default command are
// `agentmesh supervise --config /etc/agentmesh/agentmesh.yaml` as docs/operations.md documents, that it
// runs as uid 1000, and that its mounts (config read-only, data folder writable) work.
//
// Like the other integration tests this fails, not skips, without a Docker engine:
// ensureServices() starts one (test/services/docker.sh).

import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BASE_IMAGE, REPO_ROOT, TEST_LABEL, docker, ensureServices } from '../services/services.js'
import { SUPERVISOR_NODE_OPTIONS } from '../../node/daemon/node-options.js'

const execFileAsync = promisify(execFile)

const SUPERVISOR_IMAGE = 'agentmesh/supervisor:test'
/** Measured here: ~35 s from nothing, ~17 s when only dist/ changed; generous for a loaded CI. */
const BUILD_TIMEOUT_MS = 5 * 60_000
/** The image's user (Dockerfile `USER 1000:1000`). */
const IMAGE_UID = 1000
const CONFIG_PATH = '/etc/agentmesh/agentmesh.yaml'
const DATA_DIR = '/var/lib/agentmesh'

interface RunResult { code: number, stdout: string, stderr: string }

/** `docker run --rm --network none ARGS…`; resolves with the exit code instead of rejecting. */
async function runImage (args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync('docker', ['run', '--rm', '--network', 'none', '--label', `${TEST_LABEL}=1`, ...args], { timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: unknown, stdout?: string, stderr?: string }
    if (typeof e.code !== 'number') throw err
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

describe('supervisor image', { timeout: 10 * 60_000 }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agentmesh-image-'))

  before(async () => {
    await ensureServices()
    // The classic builder (DOCKER_BUILDKIT=0) uses the local base and never pulls; --network
    // none proves the build needs no network.
    await execFileAsync('docker', [
      'build', '--quiet', '--network', 'none',
      '--build-arg', `NODE_IMAGE=${BASE_IMAGE}`,
      '-t', SUPERVISOR_IMAGE, REPO_ROOT,
    ], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 })
  })

  after(() => { rmSync(tmp, { recursive: true, force: true }) })

  it('runs the real CLI: --help lists the commands', async () => {
    const { code, stdout } = await runImage([SUPERVISOR_IMAGE, '--help'])
    assert.equal(code, 0)
    assert.match(stdout, /^usage: agentmesh COMMAND \[options\]$/m)
    assert.match(stdout, /^ {2}supervise {2}run the supervisor daemon/m)
    assert.match(stdout, /^ {2}status {5}/m)
  })

  it('has `agentmesh supervise --config /etc/agentmesh/agentmesh.yaml` as its entrypoint and command, as uid 1000', async () => {
    const config = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config}}', SUPERVISOR_IMAGE])) as
      { Entrypoint: string[], Cmd: string[], User: string, Env: string[] }
    assert.deepEqual(config.Entrypoint, ['node', '/opt/agentmesh/dist/cli/agentmesh.js'])
    assert.ok(config.Env.includes(`NODE_OPTIONS=${SUPERVISOR_NODE_OPTIONS}`), `the supervisor's V8 options (node-options.ts) in ${config.Env.join(' ')}`)
    assert.deepEqual(config.Cmd, ['supervise', '--config', CONFIG_PATH])
    assert.equal(config.User, `${IMAGE_UID}:${IMAGE_UID}`)
  })

  it('runs the daemon by default: with no config mounted it refuses the missing file (exit 2)', async () => {
    const { code, stderr } = await runImage([SUPERVISOR_IMAGE])
    assert.equal(code, 2, stderr)
    assert.match(stderr, new RegExp(`agentmesh supervise: E_CONFIG_IO: .*${CONFIG_PATH}`))
  })

  it('works with the documented mounts (docs/operations.md): writes a swarm key to the data folder and checks the config', async () => {
    const etc = join(tmp, 'etc')
    const data = join(tmp, 'data')
    mkdirSync(etc)
    mkdirSync(data)
    chmodSync(tmp, 0o755) // mkdtemp makes it 0700: uid 1000 in the container must get through
    writeFileSync(join(etc, 'agentmesh.yaml'), 'site: image-test\n', { mode: 0o644 })
    // docs/operations.md tells operators to give the data folder to uid 1000; do the same (as root in CI).
    if (process.getuid?.() === 0) chownSync(data, IMAGE_UID, IMAGE_UID)
    else chmodSync(data, 0o777)
    const mounts = ['-v', `${etc}:/etc/agentmesh:ro`, '-v', `${data}:${DATA_DIR}`]

    const key = await runImage([...mounts, SUPERVISOR_IMAGE, 'supervise', '--new-swarm-key', `${DATA_DIR}/swarm.key`])
    assert.equal(key.code, 0, key.stderr)

    const check = await runImage([...mounts, SUPERVISOR_IMAGE, 'supervise', '--config', CONFIG_PATH, '--check'])
    assert.equal(check.code, 0, check.stderr)
    const effective = JSON.parse(check.stdout) as { site: string, dataDir: string }
    assert.equal(effective.site, 'image-test')
    assert.equal(effective.dataDir, DATA_DIR)
  })
})
