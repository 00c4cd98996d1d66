#!/usr/bin/env node
// peergrid-worker: a headless PeerGrid donor. Runs the TypeScript entry through tsx.
import { register } from 'tsx/esm/api';

register();
const { workerMain } = await import('../src/worker/run-worker.ts');
await workerMain(process.argv.slice(2));
