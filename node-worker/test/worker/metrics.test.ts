import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerLoad } from '@peergrid/shared';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerMetrics, type WorkerMetricsSource } from '../../src/worker/metrics.ts';
import { measureModelCache } from '../../src/worker/metrics-model-cache.ts';
import { startMetricsServer } from '../../src/worker/metrics-server.ts';
import { parsePromText } from './prom-text.ts';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function source(over: Partial<{ load: PeerLoad; links: number; bytes: number }> = {}) {
  const state = {
    load: over.load as PeerLoad | undefined,
    links: over.links ?? 0,
    bytes: over.bytes ?? 0,
    scans: 0,
  };
  const src: WorkerMetricsSource = {
    load: () => state.load,
    links: () => state.links,
    modelCache: async () => {
      state.scans++;
      return { bytes: state.bytes, models: state.bytes > 0 ? 1 : 0 };
    },
  };
  return { state, src };
}

const info = { peerId: 'peer1', grid: 'g', backends: ['cpu', 'wasm'] as const };
const scrape = async (m: ReturnType<typeof createWorkerMetrics>) =>
  parsePromText((await m.scrape()).text);

describe('worker metrics', () => {
  it('counts runs by backend, failures by code, and busy seconds from compute time', async () => {
    const m = createWorkerMetrics(source().src, info);
    const before = await scrape(m);
    expect(before.get('peergrid_worker_tasks_run_total{backend="cpu"}')).toBe(0);
    expect(before.get('peergrid_worker_tasks_run_total{backend="wasm"}')).toBe(0);
    m.ran('cpu', 250);
    m.ran('cpu', 750);
    m.ran('wasm', 100);
    m.failed('timeout');
    m.failed('bad-input');
    m.failed('timeout');
    const v = await scrape(m);
    expect(v.get('peergrid_worker_tasks_run_total{backend="cpu"}')).toBe(2);
    expect(v.get('peergrid_worker_tasks_run_total{backend="wasm"}')).toBe(1);
    expect(v.get('peergrid_worker_busy_seconds_total{backend="cpu"}')).toBeCloseTo(1, 9);
    expect(v.get('peergrid_worker_busy_seconds_total{backend="wasm"}')).toBeCloseTo(0.1, 9);
    expect(v.get('peergrid_worker_tasks_failed_total{code="timeout"}')).toBe(2);
    expect(v.get('peergrid_worker_tasks_failed_total{code="bad-input"}')).toBe(1);
    expect(v.get('peergrid_worker_info{peer_id="peer1",grid="g",backends="cpu,wasm"}')).toBe(1);
  });

  it('advances the verdict counters by the difference between credit totals', async () => {
    const m = createWorkerMetrics(source().src, info);
    m.credited({ accepted: 3, verifiedMs: 1500, rejected: 0 });
    m.credited({ accepted: 5, verifiedMs: 2500, rejected: 1 });
    const v = await scrape(m);
    expect(v.get('peergrid_worker_tasks_verified_total{verdict="accepted"}')).toBe(5);
    expect(v.get('peergrid_worker_tasks_verified_total{verdict="rejected"}')).toBe(1);
    expect(v.get('peergrid_worker_verified_compute_seconds_total')).toBeCloseTo(2.5, 9);
  });

  it('reads load, links and the model cache at scrape time, with one cache scan per scrape', async () => {
    const { state, src } = source();
    const m = createWorkerMetrics(src, info);
    const empty = await scrape(m);
    expect(empty.get('peergrid_worker_queue_depth')).toBe(0);
    expect(empty.get('peergrid_worker_slots')).toBe(0);
    state.load = { running: 2, queued: 7, capacity: 2, limit: 130 };
    state.links = 3;
    state.bytes = 4096;
    state.scans = 0;
    const v = await scrape(m);
    expect(v.get('peergrid_worker_tasks_running')).toBe(2);
    expect(v.get('peergrid_worker_queue_depth')).toBe(7);
    expect(v.get('peergrid_worker_queue_limit')).toBe(130);
    expect(v.get('peergrid_worker_slots')).toBe(2);
    expect(v.get('peergrid_worker_links')).toBe(3);
    expect(v.get('peergrid_worker_model_cache_bytes')).toBe(4096);
    expect(v.get('peergrid_worker_model_cache_models')).toBe(1);
    expect(state.scans).toBe(1);
    expect(v.get('process_cpu_seconds_total')).toBeGreaterThanOrEqual(0);
  });
});

describe('model cache size', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  it('counts hash-named files only', async () => {
    dir = mkdtempSync(join(tmpdir(), 'peergrid-cache-'));
    writeFileSync(join(dir, HASH_A), new Uint8Array(1000));
    writeFileSync(join(dir, HASH_B), new Uint8Array(24));
    writeFileSync(join(dir, 'identity.json'), '{"not":"a model"}');
    writeFileSync(join(dir, `${HASH_A}.abc123.tmp`), new Uint8Array(500));
    expect(await measureModelCache(dir)).toEqual({ bytes: 1024, models: 2 });
    expect(await measureModelCache(join(dir, 'absent'))).toEqual({ bytes: 0, models: 0 });
  });
});

describe('metrics server', () => {
  it('serves /metrics, 404 elsewhere, 405 for other methods', async () => {
    const m = createWorkerMetrics(source({ links: 2 }).src, info);
    const server = await startMetricsServer(m, 0, '127.0.0.1');
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(parsePromText(await res.text()).get('peergrid_worker_links')).toBe(2);
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('rejects a port that is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const m = createWorkerMetrics(source().src, info);
      await expect(startMetricsServer(m, port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});
