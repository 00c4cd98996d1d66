import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyJoinToken } from '../src/tokens.ts';
import { client, ready, startTestServer, until, wsUrl } from './helpers.ts';

describe('reconnect', () => {
  it('after a server restart, clients come back with the same ids and resynced presence', async () => {
    let server = await startTestServer();
    const port = server.port;
    const a = await client(wsUrl(server), 'rc');
    const b = await client(wsUrl(server), 'rc');
    await Promise.all([ready(a), ready(b)]);
    await until(() => a.peers().has(b.selfId), 3000, 'presence');
    const reconnecting: number[] = [];
    a.on('reconnecting', (e) => reconnecting.push(e.delayMs));
    let readies = 0;
    a.on('ready', () => readies++);

    await server.close();
    await until(() => !a.connected && !b.connected, 3000, 'disconnect seen');
    server = await startTestServer({ port });
    try {
      await until(() => readies > 0 && b.connected, 10_000, 'rejoin');
      expect(server.bus.stats().peers).toBe(2);
      await until(() => a.peers().has(b.selfId) && b.peers().has(a.selfId), 3000, 'resync');
      expect(reconnecting.length).toBeGreaterThan(0);
      expect(reconnecting.every((d) => d >= 50 && d <= 400)).toBe(true);
      const got = new Promise((ok) => b.onSignal((from, data) => ok({ from, data })));
      a.sendSignal(b.selfId, 'after restart');
      expect(await got).toEqual({ from: a.selfId, data: 'after restart' });
    } finally {
      a.close();
      b.close();
      await server.close();
    }
  });
});

describe('http', () => {
  it('serves the client with isolation headers and MIME types, /healthz and /metrics', async () => {
    const server = await startTestServer();
    try {
      for (const [path, type] of [
        ['/', 'text/html'],
        ['/jobs/42', 'text/html'],
        ['/assets/app.wasm', 'application/wasm'],
        ['/assets/mod.mjs', 'text/javascript'],
      ] as const) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type')).toContain(type);
        expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
        expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
        expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      }
      expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404);
      expect((await fetch(`${server.url}/..%2f..%2fpackage.json`)).status).toBe(403);
      expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({
        ok: true,
        peers: 0,
        grids: 0,
      });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      for (const name of [
        'peers',
        'grids',
        'connections',
        'joins_total',
        'messages_relayed_total',
      ]) {
        expect(metrics).toMatch(
          new RegExp(`^# TYPE peergrid_signaling_${name} (gauge|counter)$`, 'm'),
        );
      }
      expect(metrics).toMatch(/^process_resident_memory_bytes \d+$/m);
    } finally {
      await server.close();
    }
  });

  it('says how to build when the client is missing', async () => {
    const server = await startTestServer({ staticDir: resolve(tmpdir(), 'peergrid-no-such-dir') });
    try {
      const res = await fetch(server.url);
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await res.text()).toContain('npm run build');
    } finally {
      await server.close();
    }
  });
});

describe('bin', () => {
  const bin = resolve(import.meta.dirname, '../bin/peergrid-signaling.js');
  const run = (args: string[]) =>
    new Promise<{ out: string; code: number | null }>((ok) => {
      const p = spawn(process.execPath, [bin, ...args], { cwd: tmpdir() });
      let out = '';
      p.stdout.on('data', (d) => {
        out += d;
        if (out.includes('listening on')) p.kill('SIGTERM');
      });
      p.on('exit', (code) => ok({ out, code }));
    });

  it('runs from any cwd: --help, --mint-token, and serving on --port 0', async () => {
    const help = await run(['--help']);
    expect(help.out).toContain('--messages-per-second');
    const mint = await run(['--token-secret', 's', '--mint-token', 'lab']);
    expect(verifyJoinToken('s', mint.out.trim(), 'lab')).toBe('ok');
    const serve = await run(['--port', '0', '--host', '127.0.0.1']);
    expect(serve.out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    expect(serve.code).toBe(0);
  });
});
