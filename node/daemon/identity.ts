/**
 * Key files: this host's libp2p identity (created on first start, mode 0600), the private
 * network's pre-shared key (pnet; the same file on every host, never created implicitly, since a
 * key made up by one host would cut it off from the rest) and the HTTP API's bearer token. Each
 * is refused when other users can read it (secret-file.ts has the rule).
 */
import { chmodSync, mkdirSync, openSync, closeSync, writeSync, fsyncSync, readFileSync, renameSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { generateKey } from '@libp2p/pnet'
import { DaemonError, DaemonErrorCode } from './errors.js'
import { readSecretFile, secretFileProblem } from './secret-file.js'

/** Shortest bearer token accepted in http.tokenFile. */
export const TOKEN_CHARS_MIN = 16

/** Loads the host key, or creates it (Ed25519, protobuf-encoded, mode 0600) when absent. */
export async function loadOrCreateHostKey (file: string): Promise<{ key: PrivateKey, created: boolean }> {
  let bytes: Buffer | undefined
  try {
    bytes = readFileSync(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw keyError(file, 'cannot read', err)
  }
  if (bytes !== undefined) {
    const problem = secretFileProblem(file, 'host key')
    if (problem !== undefined) throw new DaemonError(DaemonErrorCode.KeyInvalid, problem)
    try {
      return { key: privateKeyFromProtobuf(bytes), created: false }
    } catch (err) {
      throw keyError(file, 'is not a libp2p private key', err)
    }
  }
  const key = await generateKeyPair('Ed25519')
  writeFileAtomic(file, privateKeyToProtobuf(key), 0o600)
  return { key, created: true }
}

/** Reads the pnet swarm key file (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits). */
export function loadSwarmKey (file: string): Uint8Array {
  return parseSwarmKey(readSecretFile(file, 'swarm key').toString('utf8'), `swarm key ${file}`, false)
}

/**
 * The pnet key from its file's text; with `bareHexOk` (a value kept in Vault) also from just
 * its 64 hex digits. `where` names the source in the error, never the key.
 */
export function parseSwarmKey (text: string, where: string, bareHexOk: boolean): Uint8Array {
  const lines = text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')
  if (bareHexOk && lines.length === 1 && /^[0-9a-fA-F]{64}$/.test(lines[0])) lines.unshift('/key/swarm/psk/1.0.0/', '/base16/')
  if (lines.length !== 3 || lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2])) {
    throw new DaemonError(DaemonErrorCode.KeyInvalid, `${where} is malformed: expected the three lines /key/swarm/psk/1.0.0/, /base16/ and 64 hex digits${bareHexOk ? ' (or the 64 hex digits alone)' : ''}`)
  }
  // The format @libp2p/pnet's generateKey writes: three lines, no newline at the end.
  return new TextEncoder().encode(lines.join('\n'))
}

/** Reads the HTTP API's bearer token (http.tokenFile): trimmed, at least TOKEN_CHARS_MIN characters. */
export function loadToken (file: string): string {
  return checkToken(readSecretFile(file, 'token file').toString('utf8'), `token in ${file}`)
}

/** A bearer token, trimmed; refused when shorter than TOKEN_CHARS_MIN. */
export function checkToken (text: string, where: string): string {
  const token = text.trim()
  if (token.length < TOKEN_CHARS_MIN) throw new DaemonError(DaemonErrorCode.KeyInvalid, `${where} is shorter than ${TOKEN_CHARS_MIN} characters`)
  return token
}

/** Writes a fresh swarm key (mode 0600); refuses to overwrite one. */
export function writeNewSwarmKey (file: string): void {
  const key = new Uint8Array(95)
  generateKey(key)
  try {
    statSync(file)
    throw new DaemonError(DaemonErrorCode.KeyInvalid, `${file} exists; refusing to overwrite a swarm key`)
  } catch (err) {
    if (err instanceof DaemonError) throw err
  }
  writeFileAtomic(file, key, 0o600)
}

/** Write to a temporary file, fsync, rename over the target, fsync the folder. */
export function writeFileAtomic (file: string, data: Uint8Array | string, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.tmp-${process.pid}`
  const fd = openSync(tmp, 'w', mode)
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  chmodSync(tmp, mode)
  renameSync(tmp, file)
  const dir = openSync(dirname(file), 'r')
  try { fsyncSync(dir) } finally { closeSync(dir) }
}

function keyError (file: string, what: string, cause: unknown): DaemonError {
  return new DaemonError(DaemonErrorCode.KeyInvalid, `key file ${file} ${what}: ${(cause as Error).message}`, [], { cause })
}
