export * from './job-store.ts';
export * from './memory-store.ts';
