/**
 * A worker's side of batched runs. Runs arrive in `runs` messages and run
 * one after another, in order; what finished goes back in one `replies`
 * message when the inbox is empty, or once the oldest reply waiting is
 * `flushMs` old (checked by a timer and before each run starts, so a long run
 * holds back the results before it by at most that). Outputs' buffers are
 * transferred, not copied. Runs inside the ORT worker (ort-worker.ts); tests
 * run it in Node around a fake `run`.
 */
import type { Timers } from '@peergrid/shared';
import type { WorkerHandle } from './worker-pool.ts';
import type {
  OrtWorkerApi,
  WorkerRepliesMessage,
  WorkerReply,
  WorkerRun,
  WorkerRunReply,
  WorkerRunRequest,
  WorkerRunResult,
} from './worker-protocol.ts';
import { CANCELLED } from './worker-protocol.ts';

/** How long a finished run's reply may wait for the runs after it, ms. Default 2. */
export const REPLY_FLUSH_MS = 2;

export interface RunInboxOptions {
  /** Runs one request (the ORT host's `run`). */
  readonly run: (req: WorkerRunRequest) => Promise<WorkerReply<WorkerRunResult>>;
  /** Posts a `replies` message, its buffers transferred. */
  readonly send: (msg: WorkerRepliesMessage, transfer: ArrayBuffer[]) => void;
  /** Default {@link REPLY_FLUSH_MS}. */
  readonly flushMs?: number;
  /** Default the global timers. */
  readonly timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
  /** Clock, ms. Default performance.now. */
  readonly now?: () => number;
}

export interface RunInbox {
  /** Takes a message from the pool (`runs` or `cancel`); anything else is ignored. */
  receive(msg: unknown): void;
  /** Runs received and not started yet. */
  readonly waiting: number;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null;

export function createRunInbox(o: RunInboxOptions): RunInbox {
  const flushMs = o.flushMs ?? REPLY_FLUSH_MS;
  const timers = o.timers ?? {
    setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
    clearTimeout: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
  const now = o.now ?? (() => performance.now());
  const inbox: WorkerRun[] = [];
  let outbox: WorkerRunReply[] = [];
  /** When the oldest reply in the outbox was put there. */
  let oldestAt = 0;
  let timer: unknown = null;
  let draining = false;

  function flush(): void {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    if (outbox.length === 0) return;
    const replies = outbox;
    outbox = [];
    const transfer = new Set<ArrayBuffer>();
    for (const { reply } of replies) {
      if (!reply.ok) continue;
      for (const t of Object.values(reply.value.outputs))
        if (t.data.buffer instanceof ArrayBuffer) transfer.add(t.data.buffer);
    }
    o.send({ type: 'replies', replies }, [...transfer]);
  }

  /** Sends now when nothing else is coming, else within `flushMs` of the oldest reply. */
  function put(r: WorkerRunReply): void {
    if (outbox.length === 0) oldestAt = now();
    outbox.push(r);
    if (inbox.length === 0) flush();
    else timer ??= timers.setTimeout(flush, flushMs);
  }

  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      while (inbox.length > 0) {
        // The timer cannot fire while a run blocks this thread: a late reply goes before the next run.
        if (outbox.length > 0 && now() - oldestAt >= flushMs) flush();
        const next = inbox.shift() as WorkerRun;
        let reply: WorkerReply<WorkerRunResult>;
        try {
          reply = await o.run(next);
        } catch (e) {
          reply = {
            ok: false,
            error: { code: 'internal', message: String((e as Error)?.message ?? e) },
          };
        }
        put({ id: next.id, reply });
      }
    } finally {
      draining = false;
    }
  }

  function cancel(ids: readonly unknown[]): void {
    const drop = new Set(ids);
    const kept = inbox.filter((r) => !drop.has(r.id));
    if (kept.length === inbox.length) return;
    const gone = inbox.filter((r) => drop.has(r.id));
    inbox.splice(0, inbox.length, ...kept);
    for (const r of gone)
      put({
        id: r.id,
        reply: { ok: false, error: { code: CANCELLED, message: 'cancelled before it started' } },
      });
  }

  return {
    receive(msg) {
      if (!isRecord(msg)) return;
      if (msg.type === 'runs' && Array.isArray(msg.runs)) {
        inbox.push(...(msg.runs as WorkerRun[]));
        void drain();
      } else if (msg.type === 'cancel' && Array.isArray(msg.ids)) cancel(msg.ids);
    },
    get waiting() {
      return inbox.length;
    },
  };
}

/**
 * A worker in this thread (tests): the pool's messages reach a run inbox
 * around `api.run` in a later task and its replies come back the same way,
 * each structured-cloned with its transfer list, as over a MessagePort.
 */
export function localWorkerHandle(
  api: OrtWorkerApi,
  terminate: () => void = () => {},
): WorkerHandle {
  let listener: ((m: WorkerRepliesMessage) => void) | null = null;
  let dead = false;
  const later = (fn: () => void) =>
    setTimeout(() => {
      if (!dead) fn();
    }, 0);
  const inbox = createRunInbox({
    run: (r) => api.run(r),
    send: (m, transfer) => {
      const copy = structuredClone(m, { transfer });
      later(() => listener?.(copy));
    },
  });
  return {
    api,
    post: (m) => {
      const copy = structuredClone(m);
      later(() => inbox.receive(copy));
    },
    onReplies: (fn) => {
      listener = fn;
    },
    terminate: () => {
      dead = true;
      terminate();
    },
  };
}
