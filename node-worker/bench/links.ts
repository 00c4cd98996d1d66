/**
 * Link set-up and relayed transfer, each against a baseline measured in the
 * same run, for each Node WebRTC implementation:
 * - set-up time of a link whose offer and answer are signed and checked
 *   (Ed25519 over the DTLS fingerprints, the negotiated fingerprint read back)
 *   against the same pools without link authentication, rounds alternating;
 * - tensor transfer over a relay-only link through Debian's coturn on
 *   loopback (TURN REST credentials) against a direct link, rounds alternating.
 *
 *   npm run bench:links -- [--rounds 15] [--mb 16] [--webrtc ndc|wrtc|both]
 *
 * Progress goes to stderr; the last line of stdout is one JSON object.
 */
import { parseArgs } from 'node:util';
import {
  createIdentity,
  createMemorySignalHub,
  type IceServer,
  type PeerLink,
  tensorFrom,
} from '@peergrid/shared';
import { iceServersFor } from '@peergrid/signaling';
import { createNodePeerPool, type NodePeerPool, nodeNow } from '../src/transport/node-peer-pool.ts';
import {
  createNodeWrtc,
  type NodeWrtc,
  type NodeWrtcKind,
  parseNodeWrtcKind,
} from '../src/transport/node-wrtc.ts';
import { nodeSubtle } from '../src/worker/node-identity.ts';
import { startTurnServer } from '../test/integration/turn-server.ts';

const HELP = `usage: npm run bench:links -- [--rounds N] [--mb N] [--webrtc ndc|wrtc|both]

  --rounds N   set-up rounds per variant (signed, unsigned); transfer rounds are N/5, at least 2  default: 15
  --mb N       tensor size per transfer round, MB                                              default: 16
  --webrtc K   ndc, wrtc or both                                                               default: both`;

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

interface Pair {
  readonly a: NodePeerPool;
  readonly b: NodePeerPool;
  readonly bId: string;
}

async function pair(
  native: NodeWrtc,
  o: { signed: boolean; relay?: boolean; ice?: (id: string) => IceServer[] },
): Promise<Pair> {
  const hub = createMemorySignalHub();
  const ids = [await createIdentity(nodeSubtle), await createIdentity(nodeSubtle)];
  const pools = await Promise.all(
    ids.map((identity) =>
      createNodePeerPool({
        signal: hub.channel(identity.id),
        native,
        ...(o.signed ? { auth: { identity, subtle: nodeSubtle } } : {}),
        ...(o.ice ? { iceServers: o.ice(identity.id) } : {}),
        ...(o.relay ? { iceTransportPolicy: 'relay' as const } : {}),
        connectTimeoutMs: 15_000,
      }),
    ),
  );
  return { a: pools[0]!, b: pools[1]!, bId: ids[1]!.id };
}

/** Set-ups that failed outright (after the pool's own retries), by variant. */
const failures = { signed: 0, unsigned: 0 };

/** ms from connect() to both ends open; a set-up that fails is counted and tried again with new pools. */
async function setUpOnce(native: NodeWrtc, signed: boolean): Promise<number> {
  for (;;) {
    const p = await pair(native, { signed });
    try {
      const accepted = new Promise<void>((resolve) => p.b.on('link-open', () => resolve()));
      const t0 = nodeNow();
      await p.a.connect(p.bId);
      await accepted;
      return nodeNow() - t0;
    } catch (err) {
      failures[signed ? 'signed' : 'unsigned']++;
      process.stderr.write(`\n${signed ? 'signed' : 'unsigned'} set-up failed: ${String(err)}\n`);
    } finally {
      await p.a.shutdown();
      await p.b.shutdown();
    }
  }
}

/** MB/s of one tensor assign, a → b. */
async function transferOnce(a: PeerLink, b: PeerLink, bytes: number): Promise<number> {
  const n = Math.floor(bytes / 4);
  const x = tensorFrom('float32', [n], new Float32Array(n));
  const got = new Promise<void>((resolve) => {
    const off = b.onMessage((m) => {
      if (m.type === 'assign') {
        off();
        resolve();
      }
    });
  });
  const t0 = nodeNow();
  await a.send({
    type: 'assign',
    leaseId: 'bench',
    jobId: 'j',
    modelHash: '0'.repeat(64),
    modelBytes: 0,
    feeds: { x },
    deadlineMs: 1,
  });
  await got;
  return (n * 4) / 1e6 / ((nodeNow() - t0) / 1000);
}

async function openPair(p: Pair): Promise<[PeerLink, PeerLink]> {
  const accepted = new Promise<PeerLink>((resolve) => p.b.on('link-open', resolve));
  const la = await p.a.connect(p.bId);
  return [la, await accepted];
}

async function measure(
  kind: NodeWrtcKind,
  rounds: number,
  megabytes: number,
  turn: { iceServer: IceServer; secret: string },
) {
  const native = await createNodeWrtc(kind);
  failures.signed = failures.unsigned = 0;
  try {
    const signed: number[] = [];
    const unsigned: number[] = [];
    await setUpOnce(native, true); // warm-up: first connection loads the stack
    for (let i = 0; i < rounds; i++) {
      process.stderr.write(`\r${kind}: set-up round ${i + 1}/${rounds}   `);
      // Alternate which variant goes first, so drift on a shared box falls on both.
      if (i % 2 === 0) {
        signed.push(await setUpOnce(native, true));
        unsigned.push(await setUpOnce(native, false));
      } else {
        unsigned.push(await setUpOnce(native, false));
        signed.push(await setUpOnce(native, true));
      }
    }
    process.stderr.write('\n');
    const ice = (id: string) => iceServersFor([turn.iceServer], id, turn.secret, 600);
    const direct = await pair(native, { signed: true, ice });
    const relayed = await pair(native, { signed: true, ice, relay: true });
    const tRelayConnect = nodeNow();
    const [ra, rb] = await openPair(relayed);
    const relayConnectMs = nodeNow() - tRelayConnect;
    const tDirectConnect = nodeNow();
    const [da, db] = await openPair(direct);
    const directConnectMs = nodeNow() - tDirectConnect;
    const bytes = megabytes * 1e6;
    const directMBps: number[] = [];
    const relayMBps: number[] = [];
    const transferRounds = Math.max(2, Math.round(rounds / 5));
    try {
      for (let i = 0; i < transferRounds; i++) {
        process.stderr.write(`\r${kind}: transfer round ${i + 1}/${transferRounds}   `);
        directMBps.push(await transferOnce(da, db, bytes));
        relayMBps.push(await transferOnce(ra, rb, bytes));
      }
    } finally {
      process.stderr.write('\n');
      for (const p of [direct, relayed]) {
        await p.a.shutdown();
        await p.b.shutdown();
      }
    }
    return {
      webrtc: kind,
      setUpRounds: rounds,
      signedSetUpMs: r2(median(signed)),
      unsignedSetUpMs: r2(median(unsigned)),
      setUpSignedVsUnsigned: r2(median(signed) / median(unsigned)),
      /** Set-ups that failed after the pool's retries (tried again, not timed). */
      setUpFailures: { ...failures },
      megabytes,
      directMBps: r2(median(directMBps)),
      relayedMBps: r2(median(relayMBps)),
      relayedVsDirectTransfer: r2(median(relayMBps) / median(directMBps)),
      directConnectMs: Math.round(directConnectMs),
      relayConnectMs: Math.round(relayConnectMs),
    };
  } finally {
    await native.shutdown();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '15' },
      mb: { type: 'string', default: '16' },
      webrtc: { type: 'string', default: 'both' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const rounds = Number(values.rounds);
  const mb = Number(values.mb);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: an integer ≥ 1');
  if (!(mb > 0 && mb <= 256)) throw new Error('--mb: a size in MB, up to 256');
  const which = values.webrtc;
  const kinds =
    which === 'both' ? (['ndc', 'wrtc'] as const) : [parseNodeWrtcKind(which)].filter((k) => k);
  if (kinds.length === 0) throw new Error(`--webrtc must be ndc, wrtc or both, not ${which}`);
  const turn = await startTurnServer();
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  try {
    for (const kind of kinds as NodeWrtcKind[]) {
      const f = await measure(kind, rounds, mb, turn);
      console.log(
        `${kind}: set-up signed ${f.signedSetUpMs} ms vs unsigned ${f.unsignedSetUpMs} ms (×${f.setUpSignedVsUnsigned}); ` +
          `${mb} MB relayed ${f.relayedMBps} MB/s vs direct ${f.directMBps} MB/s (×${f.relayedVsDirectTransfer})`,
      );
      results[kind] = f;
    }
  } finally {
    await turn.close();
  }
  const first = Object.values(results)[0]!;
  console.log(
    JSON.stringify({
      setUpSignedVsUnsigned: first.setUpSignedVsUnsigned,
      relayedVsDirectTransfer: first.relayedVsDirectTransfer,
      webrtc: first.webrtc,
      results,
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
