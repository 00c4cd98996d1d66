export * from './ocr-steps.ts';
export * from './pipeline-doc.ts';
export * from './run-pipeline.ts';
export * from './steps.ts';
