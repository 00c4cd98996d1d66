/** Messages between the bench coordinator and its peer processes (IPC). */
export type WorkerCommand =
  | {
      readonly cmd: 'join';
      /** Server instances; peer `first + i` joins `urls[(first + i) % urls.length]`. */
      readonly urls: readonly string[];
      /** Global index of this worker's first peer; grids are `g<index / gridSize>`. */
      readonly first: number;
      readonly count: number;
      readonly gridSize: number;
      readonly ratePerSec: number;
    }
  | {
      readonly cmd: 'peerjs-connect';
      readonly url: string;
      readonly pairs: number;
      readonly tag: string;
    }
  | {
      readonly cmd: 'relay';
      readonly target: 'peergrid' | 'peerjs';
      readonly pairs: number;
      readonly window: number;
      readonly warmupMs: number;
      readonly durationMs: number;
    }
  | { readonly cmd: 'exit' };

export type WorkerReport =
  | { readonly kind: 'progress'; readonly joined: number; readonly failed: number }
  | { readonly kind: 'joined'; readonly latenciesMs: readonly number[]; readonly failed: number }
  | { readonly kind: 'connected' }
  | { readonly kind: 'relayed'; readonly received: number; readonly durationMs: number };

/** A realistic ICE candidate: what a signaling server relays most. */
export const CANDIDATE = {
  candidate:
    'candidate:842163049 1 udp 1677729535 203.0.113.7 61342 typ srflx raddr 0.0.0.0 rport 0',
  sdpMid: '0',
  sdpMLineIndex: 0,
};
