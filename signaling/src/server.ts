/** The signaling server: HTTP (static, /healthz, /metrics) and the WebSocket endpoint on one port. */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SubtleLike } from '@peergrid/shared';
import { WebSocketServer } from 'ws';
import { createMemoryBus, type GridBus } from './bus.ts';
import { handleConnection } from './connection.ts';
import { iceServersFor } from './ice.ts';
import { createMetrics } from './metrics.ts';
import { DEFAULT_LIMITS, type SignalingServerOptions } from './options.ts';
import { createRedisBus } from './redis-bus.ts';
import { send, serveStatic } from './static-files.ts';

export interface RunningSignalingServer {
  readonly port: number;
  /** http://host:port (the WebSocket endpoint is the same origin with ws://). */
  readonly url: string;
  readonly bus: GridBus;
  close(): Promise<void>;
}

export const DEFAULT_STATIC_DIR = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../web-client/dist',
);

export async function startSignalingServer(
  options: SignalingServerOptions = {},
  bus?: GridBus,
): Promise<RunningSignalingServer> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const staticDir = options.staticDir ?? DEFAULT_STATIC_DIR;
  const metrics = createMetrics();
  const gridBus =
    bus ??
    (options.redis
      ? await createRedisBus({
          url: options.redis,
          limits,
          ...(options.redisKeyPrefix === undefined ? {} : { keyPrefix: options.redisKeyPrefix }),
          ...(options.redisHeartbeatMs === undefined
            ? {}
            : { heartbeatMs: options.redisHeartbeatMs }),
          ...(options.log === undefined ? {} : { log: options.log }),
        })
      : createMemoryBus(limits));
  const allowed = options.allowedOrigins ? new Set(options.allowedOrigins) : null;
  const serverId = randomBytes(9).toString('base64url');
  const ctx = {
    serverId,
    bus: gridBus,
    metrics,
    limits,
    subtle: globalThis.crypto.subtle as unknown as SubtleLike,
    tokenSecret: options.tokenSecret,
    tokenGrids: options.tokenGrids ? new Set(options.tokenGrids) : undefined,
    iceServersFor: (id: string) =>
      iceServersFor(
        options.iceServers ?? [],
        id,
        options.turnSecret,
        options.turnTtlSeconds ?? 86_400,
      ),
  };

  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      return send(res, 200, 'application/json', JSON.stringify({ ok: true, ...gridBus.stats() }));
    }
    if (path === '/metrics') {
      return send(res, 200, 'text/plain; version=0.0.4', metrics.render(gridBus.stats()));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    serveStatic(staticDir, req, res).catch(() => res.destroy());
  });

  const wss = new WebSocketServer({
    server: http,
    maxPayload: limits.maxMessageBytes,
    perMessageDeflate: false,
    // Text frames go through JSON.parse(buffer.toString()), which maps invalid UTF-8 to U+FFFD.
    skipUTF8Validation: true,
    clientTracking: true,
    verifyClient: (info, done) => {
      const origin = info.origin;
      if (allowed && origin && !allowed.has(origin)) {
        metrics.reject('origin-refused');
        return done(false, 403, 'origin not allowed');
      }
      if (wss.clients.size >= limits.maxConnections) {
        metrics.reject('server-full');
        return done(false, 503, 'server full');
      }
      done(true);
    },
  });
  // Heartbeats are spread over the interval (one slot per second) so 10k sockets
  // are not pinged in one burst that stalls joins and relays.
  const slots = Math.max(1, Math.round(limits.heartbeatIntervalMs / 1000));
  const alive = new WeakMap<object, { alive: boolean; slot: number }>();
  let connectionCount = 0;
  let tick = 0;
  wss.on('connection', (ws, req) => {
    // The upgraded request's socket is the one the WebSocket writes to.
    const state = handleConnection(ws, ctx, req.socket);
    alive.set(ws, Object.assign(state, { slot: connectionCount++ % slots }));
  });
  wss.on('error', () => {}); // errors surface on the http server

  const heartbeat = setInterval(() => {
    const slot = tick++ % slots;
    for (const ws of wss.clients) {
      const s = alive.get(ws);
      if (!s || s.slot !== slot) continue;
      if (!s.alive) {
        metrics.reject('heartbeat-timeout');
        ws.terminate();
        continue;
      }
      s.alive = false;
      ws.ping();
    }
  }, limits.heartbeatIntervalMs / slots);
  heartbeat.unref();

  await new Promise<void>((ok, fail) => {
    http.once('error', fail);
    http.listen(options.port ?? 8787, options.host ?? '0.0.0.0', () => {
      http.off('error', fail);
      ok();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = !options.host || options.host === '0.0.0.0' ? 'localhost' : options.host;
  const url = `http://${shownHost}:${port}`;
  options.log?.(`peergrid-signaling listening on ${url} (static: ${staticDir})`);

  return {
    port,
    url,
    bus: gridBus,
    async close() {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      http.closeAllConnections();
      await new Promise<void>((ok) => http.close(() => ok()));
      await gridBus.close();
    },
  };
}
