/**
 * A native RTCPeerConnection for simple-peer in Node. Two implementations:
 * - `ndc` (default): node-datachannel's polyfill (libdatachannel), shimmed for
 *   simple-peer: createOffer/createAnswer return plain `{type, sdp}` objects
 *   and setRemoteDescription is retried. It has `bufferedamountlow`. Under load
 *   its setup now and then fails ("remote candidate without ICE transport");
 *   PeerPool retries (`connectAttempts`). Some connects take ~1 s.
 * - `wrtc`: @roamhq/wrtc (libwebrtc), used as is. No working
 *   `bufferedamountlow`, so PeerLink polls `bufferedAmount` every 2 ms.
 *
 * Measured with `node --import tsx node-worker/bench/transfer.ts` (32 MB
 * tensors, loopback, shared 2-core box, best of 3–4 rounds, 4 runs): PeerGrid
 * transfer ndc 44–54 MB/s, wrtc 43–50 MB/s; raw channel ndc 47–52, wrtc
 * 44–58 MB/s. ndc is the default; choose with `--webrtc ndc|wrtc`
 * (`parseNodeWrtcKind`).
 */
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';

export type NodeWrtcKind = 'ndc' | 'wrtc';
export const NODE_WRTC_KINDS: readonly NodeWrtcKind[] = ['ndc', 'wrtc'];

/** The default implementation, chosen by the transfer benchmark (see above). */
export const DEFAULT_NODE_WRTC: NodeWrtcKind = 'ndc';

export interface NodeWrtc {
  readonly kind: NodeWrtcKind;
  /** Pass as simple-peer's `wrtc` option. */
  readonly wrtc: {
    readonly RTCPeerConnection: unknown;
    readonly RTCSessionDescription: unknown;
    readonly RTCIceCandidate: unknown;
  };
  /**
   * Releases native threads so the process can exit. Call after destroying
   * every peer; node-datachannel otherwise keeps the process alive for seconds.
   */
  shutdown(): Promise<void>;
}

export function parseNodeWrtcKind(raw: unknown): NodeWrtcKind | null {
  return NODE_WRTC_KINDS.find((k) => k === raw) ?? null;
}

/**
 * The polyfill hands libdatachannel a TURN server as one URL,
 * `turn:<username>:<credential>@host`, which libdatachannel splits at the
 * first colon and then percent-decodes. TURN REST usernames hold a colon
 * (`<expiry>:<peer id>`) and credentials base64's `+/=`: percent-encode both.
 */
function withEncodedTurnCredentials<C extends object>(config: C): C {
  const servers = (config as { iceServers?: unknown }).iceServers;
  if (!Array.isArray(servers)) return config;
  const iceServers = servers.map((s: { username?: unknown; credential?: unknown }) =>
    typeof s.username === 'string' && typeof s.credential === 'string'
      ? {
          ...s,
          username: encodeURIComponent(s.username),
          credential: encodeURIComponent(s.credential),
        }
      : s,
  );
  return { ...config, iceServers };
}

/** setRemoteDescription in libdatachannel occasionally fails transiently: retry this often. */
const SET_REMOTE_ATTEMPTS = 4;
const SET_REMOTE_RETRY_MS = 25;

export async function createNodeWrtc(kind: NodeWrtcKind = DEFAULT_NODE_WRTC): Promise<NodeWrtc> {
  if (kind === 'wrtc') {
    const require = createRequire(import.meta.url);
    const wrtc = require('@roamhq/wrtc') as NodeWrtc['wrtc'];
    return { kind, wrtc, shutdown: async () => {} };
  }
  const polyfill = await import('node-datachannel/polyfill');
  const ndc = await import('node-datachannel');
  const Base = polyfill.RTCPeerConnection;
  type Desc = { type: 'offer' | 'answer'; sdp: string };
  type SetRemoteArg = Parameters<InstanceType<typeof Base>['setRemoteDescription']>[0];

  type Config = ConstructorParameters<typeof Base>[0];
  // simple-peer rewrites `offer.sdp` and reads `{type, sdp}`: hand it plain objects.
  class RTCPeerConnection extends Base {
    constructor(config?: Config) {
      super(config ? withEncodedTurnCredentials(config) : config);
    }
    override async createOffer(): Promise<Desc> {
      const d = (await super.createOffer()) as Desc;
      return { type: d.type, sdp: d.sdp };
    }
    override async createAnswer(): Promise<Desc> {
      const d = (await super.createAnswer()) as Desc;
      return { type: d.type, sdp: d.sdp };
    }
    override async setRemoteDescription(desc: SetRemoteArg): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await super.setRemoteDescription(desc);
        } catch (err) {
          if (attempt >= SET_REMOTE_ATTEMPTS || this.connectionState === 'closed') throw err;
          await sleep(SET_REMOTE_RETRY_MS * attempt);
        }
      }
    }
  }
  return {
    kind,
    wrtc: {
      RTCPeerConnection,
      RTCSessionDescription: polyfill.RTCSessionDescription,
      RTCIceCandidate: polyfill.RTCIceCandidate,
    },
    shutdown: async () => {
      try {
        ndc.cleanup();
      } catch {
        // "cleanup timeout": a connection was still closing. The threads end
        // with the process; callers exit explicitly (see node-peer-pool.ts).
      }
    },
  };
}
