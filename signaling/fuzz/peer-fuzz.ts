/**
 * Seeded fuzzer of the peer protocol (shared/src/peer): hostile chunks and
 * frames fed to `decodeFrame`, `parsePeerMessage`, `createReassembler` and a
 * `createPeerLink`'s receive path, interleaved with honest messages. A peer
 * must drop bad input, penalize the sender, close with `peer-misbehaving` past
 * its threshold, deliver honest messages meanwhile, and never throw.
 */
import {
  CHUNK_DATA_BYTES,
  CHUNK_HEADER_BYTES,
  chunkFrame,
  createPeerLink,
  createReassembler,
  DEFAULT_MAX_FRAME_BYTES,
  decodeFrame,
  encodeFrame,
  encodePeerMessage,
  type PeerLink,
  type PeerMessage,
  parsePeerMessage,
  type SimplePeerLike,
  type Tensor,
} from '@peergrid/shared';
import {
  createRng,
  mutateBytes,
  mutateObject,
  type Rng,
  randomBytes,
  randomValue,
} from './mutate.ts';

export interface PeerFuzzOptions {
  readonly messages: number;
  readonly seed: number;
  /** Penalties before a link closes (createPeerLink's default is 16). */
  readonly penaltyThreshold?: number;
  readonly onProgress?: (r: PeerFuzzReport) => void;
}

export interface PeerFuzzReport {
  sent: number;
  byKind: Record<string, number>;
  /** Exceptions escaping the parsers or the link: must stay 0. */
  threw: number;
  linksClosedMisbehaving: number;
  /** Links closed for another reason, or before reaching the threshold: must stay 0. */
  wrongCloses: number;
  wrongCloseReasons: string[];
  honestSent: number;
  honestDelivered: number;
  rssBeforeMB: number;
  rssPeakMB: number;
  rssAfterMB: number;
}

const HASH = 'ab'.repeat(32);
const HONEST: PeerMessage[] = [
  { type: 'ack', leaseId: 'lease-1' },
  { type: 'progress', leaseId: 'lease-1', state: 'running' },
  { type: 'want', hash: HASH, offset: 0, length: 1024 },
  { type: 'have', hashes: [HASH] },
];
const u8 = (n: number): Tensor => ({ dtype: 'uint8', dims: [n], data: new Uint8Array(n) });

/** A simple-peer stand-in whose 'data' we emit by hand, synchronously. */
function fakePeer(): SimplePeerLike & { emitData(b: Uint8Array): void } {
  const data: ((b: Uint8Array) => void)[] = [];
  return {
    send() {},
    signal() {},
    destroy() {},
    on(event: string, fn: (...a: never[]) => void) {
      if (event === 'data') data.push(fn as (b: Uint8Array) => void);
      return this;
    },
    emitData(b: Uint8Array) {
      for (const fn of data) fn(b);
    },
  } as SimplePeerLike & { emitData(b: Uint8Array): void };
}

function chunkHeader(id: number, index: number, count: number, total: number, dataBytes: number) {
  const c = new Uint8Array(CHUNK_HEADER_BYTES + dataBytes);
  const v = new DataView(c.buffer);
  c[0] = 0xc1;
  v.setUint32(1, id, true);
  v.setUint32(5, index, true);
  v.setUint32(9, count, true);
  v.setUint32(13, total, true);
  return c;
}

/** One hostile data-channel message. */
function hostileChunk(rng: Rng): { kind: string; bytes: Uint8Array } {
  const id = rng.int(0x7fffffff);
  const r = rng.int(100);
  if (r < 25)
    return {
      kind: 'random-bytes',
      bytes: randomBytes(rng, rng.int(rng.chance(0.1) ? 20_000 : 64)),
    };
  if (r < 50) {
    const frame = encodePeerMessage(rng.pick(HONEST));
    return { kind: 'mutated-chunk', bytes: mutateBytes(rng, chunkFrame(frame, id)[0]!) };
  }
  if (r < 70) {
    // A well-chunked frame whose header is type-confused.
    const base = rng.pick(HONEST) as unknown as Record<string, unknown>;
    const tensors = rng.chance(0.3) ? [u8(rng.int(64))] : [];
    const frame = encodeFrame(mutateObject(rng, base), tensors);
    return { kind: 'confused-header', bytes: chunkFrame(frame, id)[0]! };
  }
  if (r < 80) {
    const frame = mutateBytes(rng, encodePeerMessage(rng.pick(HONEST)));
    return { kind: 'mutated-frame', bytes: chunkFrame(frame, id)[0]! };
  }
  if (r < 88) {
    // Claims a huge frame: only its first chunk arrives (forces a partial).
    const total = rng.pick([
      DEFAULT_MAX_FRAME_BYTES,
      DEFAULT_MAX_FRAME_BYTES + 1,
      0xffffffff,
      1 << 20,
    ]);
    const count = Math.max(1, Math.ceil(total / CHUNK_DATA_BYTES));
    return { kind: 'huge-partial', bytes: chunkHeader(id, 0, count, total, CHUNK_DATA_BYTES) };
  }
  if (r < 94) {
    const count = 2 + rng.int(5);
    const total = count * CHUNK_DATA_BYTES;
    return {
      kind: 'out-of-order',
      bytes: chunkHeader(id, 1 + rng.int(count - 1), count, total, CHUNK_DATA_BYTES),
    };
  }
  return { kind: 'header-only', bytes: chunkHeader(id, rng.int(3), rng.int(3), rng.int(100), 0) };
}

const rssNow = () => Math.round(process.memoryUsage.rss() / 2 ** 20);

export async function runPeerFuzz(opts: PeerFuzzOptions): Promise<PeerFuzzReport> {
  const rng = createRng(opts.seed);
  const threshold = opts.penaltyThreshold ?? 16;
  const report: PeerFuzzReport = {
    sent: 0,
    byKind: {},
    threw: 0,
    linksClosedMisbehaving: 0,
    wrongCloses: 0,
    wrongCloseReasons: [],
    honestSent: 0,
    honestDelivered: 0,
    rssBeforeMB: rssNow(),
    rssPeakMB: 0,
    rssAfterMB: 0,
  };
  const bump = (k: string) => {
    report.byKind[k] = (report.byKind[k] ?? 0) + 1;
  };
  const timers = { setTimeout: () => 0, clearTimeout: () => {} };
  let t = 0;
  const now = () => t;
  let honestId = 0x80000000;
  let finished = false;

  let peer = fakePeer();
  let link: PeerLink;
  const newLink = () => {
    peer = fakePeer();
    link = createPeerLink({ peer, remoteId: 'fuzzer', now, timers, penaltyThreshold: threshold });
    link.onMessage((m) => {
      if ('leaseId' in m && m.leaseId.startsWith('honest-')) report.honestDelivered++;
    });
    link.onClose((reason) => {
      if (finished) return;
      if (reason.code === 'peer-misbehaving' && link.stats().penalties >= threshold) {
        report.linksClosedMisbehaving++;
      } else {
        report.wrongCloses++;
        if (report.wrongCloseReasons.length < 5)
          report.wrongCloseReasons.push(`${reason.code}: ${reason.message}`);
      }
    });
  };
  newLink();
  const reassembler = createReassembler(now);
  let lastProgress = Date.now();

  for (let i = 0; i < opts.messages; i++) {
    t += 1;
    const { kind, bytes } = hostileChunk(rng);
    bump(kind);
    report.sent++;
    try {
      // The parsers directly…
      const whole = bytes.subarray(Math.min(bytes.length, CHUNK_HEADER_BYTES));
      decodeFrame(whole);
      parsePeerMessage(randomValue(rng), rng.chance(0.5) ? [u8(4)] : []);
      reassembler.push(bytes);
      if (i % 1000 === 0) {
        t += 60_000;
        reassembler.expire();
      }
      // …and a live link's receive path, with an honest message now and then.
      peer.emitData(bytes);
      if (link!.closed) newLink();
      if (rng.chance(0.2)) {
        const leaseId = `honest-${report.honestSent++}`;
        const frame = encodePeerMessage(
          rng.chance(0.5)
            ? { type: 'ack', leaseId }
            : { type: 'progress', leaseId, state: 'queued' },
        );
        for (const c of chunkFrame(frame, honestId++)) peer.emitData(c);
      }
    } catch {
      report.threw++;
      if (link!.closed) newLink();
    }
    if (i % 5000 === 0) {
      report.rssPeakMB = Math.max(report.rssPeakMB, rssNow());
      if (Date.now() - lastProgress > 1000) {
        lastProgress = Date.now();
        opts.onProgress?.(report);
      }
      await new Promise((r) => setImmediate(r));
    }
  }
  finished = true;
  link!.close();
  report.rssAfterMB = rssNow();
  report.rssPeakMB = Math.max(report.rssPeakMB, report.rssAfterMB);
  return report;
}
