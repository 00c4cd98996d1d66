/**
 * Serialized, coalescing commits: `schedule()` after every engine input; at
 * most one commit runs at a time, and inputs that arrive meanwhile go into the
 * next one (the engine's `takeDelta()` accumulates), so a fast job writes as
 * often as the store keeps up, never out of order.
 *
 * With `defer`, a commit waits for it (e.g. a 0 ms timer) so the inputs of one
 * burst of messages share one commit, or starts at once after `maxBatch`
 * scheduled inputs; `flush()` never waits for it.
 */
export interface CommitQueue {
  schedule(): void;
  /** Resolves when everything scheduled so far is written; rejects with the store's error. */
  flush(): Promise<void>;
  /** Hears the first failed commit (the queue stops). */
  onError(handler: (err: unknown) => void): void;
}

export interface CommitQueueOptions {
  /** Calls `run` a little later (a timer); without it every `schedule()` commits at once. */
  readonly defer?: (run: () => void) => void;
  /** Scheduled inputs after which a deferred commit starts without waiting. Default 256. */
  readonly maxBatch?: number;
}

export function createCommitQueue(
  commit: () => Promise<void>,
  opts: CommitQueueOptions = {},
): CommitQueue {
  const maxBatch = Math.max(1, opts.maxBatch ?? 256);
  let running: Promise<void> | null = null;
  let again = false;
  let failed: unknown;
  let hasFailed = false;
  let onError: ((err: unknown) => void) | undefined;
  /** Inputs scheduled since a deferred start was requested; 0 = none waiting. */
  let waiting = 0;

  async function loop(): Promise<void> {
    try {
      do {
        again = false;
        await commit();
      } while (again);
    } catch (err) {
      hasFailed = true;
      failed = err;
      onError?.(err);
    } finally {
      running = null;
    }
  }

  /** Commits now, or right after the commit under way. */
  const start = () => {
    waiting = 0;
    if (hasFailed) return;
    if (running) again = true;
    else running = loop();
  };

  const schedule = () => {
    if (hasFailed) return;
    const { defer } = opts;
    if (!defer) return start();
    waiting++;
    if (waiting >= maxBatch) return start();
    // A stale deferred call (flushed meanwhile) finds `waiting` at 0 and does nothing.
    if (waiting === 1) defer(() => (waiting > 0 ? start() : undefined));
  };

  return {
    schedule,
    async flush() {
      start();
      while (running) await running;
      if (hasFailed) throw failed;
    },
    onError(handler) {
      onError = handler;
    },
  };
}
