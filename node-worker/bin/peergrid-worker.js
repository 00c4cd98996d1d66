#!/usr/bin/env node
// peergrid-worker: a headless PeerGrid donor. Runs a bundle of the TypeScript
// sources, rebuilt when a source changed (see scripts/worker-bundle.mjs).
import { loadWorkerMain } from '../scripts/worker-bundle.mjs';

const workerMain = await loadWorkerMain();
await workerMain(process.argv.slice(2));
