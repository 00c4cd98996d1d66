/**
 * `peergrid run`: builds the job, stores it, joins the grid as a submitter
 * (no donating over links), runs it with the shared job runner, prints a
 * summary. Unless `--no-local-anchor`, the CLI's own onnxruntime-node
 * executor joins the job as an anchor (in-process, under the CLI's peer id);
 * `--check` reuses it for the local reference. The state directory makes it
 * resumable: same job → same id → the engine is restored, verified tasks are
 * not run again. SIGINT/SIGTERM stop cleanly.
 */
import { availableParallelism } from 'node:os';
import {
  createMemoryBlobCache,
  createReputationBook,
  type Executor,
  type JobOutcome,
  type JobSpec,
  outputsMatch,
  resolvePolicy,
  type TensorMap,
  taskCount,
} from '@peergrid/shared';
import { createNodeExecutor } from '../exec/node-executor.ts';
import { openDiskJobStore } from '../store/disk-job-store.ts';
import { connectNodeGridPeer } from '../worker/node-grid-peer.ts';
import { prepareNodeJob } from '../worker/node-job.ts';
import type { Workload } from '../workloads/index.ts';
import { buildModelJob, buildWorkload, modelJobOptions } from './build-job.ts';
import { importIdentityOrNew } from './cli-identity.ts';
import { createProgressView } from './progress-view.ts';
import { writeResultsFile } from './results-file.ts';
import type { RunOptions } from './run-args.ts';
import { createRunTally, type RunSummary, summarize, summaryText } from './run-summary.ts';

export type { RunSummary } from './run-summary.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);

/** Backend of the local anchor and the `--check` reference (what any machine has). */
const LOCAL_BACKEND = 'cpu';

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
    spec = await buildModelJob(modelJobOptions(o));
  }
  const store = await openDiskJobStore(o.state);
  const reputation = createReputationBook(await store.reputations());
  const { jobId, engine, resumed, run } = await prepareNodeJob({ spec, store, reputation });
  const start = engine.progress();
  const resumedVerified = resumed ? start.tasks.verified : 0;
  const policy = resolvePolicy(spec.policy);
  const anchorsText = [
    ...(o.localAnchor ? ['local anchor'] : []),
    ...(policy.trustedDonors.length ? [`${policy.trustedDonors.length} trusted donor(s)`] : []),
  ];
  say(
    `job ${jobId.slice(0, 16)} · ${taskCount(spec)} tasks · ${policy.replicas} replicas · target error ${policy.targetError}` +
      ` · ${anchorsText.length ? anchorsText.join(', ') : 'no anchor'}` +
      (resumed ? ` · resuming: ${resumedVerified} verified before` : ''),
  );
  // One executor for the local anchor and the --check reference.
  let local: Executor | undefined;
  const localExecutor = () => {
    local ??= createNodeExecutor({
      backend: LOCAL_BACKEND,
      concurrency: Math.max(1, availableParallelism() - 1),
    });
    return local;
  };
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
  const tally = createRunTally();
  const runner = run(peer, {
    onProgress: (p) => view.update(p),
    onEvent: (e) => {
      tally.onEvent(e);
      if (e.type === 'donor-excluded') view.note(`donor ${e.donor} excluded: ${e.message ?? ''}`);
      if (e.type === 'task-failed') view.note(`task ${e.taskId} failed: ${e.message ?? ''}`);
    },
    ...(o.localAnchor
      ? { localAnchor: { executor: localExecutor(), backend: LOCAL_BACKEND } }
      : {}),
  });
  const waiting = setTimeout(() => {
    const others = runner.progress().donors.filter((d) => d.id !== peer.selfId);
    if (others.length === 0) view.note(`waiting for donors on grid '${o.grid}'…`);
  }, 3000);

  let interrupted = false;
  const interrupt = async (sig: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    view.note(`${sig}: stopping; state saved in ${o.state} — rerun the same command to resume`);
    await runner.stop();
    await peer.shutdown();
    await local?.close();
    await store.close();
    process.exit(130);
  };
  process.on('SIGINT', () => void interrupt('SIGINT'));
  process.on('SIGTERM', () => void interrupt('SIGTERM'));

  let out: JobOutcome;
  try {
    out = await runner.done;
  } catch (err) {
    await local?.close();
    throw err;
  } finally {
    clearTimeout(waiting);
  }
  view.end();
  const seconds = Math.round((Date.now() - startedAt) / 100) / 10;
  await peer.shutdown();
  const p = out.progress;
  // Results retired to the store during the run come back from it for the check and the file.
  let results: ReadonlyMap<string, TensorMap> = out.results;
  let agreements = 0;
  const full = new Map<string, TensorMap>();
  for await (const r of store.results(jobId)) {
    agreements += r.backers.length;
    if (p.retired > 0 && (o.check || o.out)) full.set(r.taskId, r.outputs);
  }
  if (p.retired > 0 && (o.check || o.out)) results = full;
  let check: RunSummary['check'];
  try {
    if (o.check && workload) {
      say('checking against a local reference run…');
      const ref = await workload.reference(localExecutor(), { backend: LOCAL_BACKEND });
      let matched = 0;
      for (const [id, outputs] of ref) {
        const got = results.get(id);
        if (got && outputsMatch(got, outputs, policy.compare)) matched++;
      }
      check = { matched, total: ref.size };
    }
  } finally {
    await local?.close();
  }
  const summary = summarize({
    progress: p,
    agreements,
    tally,
    resumedVerified,
    ...(o.localAnchor ? { localAnchor: peer.selfId } : {}),
    seconds,
    ...(check ? { check } : {}),
  });
  say(summaryText(summary, p.failed));
  if (o.out) {
    await writeResultsFile(o.out, { ...summary, name: spec.name ?? null }, results);
    say(`results written to ${o.out}`);
  }
  say(`summary ${JSON.stringify(summary)}`);
  await store.close();
  const ok = out.state === 'completed' && (!check || check.matched === check.total);
  return ok ? 0 : 1;
}
