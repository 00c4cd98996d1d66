/**
 * `--out results.npz` and `--out DIR/` as tasks verify: results read back
 * from the store as each task verifies, a resumed job's stored results
 * first, a task verified again replacing what was written (a folder in
 * place, an archive rewritten at the end), a reopened task that never
 * verified again left out.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeNpy,
  decodeNpz,
  type JobStore,
  type ResultRecord,
  type TensorMap,
  tensorFrom,
  tensorValues,
} from '@peergrid/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { NPZ_MAX_ENTRIES, openNpzStream } from '../../src/cli/results-npz.ts';
import { openResultsSink, outKind } from '../../src/cli/results-stream.ts';

const out = (v: number): TensorMap => ({
  y: tensorFrom('float32', [2], Float32Array.from([v, -v])),
  'label/with odd:name': tensorFrom('int64', [1], BigInt64Array.from([BigInt(v)])),
});

/** A store holding one result per task, replaceable as the engine would. */
function fakeStore(): Pick<JobStore, 'getResults' | 'results'> & {
  put(taskId: string, v: number): void;
} {
  const byTask = new Map<string, ResultRecord>();
  return {
    put(taskId, v) {
      byTask.set(taskId, {
        jobId: 'j',
        taskId,
        outputs: out(v),
        backers: ['a'],
        bound: 0,
        backend: 'cpu',
        acceptedAt: 0,
      });
    },
    async getResults(_, ids) {
      return ids.flatMap((id) => (byTask.has(id) ? [byTask.get(id)!] : []));
    },
    async *results() {
      yield* [...byTask.values()];
    },
  };
}

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'peergrid-sink-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const y0 = (t: TensorMap[string] | undefined) =>
  t ? (tensorValues(t) as Float32Array)[0] : undefined;

describe('results sinks', () => {
  it('tells the kinds of --out apart', async () => {
    const d = tmp();
    expect(await outKind(join(d, 'r.npz'))).toBe('npz');
    expect(await outKind(join(d, 'R.NPZ'))).toBe('npz');
    expect(await outKind(join(d, 'r.json'))).toBe('json');
    expect(await outKind(`${join(d, 'new')}/`)).toBe('dir');
    expect(await outKind(d)).toBe('dir');
    expect(await outKind(join(d, 'r.txt'))).toBeNull();
  });

  it('streams an .npz: stored results first, each verified task once, the latest result after a re-verification', async () => {
    const store = fakeStore();
    store.put('done-0', 1); // from before a resume
    const path = join(tmp(), 'r.npz');
    const sink = await openResultsSink({ path, kind: 'npz', store, jobId: 'j' });
    expect(sink.written).toBe(1);
    store.put('t-1', 2);
    sink.verified('t-1');
    store.put('t-2', 3);
    sink.verified('t-2');
    // On disk as they verify, before the archive is closed.
    await new Promise((r) => setTimeout(r, 50));
    expect(statSync(path).size).toBeGreaterThan(3 * 2 * 100);
    sink.reopened('t-1');
    store.put('t-1', 20); // verified again with another result
    sink.verified('t-1');
    const w = await sink.finish();
    expect(w.tasks).toBe(3);
    const r = decodeNpz(new Uint8Array(readFileSync(path)));
    if (!r.ok) throw new Error(r.error);
    expect(Object.keys(r.tensors).sort()).toEqual([
      'done-0/label%2Fwith%20odd%3Aname',
      'done-0/y',
      't-1/label%2Fwith%20odd%3Aname',
      't-1/y',
      't-2/label%2Fwith%20odd%3Aname',
      't-2/y',
    ]);
    expect(y0(r.tensors['t-1/y'])).toBe(20);
    expect(r.tensors['t-2/label%2Fwith%20odd%3Aname']?.dtype).toBe('int64');
  });

  it('writes a folder as tasks verify, replaces a re-verified task, drops one reopened for good', async () => {
    const store = fakeStore();
    const dir = join(tmp(), 'out/');
    const sink = await openResultsSink({ path: dir, kind: 'dir', store, jobId: 'j' });
    store.put('a', 1);
    sink.verified('a');
    store.put('b', 2);
    sink.verified('b');
    // Written before the run ends, not at its end.
    await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
    store.put('a', 10);
    sink.verified('a');
    sink.reopened('b');
    const w = await sink.finish();
    expect(w.tasks).toBe(1);
    expect(readdirSync(dir)).toEqual(['a']);
    const y = decodeNpy(new Uint8Array(readFileSync(join(dir, 'a', 'y.npy'))));
    expect(y.ok && y0(y.tensor)).toBe(10);
  });

  it('fails at the end with the write error, and writes nothing after it', async () => {
    const store = fakeStore();
    const d = tmp();
    const sink = await openResultsSink({ path: join(d, 'r.npz'), kind: 'npz', store, jobId: 'j' });
    const broken = { ...store, getResults: async () => Promise.reject(new Error('disk gone')) };
    const sink2 = await openResultsSink({
      path: join(d, 'r2.npz'),
      kind: 'npz',
      store: broken,
      jobId: 'j',
    });
    sink2.verified('x');
    await expect(sink2.finish()).rejects.toThrow('disk gone');
    await sink.finish();
  });

  it('stops an .npz at the entries a zip without ZIP64 counts, with a message naming the way out', async () => {
    const path = join(tmp(), 'many.npz');
    const npz = await openNpzStream(path);
    const t = { y: tensorFrom('uint8', [1], Uint8Array.from([1])) };
    for (let i = 0; i < NPZ_MAX_ENTRIES; i++) await npz.add(`t-${i}`, t);
    await expect(npz.add('one-more', t)).rejects.toThrow(/at most 65535 task outputs.*--out DIR\//);
    await npz.close();
    const r = decodeNpz(new Uint8Array(readFileSync(path)));
    expect(r.ok && Object.keys(r.tensors).length).toBe(NPZ_MAX_ENTRIES);
  }, 60_000);
});
