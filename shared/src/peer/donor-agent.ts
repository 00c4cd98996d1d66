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
import type { HandbackCode } from '../job/handback.ts';
import { createFairQueue } from '../job/scheduler.ts';
import type { Now, Sha256Hex, Timers } from '../platform.ts';
import type { Tensor, TensorMap } from '../tensor.ts';
import type { BlobExchange } from './blob-exchange.ts';
import { digestTensorMap } from './digest.ts';
import { createPacer } from './duty-cycle.ts';
import { tensorFromCanonical } from './feed-refs.ts';
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
  /**
   * Share of each slot's wall time spent running, 0.01–1: after a run of b ms
   * the slot rests b·(1 − share)/share ms. Needs `now` and `timers`. Below 1,
   * the executor gets no prefetched leases (a lease it holds early would
   * count its wait as busy). Default 1.
   */
  readonly cpuShare?: number;
}

export interface PauseOptions {
  /**
   * Hand running leases back at once too (their results, when they come,
   * are dropped), instead of letting them finish. Default false.
   */
  readonly handBackRunning?: boolean;
  /** Said in the `paused` errors and in `status()`, e.g. "on battery". */
  readonly reason?: string;
}

/** What the agent is doing, for a donor's own view and metrics. */
export interface DonorStatus {
  readonly paused: boolean;
  readonly pauseReason?: string;
  readonly cpuShare: number;
  /** Busy time ÷ (wall time × slots) over the last 30 s. */
  readonly measuredShare: number;
  /** Busy ms of every run so far (executor time). */
  readonly busyMs: number;
  /** Submitters with leases here now. */
  readonly submitters: number;
}

export interface DonorAgent {
  /** Serves tasks arriving on this link (and reports load in its heartbeats). Returns detach. */
  attach(link: PeerLink): () => void;
  /** The load heartbeats report; with a link, the `limit` is that submitter's fair share. */
  load(link?: PeerLink): PeerLoad;
  /** Hands queued leases back (`paused`) and takes no new ones until `resume`. */
  pause(opts?: PauseOptions): void;
  resume(): void;
  readonly paused: boolean;
  /** Changes the CPU share (0.01–1); throws `bad-option` outside it. */
  setCpuShare(share: number): void;
  status(): DonorStatus;
  /** Stops taking tasks; queued leases get an error, running ones finish. */
  close(): void;
}

interface Lease {
  readonly link: PeerLink;
  /** The submitter, for fair turns: its peer id. */
  readonly owner: string;
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

const PAUSED = 'paused' satisfies HandbackCode;
const BUSY = 'busy' satisfies HandbackCode;
const SHUTTING_DOWN = 'shutting-down' satisfies HandbackCode;

export function createDonorAgent(opts: DonorAgentOptions): DonorAgent {
  const { executor, blobs, sha256 } = opts;
  const capacity = Math.max(1, executor.concurrency);
  // Read at each pump: an executor may size its batches by the runs' measured time.
  const prefetch = () => Math.max(0, Math.floor(executor.prefetch ?? 0));
  const maxQueued = opts.maxQueued ?? capacity * DEFAULT_QUEUE_PER_SLOT;
  const maxQueuedBytes = opts.maxQueuedBytes ?? 256 * 1024 * 1024;
  let queuedBytes = 0;
  const maxModelBytes = opts.maxModelBytes ?? 512 * 1024 * 1024;
  const queue = createFairQueue<Lease>();
  const active = new Map<string, Lease>();
  /** Leases held (queued or running) per submitter: who is present. */
  const held = new Map<string, number>();
  let running = 0;
  let closed = false;
  let paused = false;
  let pauseReason: string | undefined;
  /** Leases handed to the executor at once: its slots less resting ones, and early ones to batch. */
  const pacer = createPacer({
    slots: capacity,
    prefetch,
    ...(opts.cpuShare !== undefined ? { share: opts.cpuShare } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.timers ? { timers: opts.timers } : {}),
    rested: () => pump(),
  });

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
  const hold = (owner: string, d: number) => {
    const n = (held.get(owner) ?? 0) + d;
    if (n > 0) held.set(owner, n);
    else held.delete(owner);
  };
  const forget = (lease: Lease) => {
    if (active.delete(key(lease.link, lease.msg.leaseId))) hold(lease.owner, -1);
  };

  /** Out of the queue with an error the submitter re-issues elsewhere (the lease is done here). */
  function handBack(lease: Lease, code: HandbackCode, message: string): void {
    if (queue.remove(lease.owner, lease)) queuedBytes -= lease.bytes;
    lease.cancelled = true;
    forget(lease);
    void answer(lease, { type: 'error', leaseId: lease.msg.leaseId, error: { code, message } });
  }

  function onAssign(link: PeerLink, msg: AssignMessage): void {
    const k = key(link, msg.leaseId);
    if (active.has(k)) return; // a duplicate assign: the first one answers
    const owner = link.remoteId;
    const fail = (code: string, message: string) =>
      void reply(link, { type: 'error', leaseId: msg.leaseId, error: { code, message } });
    if (closed) {
      fail(SHUTTING_DOWN, 'this donor is shutting down');
      return;
    }
    if (paused) {
      fail(PAUSED, `this donor is paused${pauseReason ? ` (${pauseReason})` : ''}`);
      return;
    }
    if (msg.modelBytes > maxModelBytes) {
      fail('too-large', `model of ${msg.modelBytes} bytes is over ${maxModelBytes}`);
      return;
    }
    const bytes = feedBytes(msg);
    if (running + queue.size >= capacity + maxQueued) {
      // Full: a submitter holding fewer queued leases takes a place from the one holding most.
      const hog = queue.largest();
      if (hog === undefined || hog === owner || queue.sizeOf(hog) <= queue.sizeOf(owner) + 1) {
        fail(BUSY, `${running} running and ${queue.size} queued`);
        return;
      }
      const last = queue.pop(hog)!;
      queuedBytes -= last.bytes;
      handBack(last, BUSY, 'queue full: this donor shares its slots between its submitters');
    }
    if (queue.size > 0 && queuedBytes + bytes > maxQueuedBytes) {
      fail(BUSY, `${queuedBytes} bytes of feeds queued`);
      return;
    }
    const lease: Lease = {
      link,
      owner,
      msg,
      bytes,
      cancelled: false,
      receivedAt: opts.now?.() ?? 0,
      answered: false,
      ackTimer: undefined,
    };
    active.set(k, lease);
    hold(owner, 1);
    if (opts.timers && ackDelayMs > 0)
      lease.ackTimer = opts.timers.setTimeout(() => ack(lease), ackDelayMs);
    else ack(lease);
    queue.push(owner, lease);
    queuedBytes += bytes;
    pump();
  }

  function pump(): void {
    while (!paused && running < pacer.room() && queue.size > 0) {
      const lease = queue.shift()!;
      queuedBytes -= lease.bytes;
      if (lease.cancelled) continue;
      running++;
      void run(lease).finally(() => {
        running--;
        forget(lease);
        pacer.ended(lease);
        pump();
      });
    }
  }

  async function run(lease: Lease): Promise<void> {
    const { link, msg } = lease;
    try {
      const model = await blobs.fetch(msg.modelHash, msg.modelBytes, [link]);
      const feeds = msg.feedRefs ? await withRefs(msg, link) : msg.feeds;
      if (lease.cancelled || link.closed) return;
      const left = opts.now ? msg.deadlineMs - (opts.now() - lease.receivedAt) : msg.deadlineMs;
      if (left <= 0)
        throw new PeerGridError(
          'timeout',
          `deadline of ${msg.deadlineMs} ms passed before the run`,
        );
      pacer.started(lease);
      const res = await executor.run({
        modelHash: msg.modelHash,
        model,
        feeds,
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

  /** The lease's feeds with its `feedRefs` fetched (once per donor: the blob cache keeps them). */
  async function withRefs(msg: AssignMessage, link: PeerLink): Promise<TensorMap> {
    // Into the assign's own feeds object (parsed for this lease alone): the executor gets the
    // object the assign carried, so whoever knows a lease by it (a tab's donor side) still does.
    const out = msg.feeds as Record<string, Tensor>;
    for (const [name, ref] of Object.entries(msg.feedRefs ?? {})) {
      if (ref.bytes > maxModelBytes) {
        throw new PeerGridError(
          'too-large',
          `feed ${name} of ${ref.bytes} bytes is over ${maxModelBytes}`,
        );
      }
      const t = tensorFromCanonical(await blobs.fetch(ref.hash, ref.bytes, [link]));
      if (typeof t === 'string') throw new PeerGridError('bad-input', `feed ${name}: ${t}`);
      out[name] = t;
    }
    return out;
  }

  function onCancel(link: PeerLink, leaseId: string): void {
    const lease = active.get(key(link, leaseId));
    if (!lease) return;
    lease.cancelled = true;
    if (lease.ackTimer !== undefined) opts.timers?.clearTimeout(lease.ackTimer);
    if (queue.remove(lease.owner, lease)) {
      queuedBytes -= lease.bytes;
      forget(lease);
    }
  }

  // Leases the executor holds beyond its slots are queued, as far as anyone asking knows.
  const load = (link?: PeerLink): PeerLoad => {
    // Each present submitter is offered an equal part of the queue (itself counted when new).
    const owners = held.size + (link && !held.has(link.remoteId) ? 1 : 0);
    const share = link ? Math.floor(maxQueued / Math.max(1, owners)) : maxQueued;
    return {
      running: Math.min(running, capacity),
      queued: queue.size + Math.max(0, running - capacity),
      capacity,
      limit: paused ? 0 : capacity + share,
    };
  };

  return {
    attach(link) {
      link.setLoadSource(() => load(link));
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
    pause(p = {}) {
      paused = true;
      pauseReason = p.reason;
      const why = `this donor paused${p.reason ? ` (${p.reason})` : ''}`;
      for (const owner of queue.owners())
        for (const lease of queue.drop(owner)) {
          queuedBytes -= lease.bytes;
          if (!lease.cancelled) handBack(lease, PAUSED, why);
        }
      if (p.handBackRunning)
        for (const lease of [...active.values()])
          if (!lease.cancelled) handBack(lease, PAUSED, `${why} mid-run`);
    },
    resume() {
      paused = false;
      pauseReason = undefined;
      pump();
    },
    get paused() {
      return paused;
    },
    setCpuShare(share) {
      pacer.setShare(share);
      pump();
    },
    status: () => ({
      paused,
      ...(pauseReason !== undefined ? { pauseReason } : {}),
      cpuShare: pacer.share,
      measuredShare: pacer.measured(),
      busyMs: pacer.busyMs,
      submitters: held.size,
    }),
    close() {
      closed = true;
      for (const owner of queue.owners())
        for (const lease of queue.drop(owner)) {
          queuedBytes -= lease.bytes;
          if (!lease.cancelled) handBack(lease, SHUTTING_DOWN, 'this donor is shutting down');
        }
      queuedBytes = 0;
    },
  };
}
