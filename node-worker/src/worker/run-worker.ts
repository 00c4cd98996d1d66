/**
 * `peergrid-worker`: a headless donor. Joins the grid, advertises its
 * capabilities, runs tasks through the Node executor, caches models on disk
 * by hash, and on SIGINT/SIGTERM drains and exits explicitly (WebRTC threads
 * would otherwise keep the process alive).
 */
import { availableParallelism, freemem, loadavg } from 'node:os';
import type {
  Backend,
  Capabilities,
  DonorCredit,
  DonorNode,
  ExecResult,
  Executor,
} from '@peergrid/shared';
import { createDonorNode, toWireError } from '@peergrid/shared';
import { doctorMain } from '../doctor/doctor.ts';
import { createNodeExecutor } from '../exec/node-executor.ts';
import { createDiskBlobCache } from '../store/disk-blob-cache.ts';
import { nodeSha256, nodeTimers } from '../transport/node-peer-pool.ts';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.ts';
import { measureModelCache } from './metrics-model-cache.ts';
import { type MetricsServer, startMetricsServer } from './metrics-server.ts';
import { connectNodeGridPeer } from './node-grid-peer.ts';
import { loadOrCreateIdentity } from './node-identity.ts';
import { createPauseRules, PAUSE_CHECK_MS } from './pause-rules.ts';
import { treeCpuMs } from './proc-cpu.ts';
import { createSpeedMeter } from './speed-meter.ts';
import { createSabotagingExecutor, type TestSabotage } from './test-sabotage.ts';
import { parseWorkerArgs, WORKER_USAGE, type WorkerOptions } from './worker-args.ts';

/** Period of the status line on stderr, ms. */
const STATUS_EVERY_MS = 10_000;
/** Least time between two announcements of a new measured speed, ms. */
const SPEED_TELL_MS = 5_000;

const log = (line: string) => process.stderr.write(`[peergrid-worker] ${line}\n`);

/** "verified 3 tasks, 1.25 s credit" (plus rejections, if any): what submitters' verdicts said. */
export function creditLine(c: DonorCredit): string {
  const rejected = c.rejected > 0 ? `, ${c.rejected} rejected` : '';
  return `verified ${c.accepted} tasks, ${(c.verifiedMs / 1000).toFixed(2)} s credit${rejected}`;
}

function sabotageNote(s: TestSabotage): string {
  const when =
    s.strategy === 'always'
      ? 'on every task'
      : `${s.strategy === 'betray' ? 'on every task' : 'on a random half of its tasks'} after ${s.betrayAfter} accepted verdicts`;
  return `TEST-ONLY SABOTAGE (${s.strategy}): returning wrong outputs ${when}`;
}

/** What a run came to, for the status line and the metrics. */
interface RunObserver {
  result(r: ExecResult): void;
  error(code: string): void;
}

/** Passes each run's outcome to `observe`. */
function observing(executor: Executor, observe: RunObserver): Executor {
  return {
    concurrency: executor.concurrency,
    get prefetch() {
      return executor.prefetch;
    },
    backends: () => executor.backends(),
    close: () => executor.close(),
    async run(req) {
      try {
        const r = await executor.run(req);
        observe.result(r);
        return r;
      } catch (err) {
        observe.error(toWireError(err).code);
        throw err;
      }
    },
  };
}

export async function runWorker(o: WorkerOptions): Promise<void> {
  const concurrency = o.concurrency ?? availableParallelism();
  const base = createNodeExecutor({
    backend: o.backend,
    concurrency,
    maxModelBytes: o.maxModelMB * 1024 * 1024,
    onBackendFailed: (b, reason) =>
      log(`${b} failed (${reason}): its tasks go back to their submitters; running on the CPU now`),
  });
  const detected = await base.backends();
  let backends: readonly Backend[] = detected;
  if (o.backend !== 'auto') {
    if (!detected.includes(o.backend)) {
      log(
        `backend '${o.backend}' is not available on this machine (found: ${detected.join(', ') || 'none'})`,
      );
      await base.close();
      process.exit(2);
    }
    backends = [o.backend];
  }
  const stats = { ok: 0, failed: 0 };
  // The saboteur reads the donor's verdict counter, which exists once the donor node does.
  let donorNode: DonorNode | undefined;
  const sabotage = o.testOnlySabotage;
  const lying = sabotage
    ? createSabotagingExecutor(base, {
        ...sabotage,
        accepted: () => donorNode?.credit().accepted ?? 0,
        onLie: (n) => {
          if (n === 1)
            log(
              `TEST-ONLY SABOTAGE: first lie, after ${donorNode?.credit().accepted ?? 0} accepted verdicts`,
            );
        },
      })
    : undefined;
  let metrics: WorkerMetrics | undefined;
  const meter = createSpeedMeter();
  /** Re-advertises the capabilities with the measured speed (set once joined). */
  let advertise = () => {};
  const executor = observing(lying ?? base, {
    result(r) {
      stats.ok++;
      metrics?.ran(r.backend, r.computeMs);
      meter.ran(r.backend, r.computeMs);
      advertise();
    },
    error(code) {
      stats.failed++;
      metrics?.failed(code);
    },
  });
  const capabilities: Capabilities = {
    runtime: 'node',
    backends,
    cores: availableParallelism(),
    memoryMB: Math.floor(freemem() / 2 ** 20),
    maxConcurrency: concurrency,
  };
  const identity = await loadOrCreateIdentity(o.identity);
  const cache = await createDiskBlobCache(o.cache);
  // Before joining: a port already taken stops the worker before it takes any lease.
  let links = () => 0;
  let metricsServer: MetricsServer | undefined;
  if (o.metricsPort !== undefined) {
    metrics = createWorkerMetrics(
      {
        load: () => donorNode?.load(),
        status: () => donorNode?.agent.status(),
        links: () => links(),
        modelCache: () => measureModelCache(o.cache),
      },
      { peerId: identity.id, grid: o.grid, backends },
    );
    try {
      metricsServer = await startMetricsServer(metrics, o.metricsPort, o.metricsHost);
    } catch (err) {
      await executor.close();
      throw new Error(
        `cannot serve metrics on ${o.metricsHost}:${o.metricsPort}: ${(err as Error).message}`,
      );
    }
    log(`metrics on ${metricsServer.url}`);
  }
  const peer = await connectNodeGridPeer({
    signal: o.signal,
    grid: o.grid,
    ...(o.token !== undefined ? { token: o.token } : {}),
    identity,
    capabilities,
    cache,
    ...(o.webrtc ? { webrtc: o.webrtc } : {}),
    ...(o.iceRelay ? { iceTransportPolicy: 'relay' as const } : {}),
    blobOptions: { maxBlobBytes: o.maxModelMB * 1024 * 1024 },
  });
  const donor = createDonorNode({
    peer,
    executor,
    sha256: nodeSha256,
    timers: nodeTimers,
    now: () => performance.now(),
    cpuShare: o.cpuShare,
    maxModelBytes: o.maxModelMB * 1024 * 1024,
    meshSize: o.mesh,
    ...(o.maxQueued !== undefined ? { maxQueued: o.maxQueued } : {}),
  });
  donorNode = donor;
  links = () => peer.pool.links().length;
  // The speed of its own recent tasks, a claim submitters use until they have timed it;
  // told at most every SPEED_TELL_MS, and when it moved by a quarter.
  let toldAt = Number.NEGATIVE_INFINITY;
  advertise = () => {
    if (performance.now() - toldAt < SPEED_TELL_MS) return;
    const speed = meter.takeChanged();
    if (!speed) return;
    toldAt = performance.now();
    peer.signaling.updateCapabilities({ ...capabilities, speed });
  };
  if (metrics) {
    const m = metrics;
    donor.onCredit((c) => m.credited(c));
  }
  log(
    `joined grid '${o.grid}' as ${identity.id} (${backends.join(', ')}, concurrency ${concurrency}` +
      (o.cpuShare < 1 ? `, cpu share ${Math.round(o.cpuShare * 100)} %` : '') +
      ')' +
      (sabotage ? ` — ${sabotageNote(sabotage)}` : ''),
  );
  const rules =
    o.schedule || o.pauseAboveLoad !== undefined
      ? createPauseRules({
          agent: donor.agent,
          ...(o.schedule ? { schedule: o.schedule } : {}),
          ...(o.pauseAboveLoad !== undefined ? { pauseAboveLoad: o.pauseAboveLoad } : {}),
          handBackRunning: o.onPause === 'hand-back',
          loadAvg1: () => loadavg()[0] ?? 0,
          ownCpuMs: () => treeCpuMs(),
          now: () => performance.now(),
          date: () => new Date(),
          onChange: (why) =>
            log(why === null ? 'resumed' : `paused: ${why}; queued tasks handed back`),
        })
      : undefined;
  rules?.check();
  const ruleTimer = rules ? setInterval(() => rules.check(), PAUSE_CHECK_MS) : undefined;
  ruleTimer?.unref();
  peer.signaling.on('reconnecting', (e) => log(`signaling lost; reconnecting in ${e.delayMs} ms`));
  peer.signaling.on('closed', (e) => log(`signaling closed: ${e.code}: ${e.message}`));
  const status = setInterval(() => {
    const l = donor.load();
    const st = donor.agent.status();
    const share =
      st.cpuShare < 1
        ? `, cpu ${Math.round(st.measuredShare * 100)} % of ${Math.round(st.cpuShare * 100)} %`
        : '';
    log(
      `tasks done ${stats.ok}, failed ${stats.failed}, running ${l.running}, queued ${l.queued}, peers ${peer.pool.links().length}${share}${st.paused ? `, paused (${st.pauseReason ?? ''})` : ''}; ${creditLine(donor.credit())}` +
        (lying ? `; ${lying.lies()} lies` : ''),
    );
  }, STATUS_EVERY_MS);
  status.unref();

  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) {
      log(`${sig} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    if (ruleTimer) clearInterval(ruleTimer);
    log(
      `${sig}: no new tasks; finishing ${donor.load().running} running (up to ${o.drainSeconds} s)`,
    );
    const drained = await donor.drain(o.drainSeconds * 1000);
    if (!drained) log('drain timed out; unfinished leases go back to their submitters');
    clearInterval(status);
    donor.close();
    await metricsServer?.close();
    await peer.shutdown();
    await executor.close();
    log(
      `stopped after ${stats.ok} tasks; ${creditLine(donor.credit())}` +
        (lying ? `; ${lying.lies()} lies` : ''),
    );
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** The `peergrid-worker` command: `doctor`, or parses argv and runs until a signal. */
export async function workerMain(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'doctor') {
    const code = await doctorMain(argv.slice(1));
    // Exit explicitly: ORT threads of the benchmark may otherwise keep the process alive.
    process.exit(code);
  }
  const parsed = parseWorkerArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(`${WORKER_USAGE}\n`);
    process.exit(0);
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`peergrid-worker: ${parsed.message}\n\n${WORKER_USAGE}\n`);
    process.exit(2);
  }
  try {
    await runWorker(parsed.options);
  } catch (err) {
    log(`failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
