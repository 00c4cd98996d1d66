/**
 * An echo donor for bench:grid's dispatch figure: a real grid peer and donor
 * node (links, codec, donor agent) whose executor answers every lease at
 * once with its own feeds, with no runner. What it costs is the grid's own
 * per-task cost.
 *
 *   node --import tsx node-worker/bench/echo-donor.ts --signal URL --grid G
 *        [--concurrency 1] [--max-queued 64] [--identity FILE]
 *
 * Runs until SIGTERM.
 */
import { parseArgs } from 'node:util';
import { createDonorNode, createMemoryBlobCache, type Executor } from '@peergrid/shared';
import { nodeSha256, nodeTimers } from '../src/transport/node-peer-pool.ts';
import { connectNodeGridPeer } from '../src/worker/node-grid-peer.ts';
import { loadOrCreateIdentity } from '../src/worker/node-identity.ts';

const { values: v } = parseArgs({
  options: {
    signal: { type: 'string' },
    grid: { type: 'string', default: 'bench' },
    concurrency: { type: 'string', default: '1' },
    'max-queued': { type: 'string', default: '64' },
    identity: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (v.help || !v.signal || !v.identity) {
  console.log(
    'usage: echo-donor.ts --signal URL --identity FILE [--grid G] [--concurrency N] [--max-queued N]',
  );
  process.exit(v.help ? 0 : 2);
}
const concurrency = Number(v.concurrency);
const executor: Executor = {
  concurrency,
  backends: async () => ['cpu'],
  close: async () => {},
  run: async (req) => ({ outputs: req.feeds, backend: 'cpu', computeMs: 0 }),
};
const peer = await connectNodeGridPeer({
  signal: v.signal,
  grid: v.grid,
  identity: await loadOrCreateIdentity(v.identity),
  capabilities: {
    runtime: 'node',
    backends: ['cpu'],
    cores: 1,
    memoryMB: 1,
    maxConcurrency: concurrency,
  },
  cache: createMemoryBlobCache(),
});
const donor = createDonorNode({
  peer,
  executor,
  sha256: nodeSha256,
  timers: nodeTimers,
  meshSize: 0,
  maxQueued: Number(v['max-queued']),
});
process.on('SIGTERM', () => {
  donor.close();
  void peer.shutdown().finally(() => process.exit(0));
});
