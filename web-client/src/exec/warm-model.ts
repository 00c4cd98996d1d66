/**
 * A one-node ONNX model (Identity, float32 [1], opset 13; built with
 * node-worker's onnx-builder) that a worker loads to start ONNX Runtime ahead
 * of its first task: fetching and compiling ORT's WASM is most of a cold
 * worker's first-task time.
 */
const WARM_MODEL_BASE64 =
  'CAcSCHBlZXJncmlkOkYKHAoBeBIBeRoKaWRlbnRpdHlfMCIISWRlbnRpdHkSBHdhcm1aDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAN';

export function warmModel(): Uint8Array {
  return Uint8Array.from(atob(WARM_MODEL_BASE64), (c) => c.charCodeAt(0));
}
