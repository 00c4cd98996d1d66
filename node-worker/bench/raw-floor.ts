/**
 * The floor under bench:grid's efficiencies: what a donor's CPU must pay to
 * take a task's bytes off a bare data channel and put the result's back,
 * with no PeerGrid framing. A child on the donors' cores answers every
 * `bytes` it receives (in 16 KiB messages) with as many bytes; this process
 * (on the submitter's core) is the other end. The child's CPU per round trip
 * is the floor: `limit = compute ÷ (compute + floor)`.
 *
 * The child reads simple-peer signals as JSON lines on stdin and writes its
 * own on stdout, then `{"cpuMsPerRoundTrip":…}`.
 */
import { parseArgs } from 'node:util';
import { CHUNK_BYTES } from '@peergrid/shared';
import SimplePeer from 'simple-peer';
import { createNodeWrtc } from '../src/transport/node-wrtc.ts';
import { onLines, spawnBenchChild } from './child.ts';
import type { Pinning } from './pinning.ts';

export interface FloorFigures {
  /** Donor-side CPU to receive `bytes` and send `bytes` back, ms. */
  readonly cpuMsPerRoundTrip: number;
  readonly bytes: number;
  readonly rounds: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function sendBytes(peer: SimplePeer.Instance, bytes: number): void {
  for (let at = 0; at < bytes; at += CHUNK_BYTES) {
    peer.send(new Uint8Array(Math.min(CHUNK_BYTES, bytes - at)));
  }
}

/** Measures the floor against a child on the donors' cores. */
export async function measureFloor(
  pinning: Pinning,
  bytes = 64 * 1024,
  rounds = 400,
  warmup = 50,
): Promise<FloorFigures> {
  const args = ['--bytes', String(bytes), '--rounds', String(rounds), '--warmup', String(warmup)];
  const child = spawnBenchChild(pinning, './raw-floor.ts', args, 'pipe');
  const native = await createNodeWrtc('ndc');
  const peer = new SimplePeer({ initiator: true, trickle: true, wrtc: native.wrtc as never });
  let report: FloorFigures | undefined;
  const reported = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      report ? resolve() : reject(new Error(`floor child exited ${code}`)),
    );
    onLines(child, (line) => {
      const m = JSON.parse(line) as { signal?: unknown; cpuMsPerRoundTrip?: number };
      if (m.signal) peer.signal(m.signal as SimplePeer.SignalData);
      else if (m.cpuMsPerRoundTrip !== undefined) report = m as FloorFigures;
    });
  });
  peer.on('signal', (s) => child.stdin?.write(`${JSON.stringify({ signal: s })}\n`));
  await new Promise((r) => peer.once('connect', r));
  let got = 0;
  let round = 0;
  const done = new Promise<void>((resolve) => {
    peer.on('data', (d: Uint8Array) => {
      got += d.byteLength;
      if (got < bytes) return;
      got -= bytes;
      if (++round >= rounds + warmup) return resolve();
      sendBytes(peer, bytes);
    });
  });
  sendBytes(peer, bytes);
  await done;
  await reported;
  peer.destroy();
  await native.shutdown();
  return report!;
}

async function childMain(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      bytes: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
    },
  });
  const bytes = Number(v.bytes);
  const rounds = Number(v.rounds);
  const warmup = Number(v.warmup);
  const native = await createNodeWrtc('ndc');
  const peer = new SimplePeer({ initiator: false, trickle: true, wrtc: native.wrtc as never });
  const out = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  peer.on('signal', (s) => out({ signal: s }));
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) peer.signal((JSON.parse(line) as { signal: SimplePeer.SignalData }).signal);
    }
  });
  let got = 0;
  let round = 0;
  let t0 = 0;
  peer.on('data', (d: Uint8Array) => {
    got += d.byteLength;
    if (got < bytes) return;
    got -= bytes;
    round++;
    if (round === warmup) t0 = cpuMs();
    sendBytes(peer, bytes);
    if (round === warmup + rounds) {
      out({ cpuMsPerRoundTrip: (cpuMs() - t0) / rounds, bytes, rounds });
      // node-datachannel lingers after destroy: leave explicitly once the bytes are out.
      setTimeout(() => process.exit(0), 300);
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  childMain().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
