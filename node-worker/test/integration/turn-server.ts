/**
 * Debian's coturn on loopback for tests and benchmarks: `use-auth-secret`
 * with a shared secret (the TURN REST scheme the signaling server's
 * `--turn-secret` signs credentials for), UDP and TCP on one port chosen at
 * run time, relay ports from a small range, loopback peers allowed (every
 * peer of a test is on 127.0.0.1), no TLS, no CLI, no database.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IceServer } from '@peergrid/shared';

export const TURNSERVER_BIN = '/usr/bin/turnserver';

export interface RunningTurnServer {
  readonly port: number;
  /** The shared secret (`static-auth-secret`). */
  readonly secret: string;
  /** `turn:127.0.0.1:<port>?transport=udp`, without credentials. */
  readonly iceServer: IceServer;
  /** Allocations coturn logged so far (each relayed candidate is one). */
  allocations(): number;
  log(): string;
  close(): Promise<void>;
}

export const turnServerAvailable = (): boolean => existsSync(TURNSERVER_BIN);

/** A free TCP port on loopback (coturn listens on UDP and TCP alike). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}

export async function startTurnServer(
  o: { secret?: string; timeoutMs?: number } = {},
): Promise<RunningTurnServer> {
  const secret = o.secret ?? randomBytes(18).toString('base64url');
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-turn-'));
  const minPort = 40_000 + Math.floor(Math.random() * 20_000);
  const child: ChildProcess = spawn(
    TURNSERVER_BIN,
    [
      '-n', // no configuration file
      '--listening-ip=127.0.0.1',
      // Relay addresses on another loopback address than the peers' own: a TURN
      // permission (by IP) for a peer's relay address then does not also admit its
      // host socket, as on a real network, so relay-only means relayed.
      '--relay-ip=127.0.0.2',
      `--listening-port=${port}`,
      `--min-port=${minPort}`,
      `--max-port=${minPort + 200}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--realm=peergrid.test',
      '--allow-loopback-peers',
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--no-multicast-peers',
      '--log-file=stdout',
      '--simple-log',
      '--verbose',
      `--pidfile=${join(dir, 'turnserver.pid')}`,
      `--userdb=${join(dir, 'turndb')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let text = '';
  child.stdout?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    text += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`turnserver did not start on port ${port}:\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    secret,
    iceServer: { urls: [`turn:127.0.0.1:${port}?transport=udp`] },
    allocations: () => text.match(/ALLOCATE processed, success/g)?.length ?? 0,
    log: () => text,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
