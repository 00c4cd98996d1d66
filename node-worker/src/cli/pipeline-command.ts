/**
 * `peergrid run pipeline.json` (or .yaml): joins the grid once as a
 * submitter and runs the pipeline's stages in order through shared's
 * `runPipeline`: each manifest stage is a job submitted through the grid
 * client (the same layer `peergrid run job.json` and the page use), with its
 * progress shown and its verified results read from the store; each step
 * runs here. The last step's value (OCR: the text per image) is printed on
 * stdout. `--out DIR/` keeps every stage's output: DIR/STAGE.npz per
 * manifest stage (`TASK/OUTPUT` entries), the files steps write, DIR/STAGE.json
 * per step's value, and DIR/result.json; `--out result.json` writes the
 * result only. Policy flags override each manifest's policy.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  checkPipeline,
  createGridClient,
  createReputationBook,
  cryptoRandom,
  type Executor,
  encodeNpz,
  type JobSpec,
  type ManifestFormat,
  type PipelineEnv,
  parsePipelineDoc,
  resolvePolicy,
  runPipeline,
  type TensorMap,
  taskCount,
} from '@peergrid/shared';
import { referenceEntries } from '../examples/reference-entries.ts';
import { createNodeExecutor } from '../exec/node-executor.ts';
import { openDiskJobStore } from '../store/disk-job-store.ts';
import { nodeNow, nodeSha256, nodeTimers } from '../transport/node-peer-pool.ts';
import { connectRunPeer } from './cli-identity.ts';
import { nodePipelineFiles } from './pipeline-file.ts';
import { createProgressView } from './progress-view.ts';
import type { RunOptions } from './run-args.ts';

const say = (line: string) => process.stderr.write(`${line}\n`);
const LOCAL_BACKEND = 'cpu';

/** Where a pipeline's outputs go: a folder for all of them, a .json for the result, or nowhere. */
function pipelineOut(out: string | undefined): { dir?: string; json?: string } | null {
  if (out === undefined) return {};
  if (out.endsWith('/')) return { dir: out };
  if (/\.json$/i.test(out)) return { json: out };
  return null;
}

/** Policy flags over a manifest's policy (a quorum follows fewer --replicas down, as for a manifest). */
function withPolicy(spec: JobSpec, o: RunOptions): JobSpec {
  const merged = { ...spec.policy, ...o.policy };
  if (o.policy.replicas !== undefined && o.policy.quorum === undefined) {
    merged.quorum = Math.min(resolvePolicy(merged).quorum, o.policy.replicas);
  }
  return Object.keys(merged).length > 0 ? { ...spec, policy: merged } : spec;
}

/** Returns the process exit code. */
export async function runPipelineCommand(
  o: RunOptions & { manifest: string },
  text: string,
  format: ManifestFormat,
): Promise<number> {
  if (o.check) throw new Error('--check goes with a job manifest, not a pipeline');
  const out = pipelineOut(o.out);
  if (!out) throw new Error(`--out ${o.out}: for a pipeline give a folder DIR/ or a result.json`);
  // Refused before the grid is joined: every check that needs no stage's output.
  const files = nodePipelineFiles(o.manifest);
  const parsed = parsePipelineDoc(text, format);
  const checked = parsed.ok ? await checkPipeline(parsed.doc, files) : parsed;
  if (!checked.ok) {
    say(`${o.manifest} is refused:`);
    for (const p of checked.problems) say(`  ${p.message}`);
    return 1;
  }
  if (out.dir) await mkdir(out.dir, { recursive: true });
  const store = await openDiskJobStore(o.state);
  const reputation = createReputationBook(await store.reputations());
  let local: Executor | undefined;
  const peer = await connectRunPeer(o, store);
  if (o.localAnchor) {
    local = createNodeExecutor({
      backend: LOCAL_BACKEND,
      concurrency: Math.max(1, availableParallelism() - 1),
    });
  }
  const client = await createGridClient({
    peer,
    store,
    reputation,
    platform: { sha256: nodeSha256, now: nodeNow, random: cryptoRandom, timers: nodeTimers },
    ...(local ? { runner: { localAnchor: { executor: local, backend: LOCAL_BACKEND } } } : {}),
  });
  let stopping = false;
  let current: { stop(): Promise<void> } | undefined;
  const interrupt = (sig: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    say(`${sig}: stopping; state saved in ${o.state} — rerun the same command to resume`);
    void current?.stop();
  };
  process.on('SIGINT', () => interrupt('SIGINT'));
  process.on('SIGTERM', () => interrupt('SIGTERM'));

  const runJob = async (spec0: JobSpec, stage: { id: string }) => {
    const spec = withPolicy(spec0, o);
    const startedAt = Date.now();
    const job = await client.submit(spec);
    current = job;
    const resumed = job.resumed ? job.snapshot().tasks.verified : 0;
    say(
      `stage ${stage.id}: job ${job.id.slice(0, 16)} · ${taskCount(spec)} tasks` +
        (job.resumed ? ` · resuming: ${resumed} verified before` : ''),
    );
    const view = createProgressView(process.stderr, startedAt, resumed);
    job.onEvent((e) => {
      if (e.type === 'task-failed') view.note(`task ${e.taskId} failed: ${e.message ?? ''}`);
    });
    void (async () => {
      for await (const p of job.progress()) view.update(p);
    })().catch(() => {});
    const end = await job.done;
    view.end();
    if (end.stopped) throw new Error('stopped');
    if (!end.ok) {
      const why = end.failed.map((f) => `${f.taskId}: ${f.reason}`).join('; ');
      throw new Error(`the job ended ${end.state}${why ? ` (${why})` : ''}`);
    }
    const results = new Map<string, TensorMap>();
    for await (const r of job.resultStream()) results.set(r.taskId, r.outputs);
    return results;
  };

  const pending: Promise<unknown>[] = [];
  const env: PipelineEnv = {
    ...files,
    runJob,
    onStage: (e) => {
      say(e.line);
      if (e.type !== 'done' || !out.dir) return;
      const dir = out.dir;
      const w =
        e.output.kind === 'manifest'
          ? writeFile(join(dir, `${e.stage.id}.npz`), encodeNpz(referenceEntries(e.output.results)))
          : Promise.all([
              ...Object.entries(e.output.files).map(([name, bytes]) =>
                writeFile(join(dir, name), bytes),
              ),
              e.output.value === undefined
                ? undefined
                : writeFile(join(dir, `${e.stage.id}.json`), `${JSON.stringify(e.output.value)}\n`),
            ]);
      w.catch((err: unknown) => say(`cannot write to ${dir}: ${(err as Error).message}`));
      pending.push(w);
    },
  };
  let code = 0;
  try {
    const r = await runPipeline(text, env, format);
    await Promise.all(pending);
    if (!r.ok) {
      if (stopping) code = 130;
      else {
        say(`${o.manifest} ${r.problems[0]?.code === 'stage-failed' ? 'stopped' : 'is refused'}:`);
        for (const p of r.problems) say(`  ${p.message}`);
        code = 1;
      }
    } else {
      const result = `${JSON.stringify(r.value ?? null)}\n`;
      if (out.dir) await writeFile(join(out.dir, 'result.json'), result);
      if (out.json) await writeFile(out.json, result);
      if (out.dir || out.json)
        say(`result written to ${out.json ?? join(out.dir!, 'result.json')}`);
      process.stdout.write(result);
    }
  } finally {
    await client.close().catch(() => {});
    await peer.shutdown();
    await local?.close();
    await store.close();
  }
  return code;
}
