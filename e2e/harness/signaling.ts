/**
 * The signaling server (which also serves the built page) as a child
 * process, so a test can kill it and start it again on the same port.
 */
import { type Child, spawnChild } from './children.ts';
import { SIGNALING_BIN, staticDir } from './paths.ts';

/** How long the server may take to listen, ms. Default 20 000. */
export const SIGNALING_START_MS = 20_000;

export interface SignalingProcess {
  readonly port: number;
  /** http://127.0.0.1:PORT/ — the page. */
  readonly httpUrl: string;
  /** ws://127.0.0.1:PORT/ws — the signaling endpoint. */
  readonly wsUrl: string;
  readonly child: Child;
  /** Peers and grids the server holds now (GET /healthz). */
  health(): Promise<{ peers: number; grids: number }>;
  /** Kills the server (SIGKILL: no goodbye to its clients). */
  kill(): Promise<void>;
  /** Starts it again on the same port (after {@link kill}). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function launch(
  port: number,
  extraArgs: readonly string[],
): Promise<{ child: Child; port: number }> {
  const child = spawnChild('signaling', process.execPath, [
    SIGNALING_BIN,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--static',
    staticDir(),
    ...extraArgs,
  ]);
  const m = await child.waitFor(/listening on http:\/\/[^:]+:(\d+)/, SIGNALING_START_MS);
  return { child, port: Number(m[1]) };
}

/** Starts the server on a free port (chosen by the OS), with `extraArgs` (e.g. `--ice-servers`). */
export async function startSignaling(extraArgs: readonly string[] = []): Promise<SignalingProcess> {
  let current = await launch(0, extraArgs);
  const port = current.port;
  const httpUrl = `http://127.0.0.1:${port}/`;
  return {
    port,
    httpUrl,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    get child() {
      return current.child;
    },
    async health() {
      const res = await fetch(`${httpUrl}healthz`);
      const j = (await res.json()) as { peers: number; grids: number };
      return { peers: j.peers, grids: j.grids };
    },
    kill: () => current.child.stop('SIGKILL', 0),
    async restart() {
      // The port was just released; a few retries cover a slow release.
      for (let attempt = 0; ; attempt++) {
        try {
          current = await launch(port, extraArgs);
          return;
        } catch (e) {
          if (attempt >= 5) throw e;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    stop: () => current.child.stop('SIGTERM', 3000),
  };
}
