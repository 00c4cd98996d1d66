import type { DonorStatus } from '@peergrid/shared';
import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../../src/worker/metrics.ts';
import { parsePromText } from './prom-text.ts';

describe('worker metrics of the donor rules', () => {
  it('exposes paused, the CPU share asked for and the one measured, read at scrape time', async () => {
    let status: DonorStatus | undefined;
    const m = createWorkerMetrics(
      {
        load: () => undefined,
        status: () => status,
        links: () => 0,
        modelCache: async () => ({ bytes: 0, models: 0 }),
      },
      { peerId: 'p', grid: 'g', backends: ['cpu'] },
    );
    const read = async () => parsePromText((await m.scrape()).text);
    let got = await read();
    expect(got.get('peergrid_worker_paused')).toBe(0);
    expect(got.get('peergrid_worker_cpu_share')).toBe(1);
    status = {
      paused: true,
      pauseReason: 'outside the schedule 22:00-07:00',
      cpuShare: 0.25,
      measuredShare: 0.24,
      busyMs: 1000,
      submitters: 2,
    };
    got = await read();
    expect(got.get('peergrid_worker_paused')).toBe(1);
    expect(got.get('peergrid_worker_cpu_share')).toBe(0.25);
    expect(got.get('peergrid_worker_cpu_share_measured')).toBe(0.24);
  });
});
