/**
 * Serialized, coalescing commits: `schedule()` after every engine input; at
 * most one commit runs at a time, and inputs that arrive meanwhile go into the
 * next one (the engine's `takeDelta()` accumulates), so a fast job writes as
 * often as the store keeps up, never out of order.
 */
export interface CommitQueue {
  schedule(): void;
  /** Resolves when everything scheduled so far is written; rejects with the store's error. */
  flush(): Promise<void>;
  /** Hears the first failed commit (the queue stops). */
  onError(handler: (err: unknown) => void): void;
}

export function createCommitQueue(commit: () => Promise<void>): CommitQueue {
  let running: Promise<void> | null = null;
  let again = false;
  let failed: unknown;
  let hasFailed = false;
  let onError: ((err: unknown) => void) | undefined;

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

  const schedule = () => {
    if (hasFailed) return;
    if (running) {
      again = true;
      return;
    }
    running = loop();
  };

  return {
    schedule,
    async flush() {
      schedule();
      while (running) await running;
      if (hasFailed) throw failed;
    },
    onError(handler) {
      onError = handler;
    },
  };
}
