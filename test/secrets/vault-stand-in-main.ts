/**
 * The Vault STAND-IN's process (see vault-stand-in.ts): `node vault-stand-in-main.js SEED.json
 * STATE.json PORT [CERT.pem KEY.pem]`. Prints one JSON line `{"port": N}` once it listens, then
 * one JSON line per request (method, path, status, namespace, whether a token came: never the
 * token or a body), and runs until killed, or until its stdin closes (the test process that
 * started it is gone: no stand-in outlives a crashed test run).
 */
import { readFileSync } from 'node:fs'
import { VaultStandIn, type StandInSeed } from './vault-stand-in.js'

const [seedFile, stateFile, portText, certFile, keyFile] = process.argv.slice(2)
const seed = JSON.parse(readFileSync(seedFile, 'utf8')) as StandInSeed
const tls = certFile === undefined ? undefined : { cert: readFileSync(certFile), key: readFileSync(keyFile) }
const standIn = new VaultStandIn(seed, stateFile, tls)
standIn.onRequest = (r) => { process.stdout.write(JSON.stringify({ request: r }) + '\n') }
const port = await standIn.listen(Number(portText ?? '0'))
process.stdout.write(JSON.stringify({ port }) + '\n')
process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
