/**
 * A donating peer: a donor agent (assign → ack → model by hash → Executor.run
 * → result) on every link of a grid peer. Used by `peergrid-worker` and by
 * the page's donate mode, each with its own Executor.
 */
import type { Executor } from '../contracts.ts';
import { createDonorAgent, type DonorAgent } from '../peer/donor-agent.ts';
import type { PeerLink } from '../peer/link.ts';
import type { PeerLoad } from '../peer/messages.ts';
import type { Now, Sha256Hex, Timers } from '../platform.ts';
import { createDonorCreditCounter, type DonorCredit } from './donor-credit.ts';
import type { GridPeer } from './grid-peer.ts';

export interface DonorNodeOptions {
  /** Links to serve tasks on (and the blob exchange models come through). */
  readonly peer: Pick<GridPeer, 'selfId' | 'pool' | 'blobs' | 'signaling'>;
  /**
   * Other donors to keep a link to (the next ones by id on a ring), so models
   * spread donor to donor instead of all from the submitter. 0 = none. Default 3.
   */
  readonly meshSize?: number;
  /**
   * How long presence must be quiet before the ring links are (re)made, ms:
   * while peers pour in, each arrival moves the ring, and links made at once
   * would go to neighbours that are no longer neighbours a moment later.
   * Default 1 000.
   */
  readonly meshSettleMs?: number;
  readonly executor: Executor;
  readonly sha256: Sha256Hex;
  readonly timers: Timers;
  /** The clock: queued time counts against deadlines, and a CPU share paces runs. Needed for `cpuShare` below 1. */
  readonly now?: Now;
  /** Share of each slot's time spent running, 0.01–1 (the donor agent's `cpuShare`). Default 1. */
  readonly cpuShare?: number;
  /** Largest model accepted, bytes. Default 512 MiB (the donor agent's default). */
  readonly maxModelBytes?: number;
  /** Leases waiting beyond the running ones. Default 64 × executor.concurrency (the donor agent's default). */
  readonly maxQueued?: number;
}

export interface DonorNode {
  readonly agent: DonorAgent;
  load(): PeerLoad;
  /** Verified work so far, from submitters' `verdict` messages. */
  credit(): DonorCredit;
  /** Hears the new totals after each verdict. Returns an unsubscribe function. */
  onCredit(handler: (credit: DonorCredit) => void): () => void;
  /**
   * Stops taking tasks (queued leases are handed back with `shutting-down`)
   * and waits until running ones have reported, or `timeoutMs` (default 30 000)
   * passed. Resolves true when nothing was left running.
   */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Detaches from the pool's links. Does not close the pool or the executor. */
  close(): void;
}

/** How often `drain` looks at the running count, ms. */
const DRAIN_POLL_MS = 50;
/** Default {@link DonorNodeOptions.meshSettleMs}. */
export const MESH_SETTLE_MS = 1_000;

export function createDonorNode(opts: DonorNodeOptions): DonorNode {
  const { pool, blobs } = opts.peer;
  const agent = createDonorAgent({
    executor: opts.executor,
    blobs,
    sha256: opts.sha256,
    timers: opts.timers,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.cpuShare !== undefined ? { cpuShare: opts.cpuShare } : {}),
    ...(opts.maxModelBytes !== undefined ? { maxModelBytes: opts.maxModelBytes } : {}),
    ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}),
  });
  const detach = new Set<() => void>();
  const meshSize = opts.meshSize ?? 3;
  const { signaling, selfId } = opts.peer;
  let closed = false;
  /** Links to the next `meshSize` donors after us on the ring of donor ids. */
  const mesh = () => {
    if (closed || meshSize <= 0) return;
    const ids = [...signaling.peers().values()]
      .filter((p) => p.capabilities.maxConcurrency > 0 || p.id === selfId)
      .map((p) => p.id);
    if (!ids.includes(selfId)) ids.push(selfId);
    ids.sort();
    const at = ids.indexOf(selfId);
    for (let k = 1; k <= Math.min(meshSize, ids.length - 1); k++) {
      const id = ids[(at + k) % ids.length]!;
      if (!pool.get(id)) pool.connect(id).catch(() => {}); // retried on the next presence change
    }
  };
  // Each presence change restarts the wait, up to 4 waits after the first one: the links
  // follow once the list is quiet, and under constant churn still every few seconds.
  const settleMs = opts.meshSettleMs ?? MESH_SETTLE_MS;
  let quiet: unknown = null;
  let latest: unknown = null;
  const settle = () => {
    for (const t of [quiet, latest]) if (t !== null) opts.timers.clearTimeout(t);
    quiet = latest = null;
  };
  const meshSoon = () => {
    if (closed || meshSize <= 0) return;
    if (quiet !== null) opts.timers.clearTimeout(quiet);
    const run = () => {
      settle();
      mesh();
    };
    quiet = opts.timers.setTimeout(run, settleMs);
    latest ??= opts.timers.setTimeout(run, settleMs * 4);
  };
  const offPresence = [
    signaling.on('peer-joined', meshSoon),
    signaling.on('peer-left', meshSoon),
    signaling.on('peers', meshSoon),
  ];
  meshSoon();
  // Verdicts are heard beside the agent: it ignores message types it does not serve.
  const credit = createDonorCreditCounter();
  const serve = (link: PeerLink) => {
    const offAgent = agent.attach(link);
    const offCredit = credit.attach(link);
    return () => {
      offAgent();
      offCredit();
    };
  };
  for (const link of pool.links()) detach.add(serve(link));
  const off = pool.on('link-open', (link) => {
    const d = serve(link);
    detach.add(d);
    link.onClose(() => detach.delete(d));
  });

  return {
    agent,
    load: () => agent.load(),
    credit: () => credit.credit(),
    onCredit: (h) => credit.onChange(h),
    drain(timeoutMs = 30_000) {
      agent.close();
      const waitedFrom = { left: timeoutMs };
      return new Promise<boolean>((resolve) => {
        const check = () => {
          if (agent.load().running === 0) return resolve(true);
          if (waitedFrom.left <= 0) return resolve(false);
          waitedFrom.left -= DRAIN_POLL_MS;
          opts.timers.setTimeout(check, DRAIN_POLL_MS);
        };
        check();
      });
    },
    close() {
      closed = true;
      settle();
      off();
      for (const o of offPresence) o();
      for (const d of detach) d();
      detach.clear();
    },
  };
}
