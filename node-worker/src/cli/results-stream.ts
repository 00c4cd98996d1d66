/**
 * `--out results.npz` and `--out DIR/`: results written as tasks verify, not
 * held until the end. The runner tells of a `task-verified` event once the
 * commit that stores its result is done, so the sink reads the result back
 * from the job store (one task at a time) and writes it; writes are queued
 * in order. A resumed job's stored results are written before the run
 * starts. A task reopened after it was written (an excluded backer, a lost
 * vote) is written again when it verifies again: a folder replaces its files,
 * an archive is rewritten from the store at the end (zip entries cannot be
 * replaced), and a reopened task that never verified again leaves the output.
 */
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type JobStore, resultNamePart, type TensorMap } from '@peergrid/shared';
import { openResultsDir } from './results-dir.ts';
import { openNpzStream } from './results-npz.ts';

export const OUT_KINDS = ['json', 'npz', 'dir'] as const;
export type OutKind = (typeof OUT_KINDS)[number];

/**
 * What `--out PATH` writes: a folder for a path ending in `/` or naming a
 * folder, an .npz archive for `.npz`, JSON for `.json`; null otherwise.
 */
export async function outKind(path: string): Promise<OutKind | null> {
  if (path.endsWith('/')) return 'dir';
  const isDir = await stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (isDir) return 'dir';
  const lower = path.toLowerCase();
  if (lower.endsWith('.npz')) return 'npz';
  if (lower.endsWith('.json')) return 'json';
  return null;
}

export interface ResultsSink {
  /** A task verified: its accepted outputs are in the store. */
  verified(taskId: string): void;
  /** A verified task went back to running: its written outputs may change. */
  reopened(taskId: string): void;
  /** Waits for every queued write, mends what changed after it was written, closes. */
  finish(): Promise<{ readonly tasks: number; readonly bytes: number }>;
  /** Tasks written so far. */
  readonly written: number;
}

export interface ResultsSinkOptions {
  readonly path: string;
  readonly kind: 'npz' | 'dir';
  readonly store: Pick<JobStore, 'getResults' | 'results'>;
  readonly jobId: string;
}

/** Opens the sink and writes the results the store already holds (a resumed job). */
export async function openResultsSink(o: ResultsSinkOptions): Promise<ResultsSink> {
  const { store, jobId } = o;
  const written = new Set<string>();
  /** Tasks whose written outputs are no longer (or not yet again) the accepted ones. */
  const stale = new Set<string>();
  let rewrite = false;
  let queue: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  const enqueue = (step: () => Promise<void>) => {
    queue = queue.then(async () => {
      if (failure) return;
      try {
        await step();
      } catch (e) {
        failure = e;
      }
    });
  };

  let bytesBefore = 0;
  let put: (taskId: string, outputs: TensorMap) => Promise<void>;
  let bytes: () => number;
  let close: () => Promise<void>;
  if (o.kind === 'dir') {
    const dir = await openResultsDir(o.path);
    put = (id, outputs) => dir.put(id, outputs);
    bytes = () => dir.bytes;
    close = async () => {
      for (const id of stale) await rm(join(o.path, resultNamePart(id)), { recursive: true });
    };
  } else {
    let npz = await openNpzStream(o.path);
    put = (id, outputs) => npz.add(id, outputs);
    bytes = () => bytesBefore + npz.bytes;
    close = async () => {
      await npz.close();
      if (!rewrite && stale.size === 0) return;
      // Rewritten from the store beside the old archive, then swapped in.
      const tmp = `${o.path}.rewrite.tmp`;
      bytesBefore += npz.bytes;
      npz = await openNpzStream(tmp);
      for await (const r of store.results(jobId)) await npz.add(r.taskId, r.outputs);
      await npz.close();
      await rename(tmp, o.path);
    };
  }
  for await (const r of store.results(jobId)) {
    await put(r.taskId, r.outputs);
    written.add(r.taskId);
  }
  return {
    get written() {
      return written.size;
    },
    verified(taskId) {
      enqueue(async () => {
        const [r] = await store.getResults(jobId, [taskId]);
        if (!r) return;
        stale.delete(taskId);
        if (written.has(taskId)) {
          if (o.kind === 'npz') {
            rewrite = true;
            return;
          }
        }
        await put(taskId, r.outputs);
        written.add(taskId);
      });
    },
    reopened(taskId) {
      enqueue(async () => {
        if (written.has(taskId)) stale.add(taskId);
      });
    },
    async finish() {
      await queue;
      if (failure) throw failure;
      await close();
      return { tasks: written.size - stale.size, bytes: bytes() };
    },
  };
}
