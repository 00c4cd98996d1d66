/** JSON tensors are read by `@peergrid/shared` (the page reads the same files); re-exported here. */
export {
  type JsonTensorResult,
  type JsonTensorsResult,
  parseJsonTensor,
  parseJsonTensors,
} from '@peergrid/shared';
