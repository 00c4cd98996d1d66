/**
 * Shared feeds by reference (protocol 3): a job's constant feed reaches each
 * donor once, fetched by hash through the blob exchange, and not inside
 * every lease; donors of the previous protocol still get it inline; the
 * canonical-bytes codec and the assign message refuse what is malformed.
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalBytes,
  createDonorNode,
  createJobRunner,
  createMemoryJobStore,
  createReputationBook,
  decodePeerMessage,
  type Executor,
  encodePeerMessage,
  FEED_REF_MIN_BYTES,
  type JobSpec,
  type PeerLink,
  prepareJob,
  tensorFrom,
  tensorFromCanonical,
  tensorValues,
} from '../../src/index.ts';
import { createVirtualTime, sha256, until } from '../peer/helpers.ts';
import { createMemoryGrid, donorCaps } from './memory-grid.ts';

const model = new Uint8Array([9, 9, 9, 9]);
const ascii = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0));
/** 16 KiB of int32: well over the inline limit. */
const CONST_LEN = 4096;

/** The feeds objects the donor's assigns carried, as its link handed them on. */
const assignedFeeds = new WeakSet<object>();
/** Per run: whether the executor got the assign's own feeds object (a tab's donor side knows a lease by it). */
const sameFeeds: boolean[] = [];

/** y = x + c[0] (int32); records how much of `c` each run saw. */
function constExecutor(seen: number[]): Executor {
  return {
    concurrency: 1,
    backends: async () => ['cpu'],
    close: async () => {},
    async run(req) {
      const c = tensorValues(req.feeds.c!) as Int32Array;
      seen.push(c.length);
      sameFeeds.push(assignedFeeds.has(req.feeds));
      const x = tensorValues(req.feeds.x!) as Int32Array;
      const y = Int32Array.from(x, (v) => v + c[0]!);
      return { outputs: { y: tensorFrom('int32', [y.length], y) }, backend: 'cpu', computeMs: 1 };
    },
  };
}

/** Every task feeds on one 16 KiB constant `c`; or, `perTask`, each on a `c` of its own. */
async function constSpec(tasks: number, perTask = false): Promise<JobSpec> {
  const hash = await sha256(model);
  const blobs: Record<string, ReturnType<typeof tensorFrom>> = {};
  const cOf = async (i: number) => {
    const c = tensorFrom('int32', [CONST_LEN], new Int32Array(CONST_LEN).fill(5));
    if (perTask) c.data[4] = i; // a byte past c[0]: same sums, another blob
    const blob = await sha256(canonicalBytes(c));
    blobs[blob] = c;
    return blob;
  };
  const shared = await cOf(-1);
  const tasksOut = [];
  for (let i = 0; i < tasks; i++) {
    tasksOut.push({
      id: `t${i}`,
      model: hash,
      feeds: {
        x: { tensor: tensorFrom('int32', [1], new Int32Array([i])) },
        c: { blob: perTask ? await cOf(i) : shared },
      },
    });
  }
  if (perTask) delete blobs[shared];
  return {
    name: 'const',
    models: { [hash]: model },
    blobs,
    tasks: tasksOut,
    policy: { replicas: 1, quorum: 1, targetError: 0.99 },
  };
}

/** Runs the job on one donor speaking `protocol`; the submitter's bytes sent to it. */
async function runOnDonor(protocol?: number, perTask = false) {
  const vt = createVirtualTime();
  const grid = createMemoryGrid({ ...vt, sha256 });
  const seen: number[] = [];
  const donor = grid.join('d0', donorCaps, protocol === undefined ? {} : { protocol });
  donor.pool.on('link-open', (l) =>
    l.onMessage((m) => {
      if (m.type === 'assign') assignedFeeds.add(m.feeds);
    }),
  );
  createDonorNode({
    peer: donor,
    executor: constExecutor(seen),
    sha256,
    timers: vt.timers,
    meshSize: 0,
  });
  const submitter = grid.join('s', { ...donorCaps, maxConcurrency: 0 });
  const spec = await constSpec(12, perTask);
  const store = createMemoryJobStore();
  const reputation = createReputationBook();
  const { engine } = await prepareJob({
    spec,
    store,
    sha256,
    now: vt.now,
    random: Math.random,
    reputation,
  });
  const runner = createJobRunner({
    peer: submitter,
    engine,
    spec,
    store,
    reputation,
    now: vt.now,
    timers: vt.timers,
  });
  let out: Awaited<typeof runner.done> | undefined;
  void runner.done.then((o) => {
    out = o;
  });
  await until(async () => {
    await vt.advance(20);
    expect(out).toBeDefined();
  });
  const link = submitter.pool.get('d0') as PeerLink;
  const sent = link.stats().bytesSent;
  grid.close();
  return { out: out!, seen, sent, downloaded: donor.blobs.stats().downloadedBytes };
}

describe('shared feeds by reference', () => {
  it('reach a donor once, not with every lease, and the results are right', async () => {
    sameFeeds.length = 0;
    const byRef = await runOnDonor();
    expect(byRef.out.state).toBe('completed');
    expect(sameFeeds).toEqual(Array(12).fill(true)); // the fetched constant joined the assign's feeds
    expect(byRef.seen).toEqual(Array(12).fill(CONST_LEN));
    for (const [id, r] of byRef.out.results) {
      expect([...(tensorValues(r.y!) as Int32Array)]).toEqual([Number(id.slice(1)) + 5]);
    }
    const inline = await runOnDonor(2);
    expect(inline.out.state).toBe('completed');
    expect(inline.seen).toEqual(Array(12).fill(CONST_LEN));
    expect(new Map(inline.out.results)).toEqual(new Map(byRef.out.results));
    // Inline: twelve copies of the 16 KiB constant. By reference: the blob once, plus at
    // most one inline copy (a lease sent before the donor's hello told its protocol).
    const constBytes = CONST_LEN * 4;
    expect(inline.sent).toBeGreaterThan(12 * constBytes);
    expect(byRef.sent).toBeLessThan(3 * constBytes);
  });

  it('leave a blob that only one task feeds on inline (the page stores every feed as a blob)', async () => {
    const own = await runOnDonor(undefined, true);
    expect(own.out.state).toBe('completed');
    expect(own.seen).toEqual(Array(12).fill(CONST_LEN));
    // The donor fetched the model (4 bytes) and nothing else by hash.
    expect(own.downloaded).toBe(model.byteLength);
    const shared = await runOnDonor();
    expect(shared.downloaded).toBeGreaterThan(CONST_LEN * 4);
  });

  it('decode canonical bytes back to the tensor, and refuse what is not one', () => {
    for (const t of [
      tensorFrom('float32', [2, 3], new Float32Array([1, 2, 3, 4, 5, 6])),
      tensorFrom('int64', [], new BigInt64Array([-7n])),
      tensorFrom('uint8', [0], new Uint8Array(0)),
      tensorFrom('bool', [2], new Uint8Array([1, 0])),
    ]) {
      expect(tensorFromCanonical(canonicalBytes(t))).toEqual(t);
    }
    const ok = canonicalBytes(tensorFrom('int32', [2], new Int32Array([1, 2])));
    expect(tensorFromCanonical(ok.subarray(0, ok.byteLength - 1))).toMatch(/needs 8 bytes/);
    expect(tensorFromCanonical(new Uint8Array([1, 2, 3]))).toMatch(/no tensor header/);
    expect(tensorFromCanonical(ascii('complex|2|xxxxxxxx'))).toMatch(/unknown dtype/);
    expect(tensorFromCanonical(ascii('int32|-1|'))).toMatch(/bad dims/);
    expect(FEED_REF_MIN_BYTES).toBeGreaterThan(0);
  });

  it('travel in assign messages, which refuse a bad reference', () => {
    const base = {
      type: 'assign' as const,
      leaseId: 'l1',
      jobId: 'j1',
      modelHash: 'a'.repeat(64),
      modelBytes: 4,
      feeds: { x: tensorFrom('int32', [1], new Int32Array([3])) },
      deadlineMs: 1000,
    };
    const ref = { hash: 'b'.repeat(64), bytes: 16_400 };
    const roundTrip = (m: unknown) => decodePeerMessage(encodePeerMessage(m as never)) ?? undefined;
    expect(roundTrip({ ...base, feedRefs: { c: ref } })).toEqual({ ...base, feedRefs: { c: ref } });
    expect(roundTrip({ ...base, feedRefs: { x: ref } })).toBeUndefined();
    expect(roundTrip({ ...base, feedRefs: { c: { ...ref, hash: 'nope' } } })).toBeUndefined();
    expect(roundTrip({ ...base, feedRefs: { c: { ...ref, bytes: -1 } } })).toBeUndefined();
    expect(roundTrip({ ...base, feedRefs: {} })).toBeUndefined();
  });
});
