/** `--ice-relay` on `peergrid-worker` and `peergrid run`: relay-only ICE, off by default, in the help. */
import { describe, expect, it } from 'vitest';
import { parseRunArgs, RUN_USAGE } from '../../src/cli/run-args.ts';
import { parseWorkerArgs, WORKER_USAGE } from '../../src/worker/worker-args.ts';

const worker = (argv: string[]) => {
  const p = parseWorkerArgs(['--signal', 'ws://127.0.0.1:9', ...argv], {});
  if (p.kind !== 'ok') throw new Error(p.kind === 'error' ? p.message : p.kind);
  return p.options;
};
const run = (argv: string[]) => {
  const p = parseRunArgs(['--signal', 'ws://127.0.0.1:9', '--workload', 'matmul', ...argv]);
  if (p.kind !== 'ok') throw new Error(p.kind === 'error' ? p.message : p.kind);
  return p.options;
};

describe('--ice-relay', () => {
  it('is off unless given, on both commands', () => {
    expect(worker([]).iceRelay).toBeUndefined();
    expect(run([]).iceRelay).toBeUndefined();
    expect(worker(['--ice-relay']).iceRelay).toBe(true);
    expect(run(['--ice-relay']).iceRelay).toBe(true);
  });
  it('takes no value, and is listed in both usages', () => {
    const p = parseWorkerArgs(['--signal', 'ws://127.0.0.1:9', '--ice-relay=yes'], {});
    expect(p.kind).toBe('error');
    expect(WORKER_USAGE).toContain('--ice-relay');
    expect(RUN_USAGE).toContain('--ice-relay');
  });
});
