/**
 * `peergrid run`: builds the job, joins the grid as a submitter (no donating
 * over links), submits it through the grid client (shared/src/client: the
 * layer the page and `@peergrid/client` submit through too), prints a
 * summary. Unless `--no-local-anchor`, the CLI's own onnxruntime-node
 * executor joins the job as an anchor (in-process, under the CLI's peer id);
 * `--check` reuses it for the local reference. The state directory makes it
 * resumable: same job → same id → the engine is restored, verified tasks are
 * not run again. SIGINT/SIGTERM stop cleanly.
 */
import { availableParallelism } from 'node:os';
import {
  createGridClient,
  createReputationBook,
  cryptoRandom,
  type Executor,
  type JobResultSummary,
  type JobSpec,
  outputsMatch,
  resolvePolicy,
  type TensorMap,
  taskCount,
} from '@peergrid/shared';
import { createNodeExecutor } from '../exec/node-executor.ts';
import { openDiskJobStore } from '../store/disk-job-store.ts';
import { nodeNow, nodeSha256, nodeTimers } from '../transport/node-peer-pool.ts';
import type { Workload } from '../workloads/index.ts';
import { buildModelJob, buildWorkload, modelJobOptions } from './build-job.ts';
import { connectRunPeer } from './cli-identity.ts';
import { loadManifestFile } from './manifest-file.ts';
import { runPipelineCommand } from './pipeline-command.ts';
import { readJobFile } from './pipeline-file.ts';
import { createProgressView } from './progress-view.ts';
import { writeResultsFile } from './results-file.ts';
import { NPZ_MAX_ENTRIES } from './results-npz.ts';
import { openResultsSink, outKind } from './results-stream.ts';
import type { RunOptions } from './run-args.ts';
import { createRunTally, type RunSummary, summarize, summaryText } from './run-summary.ts';
import { specReference } from './spec-reference.ts';

export type { RunSummary } from './run-summary.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);
const formatMiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

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
  } else if (o.manifest) {
    // A pipeline (stages of manifests and steps) runs as such; a manifest is one job.
    const file = await readJobFile(o.manifest);
    if (file.pipeline)
      return runPipelineCommand({ ...o, manifest: o.manifest }, file.text, file.format);
    spec = (await loadManifestFile(o.manifest, o.policy)).spec;
  } else {
    spec = await buildModelJob(modelJobOptions(o));
  }
  const outAs = o.out === undefined ? undefined : await outKind(o.out);
  if (outAs === null) {
    throw new Error(`--out ${o.out}: give a results.npz, a folder DIR/ or a results.json`);
  }
  if (outAs === 'npz' && taskCount(spec) > NPZ_MAX_ENTRIES) {
    throw new Error(
      `--out ${o.out}: ${taskCount(spec)} tasks are more than an .npz holds (${NPZ_MAX_ENTRIES} entries, zip without ZIP64); give a folder, --out DIR/`,
    );
  }
  const store = await openDiskJobStore(o.state);
  const reputation = createReputationBook(await store.reputations());
  const policy = resolvePolicy(spec.policy);
  // One executor for the local anchor and the --check reference.
  let local: Executor | undefined;
  const localExecutor = () => {
    local ??= createNodeExecutor({
      backend: LOCAL_BACKEND,
      concurrency: Math.max(1, availableParallelism() - 1),
    });
    return local;
  };
  const startedAt = Date.now();
  const peer = await connectRunPeer(o, store);
  const client = await createGridClient({
    peer,
    store,
    reputation,
    platform: { sha256: nodeSha256, now: nodeNow, random: cryptoRandom, timers: nodeTimers },
    ...(o.localAnchor
      ? { runner: { localAnchor: { executor: localExecutor(), backend: LOCAL_BACKEND } } }
      : {}),
  });
  const job = await client.submit(spec);
  const jobId = job.id;
  const resumedVerified = job.resumed ? job.snapshot().tasks.verified : 0;
  const anchorsText = [
    ...(o.localAnchor ? ['local anchor'] : []),
    ...(policy.trustedDonors.length ? [`${policy.trustedDonors.length} trusted donor(s)`] : []),
  ];
  say(
    `job ${jobId.slice(0, 16)} · ${taskCount(spec)} tasks · ${policy.replicas} replicas · target error ${policy.targetError}` +
      ` · ${anchorsText.length ? anchorsText.join(', ') : 'no anchor'}` +
      (job.resumed ? ` · resuming: ${resumedVerified} verified before` : ''),
  );
  const view = createProgressView(process.stderr, startedAt, resumedVerified);
  const tally = createRunTally();
  const sink =
    o.out && (outAs === 'npz' || outAs === 'dir')
      ? await openResultsSink({ path: o.out, kind: outAs, store, jobId })
      : undefined;
  if (sink && sink.written > 0) view.note(`${sink.written} stored results written to ${o.out}`);
  job.onEvent((e) => {
    tally.onEvent(e);
    if (sink && e.taskId !== undefined) {
      if (e.type === 'task-verified') sink.verified(e.taskId);
      else if (e.type === 'task-reopened') sink.reopened(e.taskId);
    }
    if (e.type === 'donor-excluded') view.note(`donor ${e.donor} excluded: ${e.message ?? ''}`);
    if (e.type === 'task-failed') view.note(`task ${e.taskId} failed: ${e.message ?? ''}`);
  });
  void (async () => {
    for await (const p of job.progress()) view.update(p);
  })().catch(() => {});
  const waiting = setTimeout(() => {
    const others = job.snapshot().donors.filter((d) => d.id !== peer.selfId);
    if (others.length === 0) view.note(`waiting for donors on grid '${o.grid}'…`);
  }, 3000);

  let interrupted = false;
  // A first signal stops the job (below, once `done` says so); a second exits at once.
  const interrupt = (sig: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    view.note(`${sig}: stopping; state saved in ${o.state} — rerun the same command to resume`);
    void job.stop();
  };
  process.on('SIGINT', () => interrupt('SIGINT'));
  process.on('SIGTERM', () => interrupt('SIGTERM'));

  let out: JobResultSummary;
  try {
    out = await job.done;
  } catch (err) {
    await local?.close();
    throw err;
  } finally {
    clearTimeout(waiting);
  }
  if (out.stopped) {
    // What verified so far stays readable (an archive needs its central directory).
    await sink?.finish().catch(() => undefined);
    await peer.shutdown();
    await local?.close();
    await store.close();
    return 130;
  }
  view.end();
  const seconds = Math.round((Date.now() - startedAt) / 100) / 10;
  await peer.shutdown();
  const p = out.progress;
  // Every verified result is in the store (the job ends after its last commit): read there
  // for the agreements, the check and the JSON file, a page at a time.
  const jsonOut = outAs === 'json' ? o.out : undefined;
  const results = new Map<string, TensorMap>();
  let agreements = 0;
  for await (const r of job.resultStream()) {
    agreements += r.backers.length;
    if (o.check || jsonOut) results.set(r.taskId, r.outputs);
  }
  if (sink) {
    const w = await sink.finish();
    say(`results written to ${o.out}: ${w.tasks} tasks, ${formatMiB(w.bytes)}`);
  }
  let check: RunSummary['check'];
  try {
    if (o.check && (workload || o.manifest)) {
      say('checking against a local reference run…');
      const ref = workload
        ? await workload.reference(localExecutor(), { backend: LOCAL_BACKEND })
        : await specReference(spec, localExecutor(), { backend: LOCAL_BACKEND });
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
  if (jsonOut) {
    await writeResultsFile(jsonOut, { ...summary, name: spec.name ?? null }, results);
    say(`results written to ${jsonOut}`);
  }
  say(`summary ${JSON.stringify(summary)}`);
  await store.close();
  const ok = out.state === 'completed' && (!check || check.matched === check.total);
  return ok ? 0 : 1;
}
