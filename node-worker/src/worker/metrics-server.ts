/**
 * `--metrics-port`: an HTTP server with the worker's Prometheus metrics at
 * GET /metrics (HEAD too); / says where they are, anything else is 404 and
 * other methods 405. A scrape that fails answers 500 with the reason.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerMetrics } from './metrics.ts';

export interface MetricsServer {
  /** `http://host:port/metrics`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `host:port` (0 = any free port); rejects when it cannot (port taken). */
export function startMetricsServer(
  metrics: WorkerMetrics,
  port: number,
  host: string,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res
        .writeHead(200, { 'content-type': 'text/plain' })
        .end('peergrid-worker: metrics at /metrics\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.scrape().then(
      ({ text, contentType }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${String(err)}\n`);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = (server.address() as AddressInfo).port;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({
        url: `http://${shown}:${bound}/metrics`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
