export * from './compare.ts';
export * from './engine.ts';
export * from './reputation.ts';
export * from './scheduler.ts';
export * from './spec.ts';
export * from './state.ts';
export * from './types.ts';
export * from './verify.ts';
