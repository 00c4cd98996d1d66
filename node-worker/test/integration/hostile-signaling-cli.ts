/**
 * A hostile signaling server for e2e tests: a WebSocket proxy in front of
 * the real one that relays everything faithfully except the first
 * `--swaps N` session descriptions it delivers to its clients, which it
 * replaces with descriptions of its own (real RTCPeerConnections, made with
 * node-datachannel), keeping the honest peer's proof beside them. A peer that
 * binds channels to keys refuses those; the next attempt passes unharmed.
 *
 *   node --import tsx node-worker/test/integration/hostile-signaling-cli.ts \
 *     --upstream ws://127.0.0.1:PORT/ws [--port 0] [--swaps 1]
 *
 * Prints `listening on ws://127.0.0.1:PORT/ws`, then one `swapped <offer|answer>
 * from <peer id>` line per swap.
 */
import { parseArgs } from 'node:util';
import WebSocket, { WebSocketServer } from 'ws';
import { createNodeWrtc } from '../../src/transport/node-wrtc.ts';
import { createMallory } from './hostile-relay.ts';

const HELP = `Usage: hostile-signaling-cli --upstream ws://HOST:PORT/ws [--port P] [--swaps N]

A signaling proxy that swaps the first N offers/answers it delivers for its own.
  --upstream URL   the real signaling server (required)
  --port P         port to listen on, 127.0.0.1 (0: any free port)   default: 0
  --swaps N        descriptions to swap                              default: 1
  -h, --help       this help`;

type Msg = { type?: string; from?: string; to?: string; data?: unknown };
type Env = { pg?: string; s?: string; d?: { type?: string; sdp?: string } };

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      upstream: { type: 'string' },
      port: { type: 'string', default: '0' },
      swaps: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const upstream = values.upstream;
  const port = Number(values.port);
  let swapsLeft = Number(values.swaps);
  if (!upstream || !/^wss?:\/\//.test(upstream)) throw new Error('--upstream ws://… is required');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port: 0-65535');
  if (!Number.isInteger(swapsLeft) || swapsLeft < 0) throw new Error('--swaps: an integer ≥ 0');

  const native = await createNodeWrtc('ndc');
  const mallory = createMallory(native);
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  wss.on('connection', (client) => {
    const server = new WebSocket(upstream);
    const early: string[] = [];
    /** The client's own offers, by the peer it sent them to: Mallory answers those herself. */
    const offersSent = new Map<string, unknown>();
    let toClient: Promise<void> = Promise.resolve();
    server.on('open', () => {
      for (const m of early.splice(0)) server.send(m);
    });
    client.on('message', (raw) => {
      const text = raw.toString();
      const m = parse(text);
      const env = m?.data as Env | undefined;
      if (m?.type === 'signal' && m.to && env?.d?.type === 'offer') offersSent.set(m.to, env.d);
      if (server.readyState === WebSocket.OPEN) server.send(text);
      else early.push(text);
    });
    server.on('message', (raw) => {
      const text = raw.toString();
      toClient = toClient.then(async () => {
        const out = await tamper(text);
        if (client.readyState === WebSocket.OPEN) client.send(out);
      });
    });
    async function tamper(text: string): Promise<string> {
      const m = parse(text);
      const env = m?.data as Env | undefined;
      const type = env?.d?.type;
      if (swapsLeft <= 0 || m?.type !== 'signal' || env?.pg !== 'sig' || !m.from) return text;
      if (type !== 'offer' && type !== 'answer') return text;
      const theirOffer = offersSent.get(m.from);
      if (type === 'answer' && !theirOffer) return text;
      swapsLeft--;
      const own = type === 'offer' ? await mallory.ownOffer() : await mallory.ownAnswer(theirOffer);
      console.log(`swapped ${type} from ${m.from}`);
      return JSON.stringify({ ...m, data: { ...env, d: own } });
    }
    const end = () => {
      client.close();
      server.close();
    };
    client.on('close', end);
    server.on('close', end);
    client.on('error', end);
    server.on('error', end);
  });
  wss.on('listening', () => {
    const a = wss.address();
    const p = typeof a === 'object' && a ? a.port : port;
    console.log(`listening on ws://127.0.0.1:${p}/ws`);
  });
  const stop = () => {
    mallory.close();
    wss.close();
    void native.shutdown().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

function parse(text: string): Msg | null {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Msg) : null;
  } catch {
    return null;
  }
}

main().catch((err: unknown) => {
  console.error(`hostile-signaling-cli: ${(err as Error).message}`);
  process.exit(1);
});
