/**
 * A worker thread of a sharded run (sharded-run.ts): runs its sites window by window, exchanging
 * with the other workers, and sends its sites' figures back.
 */
import { workerData } from 'node:worker_threads'
import { workerMain, type WorkerInit } from './sharded-run.js'

workerMain(workerData as WorkerInit)
