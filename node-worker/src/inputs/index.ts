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
export { parseJsonTensor } from './json-tensor.ts';
export { loadTensorFile, TENSOR_FILE_EXTENSIONS } from './load-tensor.ts';
export { encodeNpy, parseNpy } from './npy.ts';
