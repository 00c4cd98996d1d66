import { describe, expect, it } from 'vitest';
import {
  createBlobExchange,
  createDonorAgent,
  createDonorCreditCounter,
  createDonorNode,
  createJobRunner,
  createMemoryBlobCache,
  createMemoryJobStore,
  createReputationBook,
  type DonorNode,
  type GridPeer,
  type JobOutcome,
  type JobSpec,
  type PeerMessage,
  prepareJob,
  tensorFrom,
  type VerdictMessage,
} from '../../src/index.ts';
import { createVirtualTime, flush, linkPair, sha256, until } from '../peer/helpers.ts';
import { createMemoryGrid, donorCaps, plusOneExecutor } from './memory-grid.ts';

const model = new Uint8Array([9, 9, 9]);

async function spec(n: number): Promise<JobSpec> {
  const hash = await sha256(model);
  const tasks = Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    model: hash,
    feeds: { x: { tensor: tensorFrom('int32', [1], new Int32Array([i])) } },
  }));
  // Two honest donors and a liar (no anchor): a target error three donors can reach.
  return { name: 'verdicts', models: { [hash]: model }, tasks, policy: { targetError: 1e-2 } };
}

/** Runs `job` from `submitter` on the grid's donors to completion; the submitter's reputation book. */
async function runToCompletion(
  vt: ReturnType<typeof createVirtualTime>,
  submitter: GridPeer,
  job: JobSpec,
) {
  const store = createMemoryJobStore();
  const reputation = createReputationBook();
  const prepared = await prepareJob({
    spec: job,
    store,
    sha256,
    now: vt.now,
    random: () => 0.5,
    reputation,
  });
  const runner = createJobRunner({
    peer: submitter,
    engine: prepared.engine,
    spec: job,
    store,
    reputation,
    now: vt.now,
    timers: vt.timers,
  });
  let outcome: JobOutcome | undefined;
  void runner.done.then((o) => {
    outcome = o;
  });
  await until(async () => {
    await vt.advance(20);
    expect(outcome?.state).toBe('completed');
  });
  return reputation;
}

describe('verdicts over the job runner', () => {
  it('credits honest donors with their compute and tells a liar it was rejected', async () => {
    const vt = createVirtualTime();
    const grid = createMemoryGrid({ ...vt, sha256 });
    const runs = new Map<number, number>();
    const nodes = new Map<string, DonorNode>();
    for (const [id, liar] of [
      ['d0', false],
      ['d1', false],
      ['d2', true],
    ] as const) {
      const node = createDonorNode({
        peer: grid.join(id, donorCaps),
        executor: plusOneExecutor(runs, liar),
        sha256,
        timers: vt.timers,
        meshSize: 0,
      });
      nodes.set(id, node);
    }
    const heard: string[] = [];
    nodes.get('d0')!.onCredit((c) => heard.push(`${c.accepted}/${c.verifiedMs}`));
    const submitter = grid.join('s', { ...donorCaps, maxConcurrency: 0 });
    const reputation = await runToCompletion(vt, submitter, await spec(16));
    const credit = (id: string) => nodes.get(id)!.credit();
    // Every credit the engine gave reaches the donor (plusOneExecutor reports 1 ms a run).
    await until(async () => {
      await flush();
      for (const id of ['d0', 'd1']) {
        expect(credit(id).verifiedMs).toBe(reputation.get(id).creditMs);
      }
    });
    const honest = credit('d0').accepted + credit('d1').accepted;
    expect(honest).toBeGreaterThanOrEqual(8);
    for (const id of ['d0', 'd1']) {
      expect(credit(id).verifiedMs).toBe(credit(id).accepted);
      expect(credit(id).rejected).toBe(0);
    }
    expect(heard.at(-1)).toBe(`${credit('d0').accepted}/${credit('d0').verifiedMs}`);
    expect(credit('d2').accepted).toBe(0);
    expect(credit('d2').verifiedMs).toBe(0);
    expect(credit('d2').rejected).toBeGreaterThan(0);
    expect(reputation.get('d2').creditMs).toBe(0);
  });
});

describe('credit totals (protocol 4) beside verdicts (older donors)', () => {
  it('a version 4 donor hears running totals, a version 3 donor a verdict per lease; both count all', async () => {
    const vt = createVirtualTime();
    const grid = createMemoryGrid({ ...vt, sha256 });
    const runs = new Map<number, number>();
    const nodes = new Map<string, DonorNode>();
    const heard = new Map<string, string[]>();
    for (const [id, protocol] of [
      ['d0', 4],
      ['d1', 3],
    ] as const) {
      const peer = grid.join(id, donorCaps, { protocol });
      const types: string[] = [];
      heard.set(id, types);
      peer.pool.on('link-open', (l) => l.onMessage((m) => types.push(m.type)));
      nodes.set(
        id,
        createDonorNode({
          peer,
          executor: plusOneExecutor(runs),
          sha256,
          timers: vt.timers,
          meshSize: 0,
        }),
      );
    }
    const submitter = grid.join('s', { ...donorCaps, maxConcurrency: 0 });
    const job: JobSpec = {
      ...(await spec(40)),
      policy: { replicas: 2, quorum: 2, adaptive: false },
    };
    const reputation = await runToCompletion(vt, submitter, job);
    await until(async () => {
      await flush();
      for (const id of ['d0', 'd1'])
        expect(nodes.get(id)!.credit().verifiedMs).toBe(reputation.get(id).creditMs);
    });
    const count = (id: string, type: string) => heard.get(id)!.filter((t) => t === type).length;
    const accepted = (id: string) => nodes.get(id)!.credit().accepted;
    expect(accepted('d0')).toBeGreaterThanOrEqual(10);
    expect(accepted('d1')).toBeGreaterThanOrEqual(10);
    expect(count('d0', 'verdict')).toBe(0);
    // Totals at most once per tick and at the end: far fewer messages than results.
    expect(count('d0', 'credit')).toBeGreaterThan(0);
    expect(count('d0', 'credit')).toBeLessThan(accepted('d0'));
    expect(count('d1', 'credit')).toBe(0);
    expect(count('d1', 'verdict')).toBe(accepted('d1'));
  });
});

describe('donor credit counter', () => {
  const verdict: VerdictMessage = {
    type: 'verdict',
    leaseId: 'l1',
    jobId: 'j',
    verdict: 'accepted',
    creditMs: 12,
  };

  it('counts verdicts once per submitter and lease; the donor agent ignores them', async () => {
    const vt = createVirtualTime();
    const [toDonor, toSubmitter] = linkPair(vt);
    const counter = createDonorCreditCounter();
    counter.attach(toSubmitter);
    const agent = createDonorAgent({
      executor: plusOneExecutor(new Map()),
      blobs: createBlobExchange({
        cache: createMemoryBlobCache(),
        sha256,
        now: vt.now,
        timers: vt.timers,
      }),
      sha256,
    });
    agent.attach(toSubmitter);
    const back: PeerMessage[] = [];
    toDonor.onMessage((m) => back.push(m));
    await toDonor.send(verdict);
    await toDonor.send(verdict); // duplicate
    await toDonor.send({ ...verdict, leaseId: 'l2', verdict: 'rejected', creditMs: 0 });
    await toDonor.send({ ...verdict, leaseId: 'l3', creditMs: 0.5 });
    await flush();
    expect(counter.credit()).toEqual({ accepted: 2, verifiedMs: 12.5, rejected: 1 });
    expect(back).toEqual([]);
    expect(toSubmitter.stats().penalties).toBe(0);
    expect(agent.load()).toMatchObject({ running: 0, queued: 0, capacity: 1 });
  });

  it('remembers the newest maxRemembered verdicts: an evicted one counts again, a kept one does not', async () => {
    const vt = createVirtualTime();
    const [toDonor, toSubmitter] = linkPair(vt);
    const counter = createDonorCreditCounter({ maxRemembered: 3 });
    counter.attach(toSubmitter);
    const send = async (leaseId: string) => {
      await toDonor.send({ ...verdict, leaseId, creditMs: 1 });
      await flush();
    };
    for (const id of ['a', 'b', 'c', 'd']) await send(id); // 'a' is evicted by 'd'
    expect(counter.credit().accepted).toBe(4);
    await send('b'); // remembered: not counted
    await send('a'); // forgotten: counted again, and it evicts 'b'
    expect(counter.credit().accepted).toBe(5);
    await send('b');
    await send('d');
    expect(counter.credit().accepted).toBe(6);
  });

  it('counts credit totals once: repeats and stale ones add nothing, a new session adds anew', async () => {
    const vt = createVirtualTime();
    const [toDonor, toSubmitter] = linkPair(vt);
    const counter = createDonorCreditCounter();
    counter.attach(toSubmitter);
    const totals = { type: 'credit', jobId: 'j', session: 's1' } as const;
    const send = async (accepted: number, verifiedMs: number, rejected: number, session = 's1') => {
      await toDonor.send({ ...totals, session, accepted, verifiedMs, rejected });
      await flush();
    };
    await send(3, 30, 0);
    await send(3, 30, 0); // a repeat
    expect(counter.credit()).toEqual({ accepted: 3, verifiedMs: 30, rejected: 0 });
    await send(5, 50, 1);
    await send(4, 40, 1); // older totals, arriving late
    expect(counter.credit()).toEqual({ accepted: 5, verifiedMs: 50, rejected: 1 });
    await send(2, 20, 0, 's2'); // the job resumed: its new session counts from zero
    expect(counter.credit()).toEqual({ accepted: 7, verifiedMs: 70, rejected: 1 });
    await toDonor.send({ ...verdict, leaseId: 'l9' }); // an older submitter's verdict beside them
    await flush();
    expect(counter.credit()).toEqual({ accepted: 8, verifiedMs: 82, rejected: 1 });
  });

  it('counts on from the totals of an earlier session', async () => {
    const vt = createVirtualTime();
    const [toDonor, toSubmitter] = linkPair(vt);
    const counter = createDonorCreditCounter();
    counter.addEarlier({ accepted: 7, verifiedMs: 100, rejected: 2 });
    counter.attach(toSubmitter);
    await toDonor.send(verdict);
    await flush();
    expect(counter.credit()).toEqual({
      accepted: 8,
      verifiedMs: 100 + verdict.creditMs,
      rejected: 2,
    });
  });
});
