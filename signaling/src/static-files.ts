/**
 * Static hosting of the built web client. Every response carries the headers
 * that make the page cross-origin isolated (WASM threads need
 * SharedArrayBuffer): COOP same-origin, COEP require-corp, CORP same-origin.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>PeerGrid</title>
<p>The web client is not built yet. Run <code>npm run build</code>, then reload.</p>\n`;

export async function serveStatic(
  dir: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const root = resolve(dir);
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
  }
  const file = normalize(join(root, pathname));
  if (file !== root && !file.startsWith(root + sep)) {
    return send(res, 403, 'text/plain; charset=utf-8', 'forbidden\n');
  }
  let target = await fileAt(file);
  if (!target && !extname(pathname)) target = await fileAt(join(root, 'index.html')); // SPA routes
  if (!target) {
    const built = await fileAt(join(root, 'index.html'));
    if (!built) return send(res, 200, 'text/html; charset=utf-8', NOT_BUILT);
    return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
  res.writeHead(200, {
    ...ISOLATION_HEADERS,
    'Content-Type': MIME[extname(target.path).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': target.size,
    'Cache-Control': target.path.includes(`${sep}assets${sep}`)
      ? 'public, max-age=31536000, immutable'
      : 'no-cache',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(target.path)
    .on('error', () => res.destroy())
    .pipe(res);
}

async function fileAt(path: string): Promise<{ path: string; size: number } | null> {
  try {
    let s = await stat(path);
    if (s.isDirectory()) {
      path = join(path, 'index.html');
      s = await stat(path);
    }
    return s.isFile() ? { path, size: s.size } : null;
  } catch {
    return null;
  }
}

export function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    ...ISOLATION_HEADERS,
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(body);
}
