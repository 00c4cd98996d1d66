/**
 * `npm run fuzz -- [--messages N] [--seed S]`: the signaling storm against a
 * fresh server (its own process, default limits), then the peer-protocol
 * fuzzer. Progress lines on stdout; the last line is one JSON object.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runPeerFuzz } from './peer-fuzz.ts';
import { runSignalingFuzz } from './signaling-fuzz.ts';

const HELP = `npm run fuzz -- [options]

  --messages N      hostile messages per protocol (default 100000)
  --seed S          PRNG seed; the same seed replays the same run (default 1)
  --connections N   attacker sockets at once against the server (default 12)
  --url WS_URL      fuzz a running server instead of starting one (needs --http)
  --http HTTP_URL   its http:// URL (for /metrics and /healthz)
  -h, --help
`;

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    connections: { type: 'string', default: '12' },
    url: { type: 'string' },
    http: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const messages = Number(values.messages);
const seed = Number(values.seed);
const log = (line: string) => process.stdout.write(`[fuzz] ${line}\n`);
let server: ChildProcess | null = null;

function startServer(): Promise<string> {
  const bin = resolve(import.meta.dirname, '../bin/peergrid-signaling.js');
  server = spawn(process.execPath, [bin, '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    server?.stdout?.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) ok(m[1]!);
    });
    server?.on('exit', (code) => fail(new Error(`server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const httpUrl = values.http ?? (await startServer());
  const url = values.url ?? httpUrl.replace('http', 'ws');
  log(`signaling storm: ${messages} messages, seed ${seed}, against ${url}`);
  const sig = await runSignalingFuzz({
    url,
    httpUrl,
    messages,
    seed,
    connections: Number(values.connections),
    onProgress: (r) =>
      log(
        `signaling: sent ${r.sent}/${messages}, sockets opened ${r.connectionsOpened}, honest round trips ${r.honestRoundTrips}, server RSS ${r.rssPeakMB} MB peak`,
      ),
  });
  log(`signaling done: ${JSON.stringify(sig.byKind)}; errors ${JSON.stringify(sig.errorsByCode)}`);
  log(`peer protocol: ${messages} chunks, seed ${seed}`);
  const peer = await runPeerFuzz({
    messages,
    seed,
    onProgress: (r) =>
      log(
        `peer: sent ${r.sent}/${messages}, links closed ${r.linksClosedMisbehaving}, RSS ${r.rssPeakMB} MB peak`,
      ),
  });
  log(`peer done: ${JSON.stringify(peer.byKind)}`);
  const ok =
    sig.serverUp &&
    !sig.honestDisconnected &&
    sig.honestRoundTripsDuringStorm > 0 &&
    peer.threw === 0 &&
    peer.wrongCloses === 0;
  const result = {
    ok,
    seed,
    signaling: {
      messages: sig.sent,
      connectionsOpened: sig.connectionsOpened,
      floodConnections: sig.floodConnections,
      floodFrames: sig.floodFrames,
      serverRejected: sig.serverRejected,
      errorsByCode: sig.errorsByCode,
      closesByCode: sig.closesByCode,
      serverUp: sig.serverUp,
      honestRelayCompleted: sig.honestRoundTripsDuringStorm > 0 && !sig.honestDisconnected,
      honestRoundTripsDuringStorm: sig.honestRoundTripsDuringStorm,
      rssBeforeMB: sig.rssBeforeMB,
      rssPeakMB: sig.rssPeakMB,
      rssAfterMB: sig.rssAfterMB,
    },
    peer: {
      messages: peer.sent,
      threw: peer.threw,
      linksClosedMisbehaving: peer.linksClosedMisbehaving,
      wrongCloses: peer.wrongCloses,
      wrongCloseReasons: peer.wrongCloseReasons,
      honestSent: peer.honestSent,
      honestDelivered: peer.honestDelivered,
      rssBeforeMB: peer.rssBeforeMB,
      rssPeakMB: peer.rssPeakMB,
      rssAfterMB: peer.rssAfterMB,
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!ok) process.exitCode = 1;
}

main()
  .catch((err) => {
    process.stderr.write(`fuzz failed: ${err instanceof Error ? err.stack : err}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    server?.kill('SIGKILL');
    process.exit();
  });
