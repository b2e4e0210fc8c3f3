/**
 * A worker thread of a sharded run (sharded-run.ts): runs its sites window by window, exchanges
 * with the other workers at every window's end, and sends its sites' figures back.
 */
import { workerData } from 'node:worker_threads'
import { runWorker, type WorkerInit } from './sharded-run.js'

const init = workerData as WorkerInit
init.results.postMessage(runWorker(init))
init.results.close()
