/** Submitting the MNIST sample through the page's Submit view, and reading jobs back out of the page. */
import type { Page } from '@playwright/test';
import type { HookJobDetail } from './page-hook.ts';

export interface MnistSubmit {
  /** One of the Submit view's choices: 20, 100, 200, 500, 1000. */
  readonly digits: 20 | 100 | 200 | 500 | 1000;
  /** Digits per task: 10, 20, 50, 100. */
  readonly batch: 10 | 20 | 50 | 100;
  /** Default 2. */
  readonly replicas?: number;
  /** Default 2. */
  readonly quorum?: number;
  /** Lease deadline per task, s. Default the page's (30). */
  readonly deadlineS?: number;
  /**
   * Compare logits within this tolerance (abs and rel) instead of the page's default for the
   * sample, argmax labels (which a liar that shifts every logit alike gets past). Default none.
   */
  readonly tolerance?: number;
}

/** Fills in the Submit view for the MNIST sample, submits, and returns the job id the page went to. */
export async function submitMnist(page: Page, o: MnistSubmit): Promise<string> {
  await page.getByTestId('nav-submit').click();
  await page.getByTestId('sample-mnist').click();
  await page.getByTestId('mnist-digits').selectOption(String(o.digits));
  await page.getByTestId('mnist-batch').selectOption(String(o.batch));
  await page.getByTestId('policy-replicas').fill(String(o.replicas ?? 2));
  await page.getByTestId('policy-quorum').fill(String(o.quorum ?? 2));
  if (o.deadlineS !== undefined)
    await page.getByTestId('policy-deadline').fill(String(o.deadlineS));
  if (o.tolerance !== undefined) {
    await page.getByTestId('policy-compare').selectOption('tolerance');
    await page.getByTestId('policy-tolerance').fill(String(o.tolerance));
  }
  await page.getByTestId('submit-job').click();
  // After a successful submit the page goes to #/jobs/<id>; a refusal shows submit-error.
  const error = page.getByTestId('submit-error');
  const went = page.waitForURL(/#\/jobs\/[^/]+$/, { timeout: 60_000 }).then(() => 'went' as const);
  const refused = error.waitFor({ timeout: 60_000 }).then(() => 'refused' as const);
  // The loser of the race times out later: nobody awaits it.
  went.catch(() => {});
  refused.catch(() => {});
  if ((await Promise.race([went, refused])) === 'refused')
    throw new Error(`submit refused: ${await error.textContent()}`);
  const id = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/jobs\//, ''));
  await page.locator(`[data-testid="job-view"][data-job-id="${id}"]`).waitFor({ timeout: 30_000 });
  return id;
}

/** The job as the page's job view model has it (null while the page has not loaded it). */
export function jobDetail(page: Page, jobId: string): Promise<HookJobDetail | null> {
  return page.evaluate((id) => window.peergrid?.jobDetail(id).get() ?? null, jobId);
}

/** Polls the job until `until` holds for it; throws with the last state after `timeoutMs`. */
export async function waitJob(
  page: Page,
  jobId: string,
  until: (d: HookJobDetail) => boolean,
  timeoutMs: number,
  onProgress?: (d: HookJobDetail) => void,
): Promise<HookJobDetail> {
  const deadline = Date.now() + timeoutMs;
  let last: HookJobDetail | null = null;
  for (;;) {
    last = await jobDetail(page, jobId);
    if (last) onProgress?.(last);
    if (last && until(last)) return last;
    if (last && (last.state === 'failed' || last.state === 'cancelled')) {
      const log = last.events
        .filter((e) => e.level !== 'info')
        .slice(-20)
        .map((e) => `  ${new Date(e.at).toISOString().slice(11, 23)} ${e.level} ${e.text}`);
      throw new Error(
        `job ${last.state}: ${last.error ?? ''}\nlatest warnings:\n${log.join('\n')}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(
        `job ${jobId} not there in ${timeoutMs} ms: ${last ? `${last.state}, ${last.verified}/${last.total} verified` : 'not loaded'}`,
      );
    await page.waitForTimeout(250);
  }
}

/** Waits until the job is completed, in the model and on the job view (`job-state`). */
export async function waitCompleted(
  page: Page,
  jobId: string,
  timeoutMs: number,
): Promise<HookJobDetail> {
  const verbose = process.env.PEERGRID_E2E_VERBOSE === '1';
  let shown = -1;
  const t0 = Date.now();
  const d = await waitJob(
    page,
    jobId,
    (j) => j.state === 'completed',
    timeoutMs,
    (j) => {
      if (!verbose || j.verified === shown) return;
      shown = j.verified;
      process.stderr.write(
        `[job ${jobId.slice(0, 8)}] ${j.verified}/${j.total} verified after ${Date.now() - t0} ms\n`,
      );
    },
  );
  await page
    .locator('[data-testid="job-state"][data-state="completed"]')
    .waitFor({ timeout: 10_000 });
  return d;
}

export interface MnistOutput {
  /** Task ids in the job's order. */
  readonly taskIds: readonly string[];
  /** Tasks without an accepted output. */
  readonly missing: readonly string[];
  /** Accepted logits of every digit, row-major [digits, 10]. */
  readonly logits: readonly number[];
  /** argmax of each row. */
  readonly labels: readonly number[];
  /** Accepted logits by task id. */
  readonly byTask: ReadonlyMap<string, readonly number[]>;
}

/** The accepted outputs of an MNIST job, from `window.peergrid.jobResults`. */
export async function mnistOutput(page: Page, jobId: string): Promise<MnistOutput> {
  const r = await page.evaluate(async (id) => {
    const res = await window.peergrid?.jobResults(id);
    if (!res) return null;
    return res.tasks.map((t) => {
      const l = t.outputs?.logits;
      if (!l) return { taskId: t.taskId, logits: null, cols: 0 };
      const bytes = l.data.slice();
      return {
        taskId: t.taskId,
        logits: Array.from(new Float32Array(bytes.buffer, 0, bytes.byteLength / 4)),
        cols: l.dims[l.dims.length - 1] ?? 0,
      };
    });
  }, jobId);
  if (!r) throw new Error(`the page has no results for job ${jobId}`);
  const logits: number[] = [];
  const labels: number[] = [];
  for (const t of r) {
    if (!t.logits) continue;
    logits.push(...t.logits);
    for (let i = 0; i < t.logits.length; i += t.cols) {
      const row = t.logits.slice(i, i + t.cols);
      labels.push(row.indexOf(Math.max(...row)));
    }
  }
  return {
    taskIds: r.map((t) => t.taskId),
    missing: r.filter((t) => !t.logits).map((t) => t.taskId),
    logits,
    labels,
    byTask: new Map(r.flatMap((t) => (t.logits ? [[t.taskId, t.logits] as const] : []))),
  };
}

/** Largest |a - b| over two equal-length arrays (Infinity when lengths differ). */
export function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Task ids handed out (a `lease-issued` event: "TASK → DONOR") at or after `since` (epoch ms). */
export function leasesSince(d: HookJobDetail, since: number): string[] {
  return d.events
    .filter((e) => e.at >= since && / → /.test(e.text))
    .map((e) => e.text.split(' → ')[0] as string);
}

/**
 * Accepted results of a job already in the page's IndexedDB (database `peergrid`, store
 * `results`, see shared/src/store/idb-store.ts): what a reload would find.
 */
/**
 * Waits in the page (no round trip per check) until the job view shows at
 * least `minVerified` tasks verified; returns those task ids at that moment.
 */
export async function verifiedWhen(
  page: Page,
  jobId: string,
  minVerified: number,
  timeoutMs: number,
): Promise<string[]> {
  const handle = await page.waitForFunction(
    ([id, min]) => {
      const d = window.peergrid?.jobDetail(id as string).get();
      if (!d || d.verified < (min as number)) return null;
      return d.tasks.filter((t) => t.state === 'verified').map((t) => t.id);
    },
    [jobId, minVerified] as const,
    { timeout: timeoutMs, polling: 20 },
  );
  return (await handle.jsonValue()) as string[];
}

/** An engine event as the page stored it (shared's `JobEvent`, the fields this suite reads). */
export interface StoredEvent {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  readonly taskId?: string;
  readonly leaseId?: string;
  readonly donor?: string;
  readonly message?: string;
}

/**
 * A job's whole event log from the page's IndexedDB (store `events`, key [jobId, seq]): the job
 * view keeps only the newest events, and a fast job rolls older ones out between two polls.
 */
export function storedEvents(page: Page, jobId: string): Promise<StoredEvent[]> {
  return page.evaluate(
    (id) =>
      new Promise<StoredEvent[]>((resolve, reject) => {
        const open = indexedDB.open('peergrid');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db
            .transaction('events', 'readonly')
            .objectStore('events')
            .getAll(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]));
          req.onsuccess = () => {
            db.close();
            resolve(
              (req.result as StoredEvent[]).map(
                ({ seq, at, type, taskId, leaseId, donor, message }) => ({
                  seq,
                  at,
                  type,
                  ...(taskId !== undefined ? { taskId } : {}),
                  ...(leaseId !== undefined ? { leaseId } : {}),
                  ...(donor !== undefined ? { donor } : {}),
                  ...(message !== undefined ? { message } : {}),
                }),
              ),
            );
          };
          req.onerror = () => reject(req.error);
        };
      }),
    jobId,
  );
}

export function storedResults(page: Page, jobId: string): Promise<number> {
  return page.evaluate(
    (id) =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('peergrid');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const req = db
            .transaction('results', 'readonly')
            .objectStore('results')
            .count(IDBKeyRange.bound([id, ''], [id, '\uffff']));
          req.onsuccess = () => {
            db.close();
            resolve(req.result);
          };
          req.onerror = () => reject(req.error);
        };
      }),
    jobId,
  );
}

/** A peer id as the page's event log shortens it. */
export const shortId = (id: string): string =>
  id.length > 12 ? `${id.slice(0, 6)}…${id.slice(-4)}` : id;

/** The job's log lines about one donor (for failure messages). */
export function donorLog(d: HookJobDetail, id: string): string {
  const s = shortId(id);
  const lines = d.events.filter((e) => e.text.includes(s)).map((e) => `${e.level} ${e.text}`);
  return lines.length > 0 ? lines.slice(-10).join('\n') : '(no events about it)';
}
