export { type BusJoinResult, createMemoryBus, type GridBus, type PeerSink } from './bus.ts';
export { iceServersFor, parseIceServersArg } from './ice.ts';
export { DEFAULT_LIMITS, type SignalingLimits, type SignalingServerOptions } from './options.ts';
export { createRedisBus, type RedisBusOptions, type RedisGridBus } from './redis-bus.ts';
export { DEFAULT_STATIC_DIR, type RunningSignalingServer, startSignalingServer } from './server.ts';
export { ISOLATION_HEADERS } from './static-files.ts';
export { createJoinToken, type TokenCheck, verifyJoinToken } from './tokens.ts';
