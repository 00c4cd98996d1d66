import type { Backend } from '@peergrid/shared';

/** How the page names what it computes on, e.g. "WebGPU · NVIDIA RTX 3060" or "WASM · 4 threads". */
export function backendLabel(
  backends: readonly Backend[],
  adapter: string | null,
  threads: number,
  isolated: boolean,
): { title: string; detail: string } {
  if (backends[0] === 'webgpu') {
    return { title: 'WebGPU', detail: adapter ?? 'GPU adapter' };
  }
  const threaded = isolated && threads > 1;
  return {
    title: 'WASM',
    detail: threaded
      ? `threads on (${threads}/worker)`
      : isolated
        ? 'threads on (1/worker)'
        : 'threads off: page not isolated',
  };
}
