export * from './build-manifest-job.ts';
export * from './manifest-doc.ts';
export * from './manifest-problems.ts';
export * from './manifest-text.ts';
