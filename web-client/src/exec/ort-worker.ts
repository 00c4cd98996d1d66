/// <reference lib="webworker" />
/**
 * One ORT Web Worker: set-up, inspection and warm-up over comlink; runs in
 * batches on the port the pool hands over with `connect` (run-inbox.ts). It
 * is killed when a run overruns its deadline.
 */
import { expose } from 'comlink';
import { createOrtHost } from './ort-host.ts';
import { createRunInbox } from './run-inbox.ts';
import type { OrtWorkerPortApi } from './worker-protocol.ts';

const host = createOrtHost();
const api: OrtWorkerPortApi = {
  ...host,
  connect(port) {
    const inbox = createRunInbox({
      run: host.run,
      send: (msg, transfer) => port.postMessage(msg, transfer),
    });
    port.onmessage = (e: MessageEvent) => inbox.receive(e.data);
  },
};
expose(api);
