/**
 * Every option and limit of the signaling server, with its default. The CLI
 * (`cli.ts`) maps flags onto these one to one.
 */
import type { IceServer } from '@peergrid/shared';

export interface SignalingLimits {
  /** Largest WebSocket frame, bytes (ws `maxPayload`; larger frames close the socket with 1009). Default 65 536. */
  readonly maxMessageBytes: number;
  /** Serialized `data` of one relayed signal, chars (answered `too-large`). Default 16 384; the protocol parser caps it at 16 384 whatever is set. */
  readonly signalPayloadBytes: number;
  /**
   * Sustained messages per second per connection (token bucket). Default 200: a
   * submitter opening dozens of peer connections trickles hundreds of ICE candidates.
   */
  readonly messagesPerSecond: number;
  /** Bucket size: messages a connection may send in a burst. Default 1 000. */
  readonly messageBurst: number;
  /** Rejected messages (any reason) a connection may accumulate, refilled at 1/s, before it is disconnected. Default 20. */
  readonly maxStrikes: number;
  /** Peers in one grid. Default 1 000. */
  readonly peersPerGrid: number;
  /** Grids on one server. Default 10 000. */
  readonly gridsPerServer: number;
  /** Open WebSocket connections (joined or not). Default 20 000. */
  readonly maxConnections: number;
  /** A connection that has not joined after this long is closed, ms. Default 10 000. */
  readonly joinTimeoutMs: number;
  /** Ping period; a socket that did not answer the previous ping is dropped, ms. Default 30 000. */
  readonly heartbeatIntervalMs: number;
}

export const DEFAULT_LIMITS: SignalingLimits = {
  maxMessageBytes: 64 * 1024,
  signalPayloadBytes: 16 * 1024,
  messagesPerSecond: 200,
  messageBurst: 1_000,
  maxStrikes: 20,
  peersPerGrid: 1_000,
  gridsPerServer: 10_000,
  maxConnections: 20_000,
  joinTimeoutMs: 10_000,
  heartbeatIntervalMs: 30_000,
};

export interface SignalingServerOptions {
  /** TCP port; 0 picks a free one. Default 8787. */
  readonly port?: number;
  /** Interface to bind. Default '0.0.0.0'. */
  readonly host?: string;
  /** Directory of the built web client. Default `<repo>/web-client/dist`. */
  readonly staticDir?: string;
  /** Allowed `Origin` values for WebSocket upgrades; absent = any. Requests without Origin (non-browser clients) are allowed. */
  readonly allowedOrigins?: readonly string[];
  /** HMAC secret for join tokens; absent = no tokens required. */
  readonly tokenSecret?: string;
  /** Grids that require a token; absent = every grid (when `tokenSecret` is set). */
  readonly tokenGrids?: readonly string[];
  /** STUN/TURN servers handed to peers. Default none (loopback and LAN need none). */
  readonly iceServers?: readonly IceServer[];
  /** TURN REST shared secret: `turn:`/`turns:` entries get time-limited credentials. */
  readonly turnSecret?: string;
  /** Lifetime of TURN credentials, s. Default 86 400. */
  readonly turnTtlSeconds?: number;
  readonly limits?: Partial<SignalingLimits>;
  /**
   * redis:// URL: share presence and relay with every instance using the same
   * Redis and key prefix (see redis-bus.ts). Absent = the in-memory bus of one process.
   */
  readonly redis?: string;
  /** Key and channel prefix in Redis. Default `peergrid:`. */
  readonly redisKeyPrefix?: string;
  /** Heartbeat period of this instance in Redis, ms; dead after 5 periods. Default 1 000. */
  readonly redisHeartbeatMs?: number;
  /** Log lines (startup, refusals of whole connections). Default none. */
  readonly log?: (line: string) => void;
}
