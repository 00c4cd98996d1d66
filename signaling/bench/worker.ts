/**
 * One bench peer process: opens its share of peers with real Ed25519 join
 * handshakes (paced), then runs the relay workload on pairs of its own peers
 * (sender → receiver, a closed loop with `window` signals in flight per pair).
 */
import { createIdentity, type Identity, type SubtleLike, signChallenge } from '@peergrid/shared';
import { WebSocket } from 'ws';
import { CANDIDATE, type WorkerCommand, type WorkerReport } from './protocol.ts';

const subtle = globalThis.crypto.subtle as unknown as SubtleLike;
const report = (r: WorkerReport) => process.send?.(r);

interface BenchPeer {
  ws: WebSocket;
  id: string;
  /** Called for every relayed signal this peer receives. */
  onSignal: (() => void) | null;
}
let peers: BenchPeer[] = [];
let peerjs: BenchPeer[] = [];

function join(url: string, grid: string, identity: Identity): Promise<BenchPeer> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const peer: BenchPeer = { ws, id: identity.id, onSignal: null };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', grid })));
    ws.on('error', fail);
    ws.on('close', () => fail(new Error('closed')));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"signal"')) return peer.onSignal?.();
      if (text.startsWith('{"type":"peer-')) return; // presence: a simulated peer ignores it
      const msg = JSON.parse(text) as { type: string; nonce?: string; serverId?: string };
      if (msg.type === 'challenge') {
        const fields = { serverId: String(msg.serverId), grid, nonce: String(msg.nonce) };
        void signChallenge(identity, fields).then((signature) =>
          ws.send(
            JSON.stringify({
              type: 'join',
              grid,
              publicKey: identity.publicKeyText,
              signature,
              capabilities: {
                runtime: 'node',
                backends: ['cpu'],
                cores: 2,
                memoryMB: 1024,
                maxConcurrency: 1,
              },
            }),
          ),
        );
      } else if (msg.type === 'joined') ok(peer);
      else if (msg.type === 'error') fail(new Error(text));
    });
  });
}

async function joinAll(c: WorkerCommand & { cmd: 'join' }): Promise<void> {
  const identities: Identity[] = [];
  for (let i = 0; i < c.count; i++) identities.push(await createIdentity(subtle));
  const latencies: number[] = [];
  let failed = 0;
  let started = 0;
  const t0 = performance.now();
  const progress = setInterval(
    () => report({ kind: 'progress', joined: latencies.length, failed }),
    1000,
  );
  peers = new Array(c.count);
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const due = Math.min(
        c.count,
        Math.floor(((performance.now() - t0) * c.ratePerSec) / 1000) + 1,
      );
      for (; started < due; started++) {
        const i = started;
        const grid = `g${Math.floor((c.first + i) / c.gridSize)}`;
        const t = performance.now();
        join(c.urls[(c.first + i) % c.urls.length]!, grid, identities[i]!).then(
          (p) => {
            latencies.push(performance.now() - t);
            peers[i] = p;
            if (latencies.length + failed === c.count) done();
          },
          () => {
            failed++;
            if (latencies.length + failed === c.count) done();
          },
        );
      }
      if (started === c.count) clearInterval(tick);
    }, 5);
  });
  clearInterval(progress);
  report({ kind: 'joined', latenciesMs: latencies, failed });
}

async function connectPeerjs(c: WorkerCommand & { cmd: 'peerjs-connect' }): Promise<void> {
  peerjs = await Promise.all(
    Array.from({ length: c.pairs * 2 }, (_, i) => {
      const id = `${c.tag}-${i}`;
      return new Promise<BenchPeer>((ok, fail) => {
        const ws = new WebSocket(`${c.url}/peerjs?key=peerjs&id=${id}&token=t${i}`, {
          perMessageDeflate: false,
        });
        const peer: BenchPeer = { ws, id, onSignal: null };
        ws.on('error', fail);
        ws.on('message', (data) => {
          const text = data.toString();
          if (text.startsWith('{"type":"CANDIDATE"')) return peer.onSignal?.();
          if (text.includes('"OPEN"')) ok(peer);
        });
      });
    }),
  );
  report({ kind: 'connected' });
}

/** Sends within one tick leave in one write (the server does the same). */
function corkedSender(ws: WebSocket): (text: string) => void {
  const tcp = (ws as unknown as { _socket?: import('node:net').Socket })._socket;
  let corked = false;
  return (text) => {
    if (!corked && tcp) {
      corked = true;
      tcp.cork();
      process.nextTick(() => {
        corked = false;
        tcp.uncork();
      });
    }
    ws.send(text);
  };
}

async function relay(c: WorkerCommand & { cmd: 'relay' }): Promise<void> {
  const pool = c.target === 'peergrid' ? peers : peerjs;
  const message = (to: string) =>
    c.target === 'peergrid'
      ? JSON.stringify({ type: 'signal', to, data: CANDIDATE })
      : JSON.stringify({
          type: 'CANDIDATE',
          dst: to,
          payload: { candidate: CANDIDATE, type: 'media', connectionId: 'mc_bench' },
        });
  let received = 0;
  let counting = false;
  for (let k = 0; k + 1 < pool.length && k / 2 < c.pairs; k += 2) {
    const sender = pool[k];
    const receiver = pool[k + 1];
    if (!sender || !receiver) continue;
    const text = message(receiver.id);
    const send = corkedSender(sender.ws);
    receiver.onSignal = () => {
      if (counting) received++;
      send(text);
    };
    for (let w = 0; w < c.window; w++) send(text);
  }
  await new Promise((r) => setTimeout(r, c.warmupMs));
  counting = true;
  const t = performance.now();
  await new Promise((r) => setTimeout(r, c.durationMs));
  counting = false;
  const durationMs = performance.now() - t;
  for (const p of pool) if (p) p.onSignal = null;
  await new Promise((r) => setTimeout(r, 300)); // let in-flight signals drain
  report({ kind: 'relayed', received, durationMs });
}

process.on('message', (c: WorkerCommand) => {
  if (c.cmd === 'join') void joinAll(c);
  else if (c.cmd === 'peerjs-connect') void connectPeerjs(c);
  else if (c.cmd === 'relay') void relay(c);
  else {
    for (const p of [...peers, ...peerjs]) p?.ws.terminate();
    process.exit(0);
  }
});
