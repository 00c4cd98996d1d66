export * from './node-peer-pool.ts';
export * from './node-wrtc.ts';
