/** `peergrid-signaling` command line: flags → SignalingServerOptions. */
import { parseArgs } from 'node:util';
import { parseIceServersArg } from './ice.ts';
import { DEFAULT_LIMITS, type SignalingLimits, type SignalingServerOptions } from './options.ts';
import { DEFAULT_STATIC_DIR, startSignalingServer } from './server.ts';
import { createJoinToken } from './tokens.ts';

const LIMIT_FLAGS: Record<string, keyof SignalingLimits> = {
  'max-message-bytes': 'maxMessageBytes',
  'signal-payload-bytes': 'signalPayloadBytes',
  'messages-per-second': 'messagesPerSecond',
  'message-burst': 'messageBurst',
  'max-strikes': 'maxStrikes',
  'peers-per-grid': 'peersPerGrid',
  'grids-per-server': 'gridsPerServer',
  'max-connections': 'maxConnections',
  'join-timeout-ms': 'joinTimeoutMs',
  'heartbeat-interval-ms': 'heartbeatIntervalMs',
};

export const HELP = `peergrid-signaling — PeerGrid signaling server and web-client host

Usage: peergrid-signaling [options]

  --port N                 TCP port (env PORT; default 8787; 0 = any free port)
  --host ADDR              interface to bind (default 0.0.0.0)
  --static DIR             built web client (default ${DEFAULT_STATIC_DIR})
  --allowed-origins LIST   comma-separated Origins allowed to connect (default: any)
  --token-secret S         require HMAC join tokens (env PEERGRID_TOKEN_SECRET)
  --token-grids LIST       only these grids require a token (default: all)
  --mint-token GRID        print a join token for GRID (needs --token-secret) and exit
  --token-ttl SECONDS      lifetime of a minted token (default 86400)
  --ice-servers LIST       STUN/TURN URLs, comma-separated, or a JSON RTCIceServer[] (default none)
  --turn-secret S          TURN REST shared secret (env PEERGRID_TURN_SECRET)
  --turn-ttl SECONDS       lifetime of TURN credentials (default 86400)
${Object.entries(LIMIT_FLAGS)
  .map(([flag, key]) => `  --${flag.padEnd(23)} default ${DEFAULT_LIMITS[key]}`)
  .join('\n')}
  --redis URL              share presence and relay with other instances via Redis (env PEERGRID_REDIS)
  --redis-prefix P         key/channel prefix in Redis (default peergrid:)
  --redis-heartbeat-ms N   instance heartbeat; dead after 5 missed (default 1000)
  --quiet                  no log lines
  -h, --help               this text
`;

export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      static: { type: 'string' },
      'allowed-origins': { type: 'string' },
      'token-secret': { type: 'string' },
      'token-grids': { type: 'string' },
      'mint-token': { type: 'string' },
      'token-ttl': { type: 'string' },
      'ice-servers': { type: 'string' },
      'turn-secret': { type: 'string' },
      'turn-ttl': { type: 'string' },
      redis: { type: 'string' },
      'redis-prefix': { type: 'string' },
      'redis-heartbeat-ms': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...Object.fromEntries(Object.keys(LIMIT_FLAGS).map((f) => [f, { type: 'string' as const }])),
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const tokenSecret = values['token-secret'] ?? process.env.PEERGRID_TOKEN_SECRET;
  if (values['mint-token'] !== undefined) {
    if (!tokenSecret) throw new Error('--mint-token needs --token-secret');
    const ttl = int('token-ttl', values['token-ttl'] ?? '86400');
    process.stdout.write(`${createJoinToken(tokenSecret, values['mint-token'], ttl)}\n`);
    return;
  }
  const limits: Partial<Record<keyof SignalingLimits, number>> = {};
  for (const [flag, key] of Object.entries(LIMIT_FLAGS)) {
    const v = (values as Record<string, unknown>)[flag];
    if (typeof v === 'string') limits[key] = int(flag, v);
  }
  const ice = values['ice-servers'] === undefined ? [] : parseIceServersArg(values['ice-servers']);
  if (!ice) throw new Error('--ice-servers: expected stun:/turn: URLs or a JSON RTCIceServer[]');
  const list = (s: string | undefined) =>
    s
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const quiet = values.quiet === true;
  const redis = values.redis ?? process.env.PEERGRID_REDIS;
  const options: SignalingServerOptions = {
    port: int('port', values.port ?? process.env.PORT ?? '8787'),
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.static === undefined ? {} : { staticDir: values.static }),
    ...(values['allowed-origins'] === undefined
      ? {}
      : { allowedOrigins: list(values['allowed-origins']) }),
    ...(tokenSecret === undefined ? {} : { tokenSecret }),
    ...(values['token-grids'] === undefined ? {} : { tokenGrids: list(values['token-grids']) }),
    iceServers: ice,
    turnSecret: values['turn-secret'] ?? process.env.PEERGRID_TURN_SECRET,
    turnTtlSeconds: int('turn-ttl', values['turn-ttl'] ?? '86400'),
    limits,
    ...(redis === undefined ? {} : { redis }),
    ...(values['redis-prefix'] === undefined ? {} : { redisKeyPrefix: values['redis-prefix'] }),
    ...(values['redis-heartbeat-ms'] === undefined
      ? {}
      : { redisHeartbeatMs: int('redis-heartbeat-ms', values['redis-heartbeat-ms']) }),
    log: quiet ? () => {} : (line) => process.stdout.write(`${line}\n`),
  };
  let server: Awaited<ReturnType<typeof startSignalingServer>> | null = null;
  const stop = () => {
    (server?.close() ?? Promise.resolve()).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  server = await startSignalingServer(options);
}

function int(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`--${flag}: expected a non-negative integer, got ${v}`);
  return n;
}
