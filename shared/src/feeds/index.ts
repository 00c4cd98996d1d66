export * from './check-feeds.ts';
export * from './declared-input.ts';
export * from './split-rows.ts';
