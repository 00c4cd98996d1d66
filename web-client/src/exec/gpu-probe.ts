/** What the page knows about WebGPU on this machine. */
export interface GpuProbe {
  readonly available: boolean;
  /** Adapter name from `adapter.info` (vendor, architecture, description), or null. */
  readonly adapter: string | null;
}

interface AdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  readonly device?: string;
}
interface GpuLike {
  requestAdapter(): Promise<{ info?: AdapterInfoLike } | null>;
}

/** Asks for a WebGPU adapter; a missing API, no adapter or an error all mean "no GPU". */
export async function probeGpu(): Promise<GpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
  if (!gpu) return { available: false, adapter: null };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { available: false, adapter: null };
    return { available: true, adapter: adapterName(adapter.info) };
  } catch {
    return { available: false, adapter: null };
  }
}

/** A readable adapter name from the parts browsers fill in. */
export function adapterName(info: AdapterInfoLike | undefined): string {
  if (!info) return 'WebGPU adapter';
  const parts = [info.description, info.vendor, info.architecture, info.device].filter(
    (p): p is string => typeof p === 'string' && p.length > 0,
  );
  if (info.description) return info.description;
  return parts.length > 0 ? parts.join(' ') : 'WebGPU adapter';
}
