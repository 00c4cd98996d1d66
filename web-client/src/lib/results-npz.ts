/**
 * A job's results as an .npz the page downloads: one `TASK/OUTPUT.npy`
 * entry per task and output (shared's `resultEntryName`, as the CLI's
 * `--out results.npz` writes). Results are read from the job store (IndexedDB)
 * a page at a time and each zip chunk joins a Blob at once, so the tab's own
 * memory holds one task's outputs, not the job's: the browser keeps a large
 * Blob's bytes itself, on disk past its memory quota.
 */
import { encodeNpy, type JobStore, resultEntryName } from '@peergrid/shared';
import { Zip, ZipPassThrough } from 'fflate';

/** A fixed entry time (the CLI's too): the same results give the same bytes. */
const MTIME = new Date(1980, 0, 1, 12);

export async function resultsNpzBlob(
  store: Pick<JobStore, 'results'>,
  jobId: string,
): Promise<{ readonly blob: Blob; readonly tasks: number }> {
  let blob = new Blob([]);
  let chunks: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failure = err;
    else chunks.push(chunk);
  });
  const flush = () => {
    if (failure) throw failure;
    if (chunks.length === 0) return;
    blob = new Blob([blob, ...chunks.map((c) => c.slice().buffer as ArrayBuffer)]);
    chunks = [];
  };
  let tasks = 0;
  for await (const r of store.results(jobId)) {
    for (const [name, t] of Object.entries(r.outputs)) {
      const entry = new ZipPassThrough(resultEntryName(r.taskId, name));
      entry.mtime = MTIME;
      zip.add(entry);
      entry.push(encodeNpy(t), true);
      flush();
    }
    tasks++;
  }
  zip.end();
  flush();
  return { blob: new Blob([blob], { type: 'application/octet-stream' }), tasks };
}
