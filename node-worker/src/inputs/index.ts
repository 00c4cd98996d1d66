export { type ConstFlag, loadConstFeed, parseConstFlag } from './const-feed.ts';
export {
  type DetInput,
  type DetTensorOptions,
  decodeImage,
  encodePng,
  IMAGE_EXTENSIONS,
  imageToDetTensor,
  loadImageFolder,
  type RgbaImage,
} from './images.ts';
export { parseJsonTensor, parseJsonTensors } from './json-tensor.ts';
export {
  INPUT_FILE_EXTENSIONS,
  type InputFile,
  loadInputFile,
  loadTensorFile,
  TENSOR_FILE_EXTENSIONS,
} from './load-tensor.ts';
export { declaredInputs, requiredInputNames } from './model-inputs.ts';
export { encodeNpy, parseNpy } from './npy.ts';
export {
  type InputsOptions,
  loadInputsPath,
  loadNamedInputs,
  type NamedInputFlag,
} from './task-feeds.ts';
