export * from './errors.ts';
export * from './platform.ts';
export * from './tensor.ts';
export * from './contracts.ts';
