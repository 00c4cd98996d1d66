/**
 * `peergrid run`: builds the job, stores it, joins the grid as a submitter
 * (no donating), runs it with the shared job runner, prints a summary. The
 * state directory makes it resumable: same job → same id → the engine is
 * restored, verified tasks are not run again. SIGINT/SIGTERM stop cleanly.
 */
import { availableParallelism } from 'node:os';
import {
  createMemoryBlobCache,
  createReputationBook,
  type JobOutcome,
  type JobSpec,
  outputsMatch,
  resolvePolicy,
} from '@peergrid/shared';
import { createNodeExecutor } from '../exec/node-executor.ts';
import { openDiskJobStore } from '../store/disk-job-store.ts';
import { connectNodeGridPeer } from '../worker/node-grid-peer.ts';
import { prepareNodeJob } from '../worker/node-job.ts';
import type { Workload } from '../workloads/index.ts';
import { buildModelJob, buildWorkload } from './build-job.ts';
import { importIdentityOrNew } from './cli-identity.ts';
import { createProgressView } from './progress-view.ts';
import { writeResultsFile } from './results-file.ts';
import type { RunOptions } from './run-args.ts';

export interface RunSummary {
  readonly jobId: string;
  readonly state: string;
  readonly tasks: number;
  readonly verified: number;
  readonly failed: number;
  /** Tasks already verified when this run started (resume). */
  readonly resumedVerified: number;
  /** Results received in this run (replicas and spot checks included). */
  readonly resultsReceived: number;
  readonly donors: number;
  readonly agreements: number;
  readonly disagreements: number;
  readonly excludedDonors: readonly string[];
  readonly seconds: number;
  readonly check?: { readonly matched: number; readonly total: number };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Returns the process exit code. */
export async function runCommand(o: RunOptions): Promise<number> {
  let workload: Workload | undefined;
  let spec: JobSpec;
  if (o.workload) {
    workload = await buildWorkload({
      workload: o.workload,
      ...(o.batch !== undefined ? { batch: o.batch } : {}),
      ...(o.preset ? { preset: o.preset } : {}),
      ...(o.tasks !== undefined ? { tasks: o.tasks } : {}),
      ...(o.inputs ? { images: o.inputs } : {}),
    });
    spec = { ...workload.spec, policy: o.policy };
  } else {
    spec = await buildModelJob({
      model: o.model ?? '',
      inputs: o.inputs ?? '',
      ...(o.inputName ? { inputName: o.inputName } : {}),
      ...(o.batch !== undefined ? { batch: o.batch } : {}),
      policy: o.policy,
    });
  }
  const store = await openDiskJobStore(o.state);
  const reputation = createReputationBook(await store.reputations(), {
    trustAfterStreak: o.trustStreak,
    trustAfterSpotChecks: o.trustSpotChecks,
  });
  const { jobId, engine, resumed, run } = await prepareNodeJob({ spec, store, reputation });
  const start = engine.progress();
  const resumedVerified = resumed ? start.tasks.verified : 0;
  say(
    `job ${jobId.slice(0, 16)} · ${spec.tasks.length} tasks · ${resolvePolicy(spec.policy).replicas} replicas` +
      (resumed ? ` · resuming: ${resumedVerified} verified before` : ''),
  );
  const identity = await importIdentityOrNew(store);
  const startedAt = Date.now();
  const peer = await connectNodeGridPeer({
    signal: o.signal,
    grid: o.grid,
    ...(o.token !== undefined ? { token: o.token } : {}),
    identity,
    capabilities: {
      runtime: 'node',
      backends: [],
      cores: availableParallelism(),
      memoryMB: 0,
      maxConcurrency: 0,
    },
    cache: createMemoryBlobCache(),
    ...(o.webrtc ? { webrtc: o.webrtc } : {}),
  });
  const view = createProgressView(process.stderr, startedAt, resumedVerified);
  const runner = run(peer, {
    onProgress: (p) => view.update(p),
    onEvent: (e) => {
      if (e.type === 'donor-excluded') view.note(`donor ${e.donor} excluded: ${e.message ?? ''}`);
      if (e.type === 'task-failed') view.note(`task ${e.taskId} failed: ${e.message ?? ''}`);
    },
  });
  const waiting = setTimeout(() => {
    if (runner.progress().donors.length === 0) view.note(`waiting for donors on grid '${o.grid}'…`);
  }, 3000);

  let interrupted = false;
  const interrupt = async (sig: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    view.note(`${sig}: stopping; state saved in ${o.state} — rerun the same command to resume`);
    await runner.stop();
    await peer.shutdown();
    await store.close();
    process.exit(130);
  };
  process.on('SIGINT', () => void interrupt('SIGINT'));
  process.on('SIGTERM', () => void interrupt('SIGTERM'));

  let out: JobOutcome;
  try {
    out = await runner.done;
  } finally {
    clearTimeout(waiting);
  }
  view.end();
  const seconds = Math.round((Date.now() - startedAt) / 100) / 10;
  await peer.shutdown();
  const p = out.progress;
  const snap = engine.snapshot();
  let check: RunSummary['check'];
  if (o.check && workload) {
    say('checking against a local reference run…');
    const executor = createNodeExecutor({
      backend: 'cpu',
      concurrency: Math.max(1, availableParallelism() - 1),
    });
    try {
      const ref = await workload.reference(executor, { backend: 'cpu' });
      const rule = resolvePolicy(spec.policy).compare;
      let matched = 0;
      for (const [id, outputs] of ref) {
        const got = out.results.get(id);
        if (got && outputsMatch(got, outputs, rule)) matched++;
      }
      check = { matched, total: ref.size };
    } finally {
      await executor.close();
    }
  }
  const summary: RunSummary = {
    jobId,
    state: out.state,
    tasks: p.total,
    verified: p.tasks.verified,
    failed: p.tasks.failed,
    resumedVerified,
    resultsReceived: p.resultsReceived,
    donors: p.donors.filter((d) => d.reported > 0).length,
    agreements: snap.results.reduce((n, r) => n + r.backers.length, 0),
    disagreements: p.disputes + p.spotChecks.failed,
    excludedDonors: p.donors.filter((d) => d.excluded).map((d) => d.id),
    seconds,
    ...(check ? { check } : {}),
  };
  say(
    [
      `${out.state}: ${summary.verified}/${summary.tasks} tasks verified` +
        (summary.failed ? `, ${summary.failed} failed` : '') +
        (resumedVerified ? ` (${resumedVerified} before this run)` : ''),
      `donors ${summary.donors} · agreements ${summary.agreements} · disagreements ${summary.disagreements} · excluded ${summary.excludedDonors.length}` +
        (summary.excludedDonors.length ? ` (${summary.excludedDonors.join(', ')})` : ''),
      `results received ${summary.resultsReceived} · ${summary.seconds} s`,
      ...p.failed.map((f) => `  failed ${f.taskId}: ${f.reason}`),
      ...(check ? [`check: ${check.matched}/${check.total} tasks equal the local reference`] : []),
    ].join('\n'),
  );
  if (o.out) {
    await writeResultsFile(o.out, { ...summary, name: spec.name ?? null }, out.results);
    say(`results written to ${o.out}`);
  }
  say(`summary ${JSON.stringify(summary)}`);
  await store.close();
  const ok = out.state === 'completed' && (!check || check.matched === check.total);
  return ok ? 0 : 1;
}
