/**
 * `npm run bench:signaling`: the signaling server and N simulated peers in
 * separate processes. Measures join latency (socket open → `joined`, with a
 * real Ed25519 challenge), relay throughput with all peers connected, and the
 * server's RSS; then runs the same relay workload against the stock PeerJS
 * server. Last line: one JSON object.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type RedisProcess, startRedis } from '../test/redis-process.ts';
import type { WorkerCommand, WorkerReport } from './protocol.ts';

const HELP = `npm run bench:signaling -- [options]

  --peers N          simulated peers joining the server (default 2000)
  --workers N        peer processes (default 2)
  --grid-size N      peers per grid (default 50)
  --join-rate N      joins per second, all workers together (default 250)
  --relay-pairs N    sender→receiver pairs in the relay workload (default 200)
  --window N         signals in flight per pair (default 32)
  --seconds N        relay measurement time per round and server (default 3)
  --rounds N         alternating relay rounds, best of each reported (default 3)
  --instances N      signaling processes sharing one Redis (default 1; N > 1 needs --redis);
                     peers are spread round-robin, so grids and relay pairs span instances
  --redis            use the Redis bus: the bench starts its own redis-server
  -h, --help
`;

const { values } = parseArgs({
  options: {
    peers: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '2' },
    'grid-size': { type: 'string', default: '50' },
    'join-rate': { type: 'string', default: '250' },
    'relay-pairs': { type: 'string', default: '200' },
    window: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    instances: { type: 'string', default: '1' },
    redis: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const num = (k: keyof typeof values) => Number(values[k]);
const peers = num('peers');
const workersN = num('workers');
const gridSize = num('grid-size');
const rounds = num('rounds');
const instances = num('instances');
const useRedis = values.redis === true;
if (instances > 1 && !useRedis) {
  process.stderr.write('--instances N > 1 needs --redis\n');
  process.exit(2);
}
const pairs = Math.min(num('relay-pairs'), Math.floor(peers / 2));
const relayOpts = { window: num('window'), warmupMs: 1000, durationMs: num('seconds') * 1000 };
const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);
const here = import.meta.dirname;
const children: ChildProcess[] = [];
let redis: RedisProcess | null = null;

function startChild(
  args: string[],
  ready: RegExp,
): Promise<{ proc: ChildProcess; match: RegExpMatchArray }> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(proc);
  return new Promise((ok, fail) => {
    let out = '';
    proc.stdout?.on('data', (d) => {
      out += d;
      const m = out.match(ready);
      if (m) ok({ proc, match: m });
    });
    proc.on('exit', (code) => fail(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

interface Worker {
  send(c: WorkerCommand): void;
  next<K extends WorkerReport['kind']>(kind: K): Promise<WorkerReport & { kind: K }>;
  progress: { joined: number; failed: number };
}

function startWorker(): Worker {
  const proc = fork(resolve(here, 'worker.ts'), [], { execArgv: ['--import', 'tsx'] });
  children.push(proc);
  const waiting = new Map<string, (r: WorkerReport) => void>();
  const w: Worker = {
    progress: { joined: 0, failed: 0 },
    send: (c) => proc.send(c),
    next: (kind) => new Promise((ok) => waiting.set(kind, ok as (r: WorkerReport) => void)),
  };
  proc.on('message', (r: WorkerReport) => {
    if (r.kind === 'progress') w.progress = r;
    waiting.get(r.kind)?.(r);
  });
  return w;
}

async function rssMB(httpUrl: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const m = text.match(/^process_resident_memory_bytes (\d+)$/m);
  return m ? Number(m[1]) / 2 ** 20 : Number.NaN;
}

async function relayAll(workers: Worker[], target: 'peergrid' | 'peerjs'): Promise<number> {
  const share = Math.ceil(pairs / workers.length);
  const results = workers.map((w) => w.next('relayed'));
  for (const w of workers) w.send({ cmd: 'relay', target, pairs: share, ...relayOpts });
  const rs = await Promise.all(results);
  return rs.reduce((s, r) => s + (r.received / r.durationMs) * 1000, 0);
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function main(): Promise<void> {
  const bin = resolve(here, '../bin/peergrid-signaling.js');
  if (useRedis) {
    redis = await startRedis();
    log(`redis-server at ${redis.url}`);
  }
  const serverArgs = [
    bin,
    '--port',
    '0',
    '--host',
    '127.0.0.1',
    // The relay workload runs far past a browser's needs; lift the per-peer rate limit.
    '--messages-per-second',
    '1000000',
    '--message-burst',
    '1000000',
    '--peers-per-grid',
    String(gridSize),
    '--max-connections',
    String(peers + 1000),
    '--grids-per-server',
    String(Math.ceil(peers / gridSize) + 10),
    '--join-timeout-ms',
    '60000',
    ...(redis ? ['--redis', redis.url, '--redis-prefix', 'bench:'] : []),
  ];
  const httpUrls = await Promise.all(
    Array.from({ length: instances }, async () => {
      const { match } = await startChild(serverArgs, /listening on (http:\/\/[^\s]+)/);
      return match[1]!;
    }),
  );
  const wsUrls = httpUrls.map((u) => u.replace('http', 'ws'));
  log(
    `peergrid-signaling at ${httpUrls.join(', ')}${redis ? ' (Redis bus)' : ''}; ${workersN} peer processes, ${peers} peers, grids of ${gridSize}`,
  );
  const workers = Array.from({ length: workersN }, startWorker);

  // Joins: contiguous, even-sized slices so relay pairs share a grid.
  const per = Math.ceil(peers / workersN / 2) * 2;
  const joinedAll = workers.map((w) => w.next('joined'));
  workers.forEach((w, i) => {
    const first = i * per;
    const count = Math.max(0, Math.min(per, peers - first));
    w.send({
      cmd: 'join',
      urls: wsUrls,
      first,
      count,
      gridSize,
      ratePerSec: num('join-rate') / workersN,
    });
  });
  const progress = setInterval(() => {
    const joined = workers.reduce((s, w) => s + w.progress.joined, 0);
    const failed = workers.reduce((s, w) => s + w.progress.failed, 0);
    log(`joined ${joined}/${peers}${failed ? ` (${failed} failed)` : ''}`);
  }, 2000);
  const joins = await Promise.all(joinedAll);
  clearInterval(progress);
  const lat = joins.flatMap((j) => j.latenciesMs).sort((a, b) => a - b);
  const failed = joins.reduce((s, j) => s + j.failed, 0);
  const rssAll = async () => Promise.all(httpUrls.map(rssMB));
  let rssEach = await rssAll();
  const rssJoined = Math.max(...rssEach);
  log(
    `joined ${lat.length} (failed ${failed}); join p50 ${pct(lat, 50).toFixed(1)} ms, p90 ${pct(lat, 90).toFixed(1)} ms, p99 ${pct(lat, 99).toFixed(1)} ms; server RSS ${rssJoined.toFixed(0)} MB`,
  );

  const port = await freePort();
  await startChild(
    ['--import', 'tsx', resolve(here, 'peerjs-server.ts'), String(port)],
    /listening on/,
  );
  const connected = workers.map((w) => w.next('connected'));
  workers.forEach((w, i) => {
    w.send({
      cmd: 'peerjs-connect',
      url: `ws://127.0.0.1:${port}`,
      pairs: Math.ceil(pairs / workersN),
      tag: `w${i}`,
    });
  });
  await Promise.all(connected);
  log(
    `peerjs server on ${port}; relay: ${pairs} pairs, window ${relayOpts.window}, ${rounds} rounds of ${relayOpts.durationMs / 1000} s each`,
  );

  // Alternating rounds, best of each: a noisy neighbour then hurts both sides alike.
  let relay = 0;
  let peerjs = 0;
  let rss = rssJoined;
  for (let r = 1; r <= rounds; r++) {
    const ours = await relayAll(workers, 'peergrid');
    const now = await rssAll();
    rssEach = rssEach.map((x, i) => Math.max(x, now[i] ?? 0));
    rss = Math.max(rss, ...now);
    const theirs = await relayAll(workers, 'peerjs');
    log(
      `round ${r}: peergrid ${ours.toFixed(0)} msg/s, peerjs ${theirs.toFixed(0)} msg/s; server RSS ${rss.toFixed(0)} MB`,
    );
    relay = Math.max(relay, ours);
    peerjs = Math.max(peerjs, theirs);
  }

  for (const w of workers) w.send({ cmd: 'exit' });
  const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
  const result = {
    ...(instances > 1 || redis ? { instances, redis: redis !== null } : {}),
    peers: lat.length,
    joinP50Ms: round(pct(lat, 50)),
    joinP99Ms: round(pct(lat, 99)),
    relayMsgPerSec: Math.round(relay),
    peerjsRelayMsgPerSec: Math.round(peerjs),
    relayRatioVsPeerjs: round(relay / peerjs, 2),
    rssMB: round(rss, 0),
    ...(instances > 1
      ? {
          rssTotalMB: round(
            rssEach.reduce((a, b) => a + b, 0),
            0,
          ),
        }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function cleanup(): void {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  redis?.proc.kill('SIGKILL');
}
main().then(
  () => {
    cleanup();
    process.exit(0);
  },
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : err}\n`);
    cleanup();
    process.exit(1);
  },
);
