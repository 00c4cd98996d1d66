/**
 * Seeded storm against a running signaling server: malformed, truncated,
 * oversized and type-confused messages, binary frames, deep nesting and ping
 * floods from many sockets (joined and not), reopened whenever the server
 * closes them, while an honest pair keeps relaying. Reports what happened.
 */
import { createIdentity, type Identity, type SubtleLike, signChallenge } from '@peergrid/shared';
import { WebSocket } from 'ws';
import { createRng, mutateObject, type Rng, randomBytes } from './mutate.ts';

export interface SignalingFuzzOptions {
  /** ws:// URL of the server under test. */
  readonly url: string;
  /** http:// URL of the same server (for /metrics and /healthz). */
  readonly httpUrl: string;
  /** Hostile messages to send in total. */
  readonly messages: number;
  readonly seed: number;
  /** Attacker sockets open at once. Default 12. */
  readonly connections?: number;
  /** Called about once a second. */
  readonly onProgress?: (r: SignalingFuzzReport) => void;
}

export interface SignalingFuzzReport {
  /** Hostile messages the server is known to have read (each batch is confirmed by a marker). */
  sent: number;
  byKind: Record<string, number>;
  /** `error` codes the server answered with. */
  errorsByCode: Record<string, number>;
  /** Attacker sockets closed by the server, by close code. */
  closesByCode: Record<string, number>;
  connectionsOpened: number;
  /** Ping floods past the rate limit: sockets and frames (not confirmed, not in `sent`). */
  floodConnections: number;
  floodFrames: number;
  /** The server's own count of refused messages, by reason (its /metrics). */
  serverRejected: Record<string, number>;
  /** Honest relays completed (a → b → a) while the storm ran, and in total. */
  honestRoundTripsDuringStorm: number;
  honestRoundTrips: number;
  honestDisconnected: boolean;
  serverUp: boolean;
  rssBeforeMB: number;
  rssPeakMB: number;
  rssAfterMB: number;
}

const subtle = globalThis.crypto.subtle as unknown as SubtleLike;
const CAPS = { runtime: 'node', backends: ['cpu'], cores: 2, memoryMB: 512, maxConcurrency: 1 };

export async function rssMB(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = text.match(/^process_resident_memory_bytes (\d+)$/m);
  return m ? Math.round(Number(m[1]) / 2 ** 20) : Number.NaN;
}

/** Opens a socket and, when `identity` is given, joins `grid` with a real proof. */
function open(url: string, onMsg: (m: Record<string, unknown>) => void): Promise<WebSocket> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('message', (d) => {
      try {
        onMsg(JSON.parse(d.toString()));
      } catch {
        // The server only sends JSON; ignore anything else.
      }
    });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
    ws.on('error', () => {});
  });
}

async function joinOn(
  ws: WebSocket,
  grid: string,
  identity: Identity,
  msgs: Record<string, unknown>[],
) {
  ws.send(JSON.stringify({ type: 'hello', grid }));
  const ch = await waitFor(msgs, 'challenge', ws);
  const fields = { serverId: String(ch.serverId), grid, nonce: String(ch.nonce) };
  const signature = await signChallenge(identity, fields);
  ws.send(
    JSON.stringify({
      type: 'join',
      grid,
      publicKey: identity.publicKeyText,
      signature,
      capabilities: CAPS,
    }),
  );
  await waitFor(msgs, 'joined', ws);
}

async function waitFor(msgs: Record<string, unknown>[], type: string, ws: WebSocket) {
  for (let i = 0; i < 500; i++) {
    const m = msgs.find((x) => x.type === type);
    if (m) return m;
    if (ws.readyState !== ws.OPEN) throw new Error(`closed while waiting for ${type}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no ${type}`);
}

/** One hostile message (or a burst of them, for floods) as frames to send. */
function hostile(
  rng: Rng,
  targets: readonly string[],
): { kind: string; frames: (string | Uint8Array)[] } {
  const to = rng.chance(0.2) ? 'a'.repeat(32) : rng.pick(targets);
  // A join (forged, or without a challenge) ends the connection at once: rare, so most
  // batches reach the parser on a live socket.
  const join = {
    type: 'join',
    grid: 'fz-x',
    publicKey: 'A'.repeat(43),
    signature: 'B'.repeat(86),
    capabilities: CAPS,
  };
  const templates: Record<string, unknown>[] = rng.chance(0.03)
    ? [join]
    : [
        { type: 'hello', grid: 'fz-honest' },
        { type: 'signal', to, data: { type: 'offer', sdp: 'v=0' } },
        { type: 'update', capabilities: CAPS },
        { type: 'ping' },
      ];
  const r = rng.int(100);
  const tpl = rng.pick(templates);
  if (r < 40)
    return { kind: 'mutated', frames: [JSON.stringify(mutateObject(rng, tpl)) ?? 'null'] };
  if (r < 50) {
    const text = JSON.stringify(tpl);
    return { kind: 'truncated', frames: [text.slice(0, rng.int(text.length))] };
  }
  if (r < 58)
    return {
      kind: 'garbage-text',
      frames: [Buffer.from(randomBytes(rng, rng.int(200))).toString('latin1')],
    };
  if (r < 63) return { kind: 'binary', frames: [randomBytes(rng, rng.int(300))] };
  if (r < 64) return { kind: 'oversized', frames: ['x'.repeat(64 * 1024 + 1 + rng.int(40_000))] };
  if (r < 66) {
    const n = rng.int(20_000);
    return { kind: 'deep', frames: ['['.repeat(n) + (rng.chance(0.5) ? ']'.repeat(n) : '')] };
  }
  if (r < 68) {
    return {
      kind: 'proto',
      frames: [`{"type":"signal","to":"${to}","data":1,"__proto__":{"to":"x"}}`],
    };
  }
  if (r < 99) return { kind: 'valid', frames: [JSON.stringify(tpl)] };
  return {
    kind: 'flood',
    frames: Array.from({ length: 10 + rng.int(30) }, () => '{"type":"ping"}'),
  };
}

export async function runSignalingFuzz(opts: SignalingFuzzOptions): Promise<SignalingFuzzReport> {
  const report: SignalingFuzzReport = {
    sent: 0,
    byKind: {},
    errorsByCode: {},
    closesByCode: {},
    connectionsOpened: 0,
    floodConnections: 0,
    floodFrames: 0,
    serverRejected: {},
    honestRoundTripsDuringStorm: 0,
    honestRoundTrips: 0,
    honestDisconnected: false,
    serverUp: false,
    rssBeforeMB: 0,
    rssPeakMB: 0,
    rssAfterMB: 0,
  };
  const bump = (rec: Record<string, number>, k: string, n = 1) => {
    rec[k] = (rec[k] ?? 0) + n;
  };

  // The honest pair: a sends a numbered signal, b echoes it, a counts round trips.
  const [ia, ib] = await Promise.all([createIdentity(subtle), createIdentity(subtle)]);
  const ma: Record<string, unknown>[] = [];
  const mb: Record<string, unknown>[] = [];
  const a = await open(opts.url, (m) => {
    ma.push(m);
    if (m.type === 'signal' && m.from === ib.id) report.honestRoundTrips++;
    if (ma.length > 100) ma.splice(0, 50);
  });
  const b = await open(opts.url, (m) => {
    mb.push(m);
    if (m.type === 'signal' && m.from === ia.id)
      b.send(JSON.stringify({ type: 'signal', to: ia.id, data: m.data }));
    if (mb.length > 100) mb.splice(0, 50);
  });
  await joinOn(a, 'fz-honest', ia, ma);
  await joinOn(b, 'fz-honest', ib, mb);
  let finishing = false;
  for (const ws of [a, b]) ws.on('close', () => (report.honestDisconnected ||= !finishing));
  let n = 0;
  const pump = setInterval(
    () => a.send(JSON.stringify({ type: 'signal', to: ib.id, data: { n: n++ } })),
    20,
  );

  report.rssBeforeMB = report.rssPeakMB = await rssMB(opts.httpUrl);
  const rssTimer = setInterval(() => {
    rssMB(opts.httpUrl).then(
      (mb) => {
        report.rssPeakMB = Math.max(report.rssPeakMB, mb);
        opts.onProgress?.(report);
      },
      () => {},
    );
  }, 1000);

  const attackers = await Promise.all(Array.from({ length: 6 }, () => createIdentity(subtle)));
  const targets = [ia.id, ib.id, ...attackers.map((x) => x.id)];

  /**
   * One attacker slot (its own PRNG, seeded from the run's seed and the slot):
   * batches of hostile draws, each followed by a marker of unknown type whose
   * answer proves the server read the whole batch. Only confirmed messages count.
   */
  async function attacker(slot: number): Promise<void> {
    const rng = createRng(opts.seed * 1000 + slot);
    let markerSeq = 0;
    while (report.sent < opts.messages) {
      const msgs: Record<string, unknown>[] = [];
      let answered: ((marker: string) => void) | null = null;
      let ws: WebSocket;
      try {
        ws = await open(opts.url, (m) => {
          if (m.type === 'error') {
            const marker = /"(fz-marker-[0-9-]+)"/.exec(String(m.message))?.[1];
            if (marker) return answered?.(marker);
            bump(report.errorsByCode, String(m.code));
          }
          if (m.type === 'challenge' || m.type === 'joined') msgs.push(m);
        });
      } catch {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      report.connectionsOpened++;
      let isClosed = false;
      const closed = new Promise<void>((ok) =>
        ws.once('close', (code) => {
          isClosed = true;
          bump(report.closesByCode, String(code));
          ok();
        }),
      );
      if (rng.chance(0.1)) {
        const grid = slot % 3 === 0 ? 'fz-honest' : `fz-${slot}`;
        await joinOn(ws, grid, rng.pick(attackers), msgs).catch(() => {});
      }
      if (rng.chance(0.03)) {
        // A flooder: far past the burst allowance in one go; the server must cut it.
        const n = 1_500 + rng.int(1_500);
        for (let i = 0; i < n; i++) ws.send('{"type":"ping"}');
        report.floodFrames += n;
        report.floodConnections++;
      }
      while (!isClosed && ws.readyState === ws.OPEN && report.sent < opts.messages) {
        const batch: [string, number][] = [];
        for (let i = 0; i < 8; i++) {
          const { kind, frames } = hostile(rng, targets);
          for (const f of frames) ws.send(f, { binary: typeof f !== 'string' });
          batch.push([kind, frames.length]);
        }
        const marker = `fz-marker-${slot}-${markerSeq++}`;
        ws.send(JSON.stringify({ type: marker }));
        const confirmed = await Promise.race([
          new Promise<boolean>((ok) => {
            answered = (m) => m === marker && ok(true);
          }),
          closed.then(() => false),
          new Promise<boolean>((r) => setTimeout(() => r(false), 500)),
        ]);
        if (!confirmed) break;
        for (const [kind, n] of batch) {
          report.sent += n;
          bump(report.byKind, kind, n);
        }
      }
      if (ws.readyState === ws.OPEN) ws.close();
      await closed;
    }
  }
  await Promise.all(Array.from({ length: opts.connections ?? 12 }, (_, i) => attacker(i)));

  report.honestRoundTripsDuringStorm = report.honestRoundTrips;
  // The storm is over: the honest pair must still relay, and the server answer.
  const before = report.honestRoundTrips;
  for (let i = 0; i < 300 && report.honestRoundTrips < before + 5; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  clearInterval(pump);
  clearInterval(rssTimer);
  try {
    report.serverUp = (await fetch(`${opts.httpUrl}/healthz`)).ok;
    report.rssAfterMB = await rssMB(opts.httpUrl);
    const text = await (await fetch(`${opts.httpUrl}/metrics`)).text();
    for (const m of text.matchAll(/rejected_total\{reason="([^"]+)"\} (\d+)/g)) {
      report.serverRejected[m[1]!] = Number(m[2]);
    }
  } catch {
    report.serverUp = false;
  }
  report.rssPeakMB = Math.max(report.rssPeakMB, report.rssAfterMB);
  finishing = true;
  a.close();
  b.close();
  return report;
}
