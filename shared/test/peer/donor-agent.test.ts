import { describe, expect, it } from 'vitest';
import {
  type Backend,
  createBlobExchange,
  createDonorAgent,
  createMemoryBlobCache,
  createTaskClient,
  DEFAULT_ACK_DELAY_MS,
  digestTensorMap,
  type ExecRequest,
  type ExecResult,
  type Executor,
  PEER_PROTOCOL,
  PeerGridError,
  type TaskClientEvent,
  tensorFrom,
  tensorValues,
} from '../../src/index.ts';
import { createVirtualTime, flush, linkPair, sha256, until } from './helpers.ts';

/** A fake executor: "doubles" float32 input `x` into output `y`; runs resolve when released. */
function fakeExecutor(concurrency: number) {
  const runs: { req: ExecRequest; release(): void }[] = [];
  let maxRunning = 0;
  let running = 0;
  const executor: Executor = {
    concurrency,
    backends: async () => ['cpu'] as Backend[],
    close: async () => {},
    run(req) {
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise<ExecResult>((resolve, reject) => {
        runs.push({
          req,
          release() {
            running--;
            const x = req.feeds.x;
            if (!x) return reject(new PeerGridError('bad-input', 'missing feed x'));
            const y = Float32Array.from(tensorValues(x) as Float32Array, (v) => v * 2);
            resolve({
              outputs: { y: tensorFrom('float32', x.dims, y) },
              backend: 'cpu',
              computeMs: 4,
            });
          },
        });
      });
    },
  };
  return { executor, runs, maxRunning: () => maxRunning };
}

async function setup(
  opts: {
    concurrency?: number;
    deferAcks?: boolean;
    submitterProtocol?: number;
    maxQueued?: number;
    maxQueuedBytes?: number;
  } = {},
) {
  const vt = createVirtualTime();
  const quiet = { deadAfterMs: 600_000, heartbeatIntervalMs: 300_000 };
  // [submitter's link to the donor, donor's link to the submitter]
  const [toDonor, toSubmitter] =
    opts.submitterProtocol === undefined
      ? linkPair(vt, quiet)
      : linkPair(vt, { ...quiet, protocol: opts.submitterProtocol }, { protocol: PEER_PROTOCOL });
  const model = new Uint8Array(20_000).map((_, i) => i % 7);
  const subBlobs = createBlobExchange({
    cache: createMemoryBlobCache(),
    sha256,
    now: vt.now,
    timers: vt.timers,
  });
  const modelHash = await subBlobs.add(model);
  subBlobs.attach(toDonor);
  const donorCache = createMemoryBlobCache();
  const donorBlobs = createBlobExchange({
    cache: donorCache,
    sha256,
    now: vt.now,
    timers: vt.timers,
  });
  donorBlobs.attach(toSubmitter);
  const fake = fakeExecutor(opts.concurrency ?? 1);
  const agent = createDonorAgent({
    executor: fake.executor,
    blobs: donorBlobs,
    sha256,
    now: vt.now,
    ...(opts.deferAcks ? { timers: vt.timers } : {}),
    ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}),
    ...(opts.maxQueuedBytes !== undefined ? { maxQueuedBytes: opts.maxQueuedBytes } : {}),
  });
  agent.attach(toSubmitter);
  const events: TaskClientEvent[] = [];
  const client = createTaskClient({
    timers: vt.timers,
    onEvent: (e) => events.push(e),
    ackTimeoutMs: 1000,
    graceMs: 500,
  });
  const x = tensorFrom('float32', [3], new Float32Array([1, 2, 3]));
  const assign = (leaseId: string, deadlineMs = 10_000) =>
    client.assign(toDonor, {
      leaseId,
      jobId: 'j',
      modelHash,
      modelBytes: model.byteLength,
      feeds: { x },
      deadlineMs,
    });
  return {
    vt,
    toDonor,
    toSubmitter,
    agent,
    client,
    events,
    fake,
    assign,
    donorCache,
    modelHash,
    model,
  };
}

describe('deferred acks', () => {
  it('a result within the ack delay goes alone; a longer run is acked after the delay', async () => {
    const s = await setup({ deferAcks: true });
    const fast = s.assign('fast');
    await until(() => expect(s.fake.runs).toHaveLength(1));
    s.fake.runs[0]?.release();
    expect((await fast).type).toBe('reported');
    await s.vt.advance(DEFAULT_ACK_DELAY_MS * 2);
    expect(s.events.map((e) => `${e.type} ${e.leaseId}`)).toEqual(['reported fast']);

    const slow = s.assign('slow');
    await until(() => expect(s.fake.runs).toHaveLength(2));
    await s.vt.advance(DEFAULT_ACK_DELAY_MS - 1);
    expect(s.events.map((e) => e.type)).toEqual(['reported']);
    await s.vt.advance(1);
    await until(() =>
      expect(s.events.map((e) => `${e.type} ${e.leaseId}`).at(-1)).toBe('acked slow'),
    );
    s.fake.runs[1]?.release();
    expect((await slow).type).toBe('reported');
    expect(s.events.filter((e) => e.type === 'acked')).toHaveLength(1);
  });
});

describe('donor agent + task client', () => {
  it('acks, fetches the model by hash, runs, and reports outputs (no digest for a version 2 submitter)', async () => {
    const s = await setup();
    const done = s.assign('l1');
    await until(() => expect(s.fake.runs).toHaveLength(1));
    expect(s.events.map((e) => e.type)).toEqual(['acked']);
    expect(s.fake.runs[0]?.req.model).toEqual(s.model);
    expect(await s.donorCache.has(s.modelHash)).toBe(true);
    s.fake.runs[0]?.release();
    const ev = await done;
    expect(ev.type).toBe('reported');
    if (ev.type !== 'reported') return;
    expect([...(tensorValues(ev.report.outputs.y!) as Float32Array)]).toEqual([2, 4, 6]);
    expect(ev.report.digest).toBeUndefined();
    expect(ev.report.backend).toBe('cpu');
  });

  it('reports the outputs digest to a version 1 submitter, which requires it', async () => {
    const s = await setup({ submitterProtocol: 1 });
    const done = s.assign('l1');
    await until(() => expect(s.fake.runs).toHaveLength(1));
    s.fake.runs[0]?.release();
    const ev = await done;
    expect(ev.type).toBe('reported');
    if (ev.type !== 'reported') return;
    expect(ev.report.digest).toBe(await digestTensorMap(ev.report.outputs, sha256));
  });

  it('runs at most executor.concurrency tasks and reports load', async () => {
    const s = await setup({ concurrency: 2 });
    const all = ['a', 'b', 'c', 'd'].map((id) => s.assign(id));
    await until(() => expect(s.fake.runs).toHaveLength(2));
    await flush(100);
    expect(s.fake.runs).toHaveLength(2);
    // The limit (running + queued) heartbeats report: 2 slots + 64 queued per slot by default.
    expect(s.agent.load()).toEqual({ running: 2, queued: 2, capacity: 2, limit: 130 });
    for (let i = 0; i < 4; i++) {
      await until(() => expect(s.fake.runs.length).toBeGreaterThan(i));
      s.fake.runs[i]?.release();
    }
    const evs = await Promise.all(all);
    expect(evs.every((e) => e.type === 'reported')).toBe(true);
    expect(s.fake.maxRunning()).toBe(2);
  });

  it('turns an executor failure into an error event with its code', async () => {
    const s = await setup();
    const done = s.client.assign(s.toDonor, {
      leaseId: 'bad',
      jobId: 'j',
      modelHash: s.modelHash,
      modelBytes: s.model.byteLength,
      feeds: {},
      deadlineMs: 1000,
    });
    await until(() => expect(s.fake.runs).toHaveLength(1));
    s.fake.runs[0]?.release();
    const ev = await done;
    expect(ev).toMatchObject({ type: 'errored', error: { code: 'bad-input' } });
  });

  it('refuses past the queue bound with busy, and reports the bound', async () => {
    const s = await setup({ concurrency: 1, maxQueued: 2 });
    expect(s.agent.load().limit).toBe(3);
    const evs = ['1', '2', '3', '4'].map((id) => s.assign(id));
    await flush(300);
    expect(await evs[3]).toMatchObject({ type: 'errored', error: { code: 'busy' } });
  });

  it('refuses with busy once the queued feeds pass their byte bound', async () => {
    // Feeds of 3 floats (12 bytes): two fit under 30 bytes, a third does not.
    const s = await setup({ concurrency: 1, maxQueuedBytes: 30 });
    const evs = ['run', 'q1', 'q2', 'q3'].map((id) => s.assign(id));
    await flush(300);
    expect(await evs[3]).toMatchObject({ type: 'errored', error: { code: 'busy' } });
    await until(() => expect(s.fake.runs).toHaveLength(1)); // the model came; 'run' runs
    s.fake.runs[0]?.release();
    await until(() => expect(s.fake.runs).toHaveLength(2)); // a queued one takes its turn
  });

  it('counts time spent queued against the deadline', async () => {
    const s = await setup({ concurrency: 1 });
    const first = s.assign('first', 10_000);
    const late = s.assign('late', 3000);
    await until(() => expect(s.fake.runs).toHaveLength(1));
    await s.vt.advance(3200); // the client's own deadline (3000 + 500 grace) has not passed
    s.fake.runs[0]?.release();
    expect((await first).type).toBe('reported');
    expect(await late).toMatchObject({ type: 'errored', error: { code: 'timeout' } });
    expect(s.fake.runs).toHaveLength(1);
  });

  it('passes the remaining budget to the executor', async () => {
    const s = await setup({ concurrency: 1 });
    const first = s.assign('first', 10_000);
    const second = s.assign('second', 5000);
    await until(() => expect(s.fake.runs).toHaveLength(1));
    await s.vt.advance(1000);
    s.fake.runs[0]?.release();
    await until(() => expect(s.fake.runs).toHaveLength(2));
    expect(s.fake.runs[0]?.req.timeoutMs).toBe(10_000);
    expect(s.fake.runs[1]?.req.timeoutMs).toBe(4000);
    s.fake.runs[1]?.release();
    expect((await first).type).toBe('reported');
    expect((await second).type).toBe('reported');
  });

  it('cancel drops a queued lease: it never runs', async () => {
    const s = await setup({ concurrency: 1 });
    const first = s.assign('first');
    const second = s.assign('second');
    await until(() => expect(s.fake.runs).toHaveLength(1));
    s.client.cancel('second');
    expect(await second).toMatchObject({ type: 'errored', error: { code: 'cancelled' } });
    await flush(50);
    s.fake.runs[0]?.release();
    expect((await first).type).toBe('reported');
    await flush(200);
    expect(s.agent.load()).toEqual({ running: 0, queued: 0, capacity: 1, limit: 65 });
    expect(s.fake.runs).toHaveLength(1);
  });

  it('ends a lease with ack-timeout, deadline or disconnected — never silence', async () => {
    const s = await setup();
    const [deaf] = linkPair(s.vt, { deadAfterMs: 600_000, heartbeatIntervalMs: 300_000 });
    const unheard = s.client.assign(deaf, {
      leaseId: 'unheard',
      jobId: 'j',
      modelHash: s.modelHash,
      modelBytes: 1,
      feeds: {},
      deadlineMs: 100,
    });
    await s.vt.advance(1000);
    expect(await unheard).toMatchObject({ type: 'errored', error: { code: 'ack-timeout' } });
    const timed = s.assign('slow', 2000);
    await until(() => expect(s.fake.runs).toHaveLength(1));
    expect(s.events.at(-1)?.type).toBe('acked');
    await s.vt.advance(2000 + 500);
    expect(await timed).toMatchObject({ type: 'errored', error: { code: 'deadline' } });
    const gone = s.assign('gone');
    s.toDonor.close();
    expect(await gone).toMatchObject({ type: 'errored', error: { code: 'disconnected' } });
    expect(s.client.pending).toBe(0);
  });
});
