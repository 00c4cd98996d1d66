/**
 * Tensor transfer through PeerGrid (frames, chunking, backpressure, parsing)
 * vs raw 16 KiB data-channel messages, on the same pair of peers in one
 * process, for each Node WebRTC implementation.
 *
 *   node --import tsx node-worker/bench/transfer.ts [--mb 32] [--rounds 3] [--webrtc ndc|wrtc|both]
 *
 * Prints figures; the last line is one JSON object. `measureTransfer` is
 * importable (bench:grid uses it for `transferRatioVsRawChannel`).
 */
import { CHUNK_BYTES, createMemorySignalHub, type PeerLink, tensorFrom } from '@peergrid/shared';
import SimplePeer from 'simple-peer';
import { createNodePeerPool, nodeNow } from '../src/transport/node-peer-pool.ts';
import {
  createNodeWrtc,
  type NodeWrtc,
  type NodeWrtcKind,
  parseNodeWrtcKind,
} from '../src/transport/node-wrtc.ts';

export interface TransferFigures {
  readonly webrtc: NodeWrtcKind;
  readonly megabytes: number;
  /** Best of the rounds, MB/s (1 MB = 10^6 bytes). */
  readonly rawMBps: number;
  readonly peergridMBps: number;
  /** peergridMBps ÷ rawMBps. */
  readonly ratio: number;
  readonly connectMs: number;
}

const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 * 1024;

type RawPeer = SimplePeer.Instance & { _channel: RTCDataChannelLike };
interface RTCDataChannelLike {
  bufferedAmount: number;
  bufferedAmountLowThreshold?: number;
  addEventListener?(t: string, f: () => void): void;
  removeEventListener?(t: string, f: () => void): void;
}

async function rawPair(native: NodeWrtc): Promise<[RawPeer, RawPeer]> {
  const a = new SimplePeer({
    initiator: true,
    trickle: true,
    wrtc: native.wrtc as never,
  }) as RawPeer;
  const b = new SimplePeer({
    initiator: false,
    trickle: true,
    wrtc: native.wrtc as never,
  }) as RawPeer;
  a.on('signal', (d) => b.signal(d));
  b.on('signal', (d) => a.signal(d));
  await Promise.all([
    new Promise((r) => a.once('connect', r)),
    new Promise((r) => b.once('connect', r)),
  ]);
  return [a, b];
}

/** Raw baseline: 16 KiB messages, same high/low water marks as PeerLink. */
async function rawRound(a: RawPeer, b: RawPeer, bytes: number): Promise<number> {
  const chunk = new Uint8Array(CHUNK_BYTES);
  const count = Math.ceil(bytes / CHUNK_BYTES);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    const onData = (d: Uint8Array) => {
      received += d.byteLength;
      if (received >= count * CHUNK_BYTES) {
        b.removeListener('data', onData);
        resolve();
      }
    };
    b.on('data', onData);
  });
  const ch = a._channel;
  let useEvent = typeof ch.bufferedAmountLowThreshold === 'number' && !!ch.addEventListener;
  if (useEvent) ch.bufferedAmountLowThreshold = LOW_WATER;
  const drain = () =>
    new Promise<void>((resolve) => {
      const byEvent = useEvent;
      const finish = () => {
        clearTimeout(t);
        ch.removeEventListener?.('bufferedamountlow', finish);
        resolve();
      };
      const t = setTimeout(
        () => {
          if (byEvent && ch.bufferedAmount <= LOW_WATER) useEvent = false;
          finish();
        },
        byEvent ? 100 : 2,
      );
      if (byEvent) ch.addEventListener?.('bufferedamountlow', finish);
    });
  const t0 = nodeNow();
  for (let i = 0; i < count; i++) {
    while (ch.bufferedAmount > HIGH_WATER) await drain();
    a.send(chunk);
  }
  await done;
  return (count * CHUNK_BYTES) / 1e6 / ((nodeNow() - t0) / 1000);
}

async function peergridRound(from: PeerLink, to: PeerLink, bytes: number): Promise<number> {
  const n = Math.floor(bytes / 4);
  const feeds = { x: tensorFrom('float32', [n], new Float32Array(n)) };
  const got = new Promise<void>((resolve) => {
    const off = to.onMessage((m) => {
      if (m.type === 'assign' && m.leaseId === 'bench') {
        off();
        resolve();
      }
    });
  });
  const t0 = nodeNow();
  await from.send({
    type: 'assign',
    leaseId: 'bench',
    jobId: 'j',
    modelHash: '0'.repeat(64),
    modelBytes: 0,
    feeds,
    deadlineMs: 1,
  });
  await got;
  return (n * 4) / 1e6 / ((nodeNow() - t0) / 1000);
}

/** Measures one implementation; alternates raw and PeerGrid rounds, keeps the best of each. */
export async function measureTransfer(
  kind: NodeWrtcKind,
  megabytes = 32,
  rounds = 3,
): Promise<TransferFigures> {
  const native = await createNodeWrtc(kind);
  const hub = createMemorySignalHub();
  const pa = await createNodePeerPool({ signal: hub.channel('a'), native });
  const pb = await createNodePeerPool({ signal: hub.channel('b'), native });
  const accepted = new Promise<PeerLink>((resolve) => pb.on('link-open', resolve));
  const t0 = nodeNow();
  const la = await pa.connect('b');
  const lb = await accepted;
  const connectMs = nodeNow() - t0;
  const [ra, rb] = await rawPair(native);
  const bytes = megabytes * 1e6;
  let raw = 0;
  let pg = 0;
  try {
    for (let i = 0; i < rounds; i++) {
      raw = Math.max(raw, await rawRound(ra, rb, bytes));
      pg = Math.max(pg, await peergridRound(la, lb, bytes));
    }
  } finally {
    ra.destroy();
    rb.destroy();
    await pa.shutdown();
    await pb.shutdown();
    await native.shutdown();
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    webrtc: kind,
    megabytes,
    rawMBps: r2(raw),
    peergridMBps: r2(pg),
    ratio: r2(pg / raw),
    connectMs: Math.round(connectMs),
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    console.log('usage: bench:transfer [--mb 32] [--rounds 3] [--webrtc ndc|wrtc|both]');
    return;
  }
  const mb = Number(arg('mb') ?? 32);
  const rounds = Number(arg('rounds') ?? 3);
  const which = arg('webrtc') ?? 'both';
  const kinds = which === 'both' ? (['ndc', 'wrtc'] as const) : [parseNodeWrtcKind(which)];
  const results: Record<string, TransferFigures> = {};
  for (const kind of kinds) {
    if (!kind) throw new Error(`--webrtc must be ndc, wrtc or both, not ${which}`);
    console.error(`measuring ${kind}: ${rounds} rounds of ${mb} MB …`);
    const f = await measureTransfer(kind, mb, rounds);
    console.log(
      `${kind}: raw ${f.rawMBps} MB/s, PeerGrid ${f.peergridMBps} MB/s, ratio ${f.ratio}, connect ${f.connectMs} ms`,
    );
    results[kind] = f;
  }
  const best = Object.values(results).sort((x, y) => y.peergridMBps - x.peergridMBps)[0];
  console.log(
    JSON.stringify({ transferRatioVsRawChannel: best?.ratio, fastest: best?.webrtc, results }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
