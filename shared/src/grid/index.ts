export * from './commit-queue.ts';
export * from './donor-credit.ts';
export * from './donor-node.ts';
export * from './donor-roster.ts';
export * from './grid-peer.ts';
export * from './job-runner.ts';
export * from './prepare-job.ts';
