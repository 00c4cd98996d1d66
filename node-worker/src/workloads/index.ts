export { renderText } from './bitmap-font.ts';
export {
  createMatmulInput,
  createMatmulModel,
  MATMUL_PRESETS,
  type MatmulModelOptions,
} from './matmul.ts';
export { createMatmulJob, type MatmulJobOptions } from './matmul-job.ts';
export { type MlpWeights, type TrainOptions, trainMlp } from './mlp-train.ts';
export {
  createMnistJob,
  createMnistTwoStageJob,
  loadMnistFixtures,
  MNIST_FIXTURES,
  type MnistFixtures,
  type MnistJobOptions,
  mnistAccuracy,
} from './mnist-job.ts';
export { createMnistModel, createMnistStageModels, readMnistWeights } from './mnist-model.ts';
export { type BoxOptions, probabilityMapToBoxes, type TextBox } from './ocr-boxes.ts';
export {
  createOcrJob,
  OCR_DET_OUTPUT,
  OCR_FIXTURE_DIR,
  type OcrImage,
  type OcrJobOptions,
  ocrBoxes,
  ocrDetModelPath,
} from './ocr-job.ts';
export { buildOnnxModel, createSeededRandom, modelHash, readInitializers } from './onnx-builder.ts';
export {
  createWorkload,
  type ReferenceOptions,
  type ReferenceOutputs,
  runReference,
  sliceRows,
  type Workload,
  type WorkloadFeed,
  type WorkloadSpec,
  type WorkloadTask,
} from './workload.ts';
