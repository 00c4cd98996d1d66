/**
 * The donor side of the task protocol: `assign` → `ack` → model by hash
 * (cache or blob exchange, verified) → Executor.run → `result` (with the
 * outputs' digest for version 1 submitters only), or `error` with a code. At most `executor.concurrency`
 * tasks run at once; more wait in a bounded queue. `cancel` drops a lease.
 * No `progress` message per task: the `ack` already says the lease is held,
 * and an extra frame per task costs the submitter more than it tells it.
 * With `timers`, the ack waits `ackDelayMs` and is not sent at all when the
 * result (or error) goes first: a result implies the ack, and short tasks
 * then cost one message each way instead of two.
 */
import type { Executor } from '../contracts.ts';
import { PeerGridError, toWireError } from '../errors.ts';
import type { Now, Sha256Hex, Timers } from '../platform.ts';
import type { BlobExchange } from './blob-exchange.ts';
import { digestTensorMap } from './digest.ts';
import type { PeerLink } from './link.ts';
import type { AssignMessage, PeerLoad, PeerMessage } from './messages.ts';

export interface DonorAgentOptions {
  readonly executor: Executor;
  readonly blobs: BlobExchange;
  readonly sha256: Sha256Hex;
  /** When given, time spent queued and fetching the model counts against `deadlineMs`. */
  readonly now?: Now;
  /**
   * Leases waiting beyond the running ones before new ones get `busy`.
   * Default 64 × concurrency: submitters far away keep a round trip's worth
   * of short tasks queued (see `leaseWindow`). Heartbeats report the limit.
   */
  readonly maxQueued?: number;
  /** Feed bytes the queued leases may hold before new ones get `busy`. Default 256 MiB. */
  readonly maxQueuedBytes?: number;
  /** Defers acks (see `ackDelayMs`). Without it every lease is acked on arrival. */
  readonly timers?: Timers;
  /**
   * How long an ack waits for the lease's result to make it unneeded, ms.
   * Far below the submitters' ack timeout (10 s by default). Default 100.
   */
  readonly ackDelayMs?: number;
  /** Largest model accepted, bytes. Default 512 MiB. */
  readonly maxModelBytes?: number;
}

export interface DonorAgent {
  /** Serves tasks arriving on this link (and reports load in its heartbeats). Returns detach. */
  attach(link: PeerLink): () => void;
  load(): PeerLoad;
  /** Stops taking tasks; queued leases get an error, running ones finish. */
  close(): void;
}

interface Lease {
  readonly link: PeerLink;
  readonly msg: AssignMessage;
  /** Bytes of its feeds (counted against `maxQueuedBytes` while it waits). */
  readonly bytes: number;
  cancelled: boolean;
  readonly receivedAt: number;
  /** The ack went out, or is no longer needed (an answer went out). */
  answered: boolean;
  ackTimer: unknown;
}

/** Default leases queued per slot (`DonorAgentOptions.maxQueued`). */
export const DEFAULT_QUEUE_PER_SLOT = 64;

const feedBytes = (msg: AssignMessage) => {
  let n = 0;
  for (const t of Object.values(msg.feeds)) n += t.data.byteLength;
  return n;
};

/** Default of `DonorAgentOptions.ackDelayMs`. */
export const DEFAULT_ACK_DELAY_MS = 100;

export function createDonorAgent(opts: DonorAgentOptions): DonorAgent {
  const { executor, blobs, sha256 } = opts;
  const capacity = Math.max(1, executor.concurrency);
  /** Leases handed to the executor at once: its slots, and what it takes early to batch. */
  const handOver = capacity + Math.max(0, Math.floor(executor.prefetch ?? 0));
  const maxQueued = opts.maxQueued ?? capacity * DEFAULT_QUEUE_PER_SLOT;
  const maxQueuedBytes = opts.maxQueuedBytes ?? 256 * 1024 * 1024;
  let queuedBytes = 0;
  const maxModelBytes = opts.maxModelBytes ?? 512 * 1024 * 1024;
  const queue: Lease[] = [];
  const active = new Map<string, Lease>();
  let running = 0;
  let closed = false;

  const reply = (link: PeerLink, msg: PeerMessage) => link.send(msg).catch(() => {});
  const ackDelayMs = opts.ackDelayMs ?? DEFAULT_ACK_DELAY_MS;

  function ack(lease: Lease): void {
    lease.ackTimer = undefined;
    if (lease.answered || lease.cancelled) return;
    lease.answered = true;
    void reply(lease.link, { type: 'ack', leaseId: lease.msg.leaseId });
  }

  /** The lease's result or error goes out now: no ack needed any more. */
  function answer(lease: Lease, msg: PeerMessage): Promise<void> {
    lease.answered = true;
    if (lease.ackTimer !== undefined) opts.timers?.clearTimeout(lease.ackTimer);
    lease.ackTimer = undefined;
    return reply(lease.link, msg);
  }
  const key = (link: PeerLink, leaseId: string) => `${link.remoteId}\u0000${leaseId}`;

  function onAssign(link: PeerLink, msg: AssignMessage): void {
    const k = key(link, msg.leaseId);
    if (active.has(k)) return; // a duplicate assign: the first one answers
    const fail = (code: string, message: string) =>
      void reply(link, { type: 'error', leaseId: msg.leaseId, error: { code, message } });
    if (closed) {
      fail('shutting-down', 'this donor is shutting down');
      return;
    }
    if (msg.modelBytes > maxModelBytes) {
      fail('too-large', `model of ${msg.modelBytes} bytes is over ${maxModelBytes}`);
      return;
    }
    if (running + queue.length >= capacity + maxQueued) {
      fail('busy', `${running} running and ${queue.length} queued`);
      return;
    }
    const bytes = feedBytes(msg);
    if (queue.length > 0 && queuedBytes + bytes > maxQueuedBytes) {
      fail('busy', `${queuedBytes} bytes of feeds queued`);
      return;
    }
    const lease: Lease = {
      link,
      msg,
      bytes,
      cancelled: false,
      receivedAt: opts.now?.() ?? 0,
      answered: false,
      ackTimer: undefined,
    };
    active.set(k, lease);
    if (opts.timers && ackDelayMs > 0)
      lease.ackTimer = opts.timers.setTimeout(() => ack(lease), ackDelayMs);
    else ack(lease);
    queue.push(lease);
    queuedBytes += bytes;
    pump();
  }

  function pump(): void {
    while (running < handOver && queue.length > 0) {
      const lease = queue.shift()!;
      queuedBytes -= lease.bytes;
      if (lease.cancelled) continue;
      running++;
      void run(lease).finally(() => {
        running--;
        active.delete(key(lease.link, lease.msg.leaseId));
        pump();
      });
    }
  }

  async function run(lease: Lease): Promise<void> {
    const { link, msg } = lease;
    try {
      const model = await blobs.fetch(msg.modelHash, msg.modelBytes, [link]);
      if (lease.cancelled || link.closed) return;
      const left = opts.now ? msg.deadlineMs - (opts.now() - lease.receivedAt) : msg.deadlineMs;
      if (left <= 0)
        throw new PeerGridError(
          'timeout',
          `deadline of ${msg.deadlineMs} ms passed before the run`,
        );
      const res = await executor.run({
        modelHash: msg.modelHash,
        model,
        feeds: msg.feeds,
        timeoutMs: left,
        ...(msg.outputs ? { outputs: msg.outputs } : {}),
        ...(msg.backend ? { backend: msg.backend } : {}),
      });
      if (lease.cancelled || link.closed) return;
      const outputs = res.outputs;
      // Only version 1 submitters want the digest (they never checked it either).
      const digest = link.remoteProtocol < 2 ? await digestTensorMap(outputs, sha256) : undefined;
      await answer(lease, {
        type: 'result',
        leaseId: msg.leaseId,
        outputs,
        ...(digest !== undefined ? { digest } : {}),
        computeMs: res.computeMs,
        backend: res.backend,
      });
    } catch (err) {
      if (lease.cancelled || link.closed) return;
      await answer(lease, { type: 'error', leaseId: msg.leaseId, error: toWireError(err) });
    }
  }

  function onCancel(link: PeerLink, leaseId: string): void {
    const lease = active.get(key(link, leaseId));
    if (!lease) return;
    lease.cancelled = true;
    if (lease.ackTimer !== undefined) opts.timers?.clearTimeout(lease.ackTimer);
    const i = queue.indexOf(lease);
    if (i >= 0) {
      queue.splice(i, 1);
      queuedBytes -= lease.bytes;
      active.delete(key(link, leaseId));
    }
  }

  // Leases the executor holds beyond its slots are queued, as far as anyone asking knows.
  const load = (): PeerLoad => ({
    running: Math.min(running, capacity),
    queued: queue.length + Math.max(0, running - capacity),
    capacity,
    limit: capacity + maxQueued,
  });

  return {
    attach(link) {
      link.setLoadSource(load);
      const off = link.onMessage((msg) => {
        if (msg.type === 'assign') onAssign(link, msg);
        else if (msg.type === 'cancel') onCancel(link, msg.leaseId);
      });
      const offClose = link.onClose(() => {
        // Leases of a gone submitter are dropped: nobody would hear the result.
        for (const lease of active.values())
          if (lease.link === link) onCancel(link, lease.msg.leaseId);
      });
      return () => {
        off();
        offClose();
      };
    },
    load,
    close() {
      closed = true;
      queuedBytes = 0;
      for (const lease of queue.splice(0)) {
        lease.cancelled = true;
        active.delete(key(lease.link, lease.msg.leaseId));
        void answer(lease, {
          type: 'error',
          leaseId: lease.msg.leaseId,
          error: { code: 'shutting-down', message: 'this donor is shutting down' },
        });
      }
    },
  };
}
