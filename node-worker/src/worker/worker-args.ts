/** `peergrid-worker` flags → options, with the usage text. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '@peergrid/shared';
import { parseGridFlags } from '../cli/grid-flags.ts';
import { NODE_BACKENDS } from '../exec/detect-backends.ts';
import type { NodeWrtcKind } from '../transport/node-wrtc.ts';
import { parseSchedule, type Schedule } from './schedule.ts';
import {
  BETRAY_AFTER,
  parseSabotageStrategy,
  SABOTAGE_STRATEGIES,
  type TestSabotage,
} from './test-sabotage.ts';

export interface WorkerOptions {
  readonly signal: string;
  readonly grid: string;
  readonly token?: string;
  /** Tasks run at once. Default: available cores. */
  readonly concurrency?: number;
  readonly backend: 'auto' | Backend;
  /** Model cache directory. Default $PEERGRID_CACHE, else ~/.cache/peergrid/models. */
  readonly cache: string;
  /** Leases queued beyond the running ones. Default 2 × concurrency. */
  readonly maxQueued?: number;
  /** Other donors to keep a link to, so models spread donor to donor. Default 3. */
  readonly mesh: number;
  /** Largest model accepted, MiB. Default 256. */
  readonly maxModelMB: number;
  readonly webrtc?: NodeWrtcKind;
  /** `--ice-relay`: relay-only ICE through the grid's TURN server. Default off. */
  readonly iceRelay?: boolean;
  /** Identity file. Default $PEERGRID_IDENTITY, else <cache>/identity.json. */
  readonly identity: string;
  /** Seconds to let running tasks finish on SIGINT/SIGTERM. Default 30. */
  readonly drainSeconds: number;
  /** Serve Prometheus metrics on this port (0 = any free port). Default: no metrics server. */
  readonly metricsPort?: number;
  /** Address the metrics server binds. Default 0.0.0.0 (scraped from other machines). */
  readonly metricsHost: string;
  /** Share of each slot's time spent running, 0.01–1 (`--cpu-share` is in percent). Default 1. */
  readonly cpuShare: number;
  /** Pause while other programs keep the 1-minute load average above this. Default: never. */
  readonly pauseAboveLoad?: number;
  /** Donate only inside these local-time windows. Default: always. */
  readonly schedule?: Schedule;
  /** On a pause, running tasks finish (default) or are handed back at once. */
  readonly onPause: 'finish' | 'hand-back';
  /** TESTS ONLY: wrong outputs (see test-sabotage.ts). Needs PEERGRID_TEST_SABOTAGE=1 as well. Default off. */
  readonly testOnlySabotage?: TestSabotage;
}

export const WORKER_USAGE = `peergrid-worker --signal ws://HOST:8787 --grid NAME [options]
peergrid-worker doctor [--backend B] [--seconds N]    (what runs here, and why not; --help)

Joins a PeerGrid grid as a headless donor and runs ONNX tasks for submitters.

  --signal URL          signaling server (ws:// or wss://)            required
  --grid NAME           grid to join                                  default: default
  --token T             join token, when the grid requires one
  --concurrency N       tasks run at once                             default: cores
  --backend B           auto | cpu | cuda | wasm                      default: auto
  --cache DIR           model cache (by SHA-256, verified on load)    default: $PEERGRID_CACHE or ~/.cache/peergrid/models
  --max-model-mb M      largest model accepted, MiB                   default: 256
  --mesh N              other donors to link to (model swarm)         default: 3
  --max-queued N        tasks queued beyond the running ones          default: 64 × concurrency
  --webrtc ndc|wrtc     native WebRTC (node-datachannel, @roamhq/wrtc) default: ndc
  --ice-relay           links through the grid's TURN server only (relay-only ICE)
  --identity FILE       Ed25519 key pair (created if missing)         default: $PEERGRID_IDENTITY or <cache>/identity.json
  --drain-s N           on SIGINT/SIGTERM, seconds to finish tasks    default: 30
  --metrics-port P      serve Prometheus metrics at :P/metrics (0: any free port)  default: off
  --metrics-host H      address the metrics server binds              default: 0.0.0.0
  --cpu-share N         use at most N % of each slot's time (1-100): after a task
                        of t s a slot rests t·(100-N)/N s             default: 100
  --pause-above-load X  pause while other programs keep the 1-minute load
                        average above X (this worker's own part is left out);
                        resume below 3/4 of X                         default: never
  --schedule W[,W…]     donate only inside these local-time windows,
                        W = HH:MM-HH:MM (22:00-07:00 runs past midnight)
                                                                      default: always
  --on-pause P          finish | hand-back: on a pause, running tasks finish, or
                        go back to their submitters at once (error 'paused');
                        queued ones always go back at once           default: finish
  -h, --help            this help

Tasks handed back as 'paused' are re-issued by their submitters without
charging the task or this worker's reputation.

On SIGINT/SIGTERM the worker stops taking tasks, hands back queued ones
(error 'shutting-down'), lets running ones finish, then leaves and exits.`;

export type ParsedWorkerArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ok'; readonly options: WorkerOptions };

const BACKENDS = ['auto', ...NODE_BACKENDS] as const;
const nonEmpty = (s: string | undefined) => (s === undefined || s === '' ? undefined : s);
const SABOTAGE_FLAG = '--test-only-sabotage';

/**
 * `--test-only-sabotage` alone (last, or before another flag) means
 * `always`, as before strategies existed; parseArgs wants a value for it.
 */
function withSabotageDefault(argv: readonly string[]): string[] {
  return argv.map((a, i) => {
    const next = argv[i + 1];
    return a === SABOTAGE_FLAG && (next === undefined || next.startsWith('-'))
      ? `${SABOTAGE_FLAG}=always`
      : a;
  });
}

export function parseWorkerArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedWorkerArgs {
  const parsed = parseGridFlags(withSabotageDefault(argv), {
    concurrency: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    cache: { type: 'string' },
    'max-model-mb': { type: 'string', default: '256' },
    'max-queued': { type: 'string' },
    mesh: { type: 'string', default: '3' },
    identity: { type: 'string' },
    'drain-s': { type: 'string', default: '30' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string', default: '0.0.0.0' },
    'cpu-share': { type: 'string', default: '100' },
    'pause-above-load': { type: 'string' },
    schedule: { type: 'string' },
    'on-pause': { type: 'string', default: 'finish' },
    'test-only-sabotage': { type: 'string' },
    'test-only-betray-after': { type: 'string' },
  });
  if (parsed.kind !== 'ok') return parsed;
  const { str, signal, webrtc, iceRelay } = parsed;
  const num = (k: string, min: number): number | null | undefined => {
    const s = str(k);
    if (s === undefined) return undefined;
    const n = Number(s);
    return Number.isFinite(n) && n >= min ? n : null;
  };
  const concurrency = num('concurrency', 1);
  const maxModelMB = num('max-model-mb', 1);
  const maxQueued = num('max-queued', 0);
  const mesh = num('mesh', 0);
  if (mesh === null || mesh === undefined || !Number.isInteger(mesh)) {
    return { kind: 'error', message: '--mesh must be an integer >= 0' };
  }
  if (maxQueued === null || (maxQueued !== undefined && !Number.isInteger(maxQueued))) {
    return { kind: 'error', message: '--max-queued must be an integer >= 0' };
  }
  const drainSeconds = num('drain-s', 0);
  if (concurrency === null || (concurrency !== undefined && !Number.isInteger(concurrency))) {
    return { kind: 'error', message: '--concurrency must be an integer >= 1' };
  }
  if (!maxModelMB) return { kind: 'error', message: '--max-model-mb must be a number >= 1' };
  if (drainSeconds === null || drainSeconds === undefined) {
    return { kind: 'error', message: '--drain-s must be a number >= 0' };
  }
  const metricsPort = num('metrics-port', 0);
  if (
    metricsPort === null ||
    (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort > 65535))
  ) {
    return { kind: 'error', message: '--metrics-port must be an integer from 0 to 65535' };
  }
  const metricsHost = str('metrics-host') ?? '0.0.0.0';
  if (metricsHost.trim() === '') {
    return { kind: 'error', message: '--metrics-host must be an address, e.g. 127.0.0.1' };
  }
  const cpuPercent = num('cpu-share', 1);
  if (cpuPercent === null || cpuPercent === undefined || cpuPercent > 100) {
    return { kind: 'error', message: '--cpu-share must be a percentage from 1 to 100' };
  }
  const pauseAboveLoad = num('pause-above-load', 0);
  if (pauseAboveLoad === null || pauseAboveLoad === 0) {
    return {
      kind: 'error',
      message: '--pause-above-load must be a load average above 0, e.g. 1.5',
    };
  }
  const scheduleText = str('schedule');
  const schedule = scheduleText === undefined ? undefined : parseSchedule(scheduleText);
  if (schedule !== undefined && 'error' in schedule) {
    return { kind: 'error', message: `--schedule: ${schedule.error}` };
  }
  const onPause = str('on-pause');
  if (onPause !== 'finish' && onPause !== 'hand-back') {
    return { kind: 'error', message: '--on-pause must be finish or hand-back' };
  }
  const backend = BACKENDS.find((b) => b === str('backend'));
  if (!backend)
    return { kind: 'error', message: `--backend must be one of ${BACKENDS.join(', ')}` };
  if (webrtc === null) return { kind: 'error', message: '--webrtc must be ndc or wrtc' };
  const sabotageText = str('test-only-sabotage');
  const betrayAfter = num('test-only-betray-after', 0);
  if (sabotageText !== undefined || betrayAfter !== undefined) {
    if (env.PEERGRID_TEST_SABOTAGE !== '1') {
      return {
        kind: 'error',
        message: '--test-only-sabotage exists for tests only and needs PEERGRID_TEST_SABOTAGE=1',
      };
    }
    if (sabotageText === undefined) {
      return { kind: 'error', message: '--test-only-betray-after needs --test-only-sabotage' };
    }
  }
  const strategy = sabotageText === undefined ? undefined : parseSabotageStrategy(sabotageText);
  if (strategy === null) {
    return {
      kind: 'error',
      message: `--test-only-sabotage must be one of ${SABOTAGE_STRATEGIES.join(', ')}`,
    };
  }
  if (betrayAfter === null || (betrayAfter !== undefined && !Number.isInteger(betrayAfter))) {
    return { kind: 'error', message: '--test-only-betray-after must be an integer >= 0' };
  }
  const cacheHome = env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const cache =
    str('cache') ?? nonEmpty(env.PEERGRID_CACHE) ?? join(cacheHome, 'peergrid', 'models');
  const token = str('token');
  return {
    kind: 'ok',
    options: {
      signal,
      grid: str('grid') ?? 'default',
      ...(token !== undefined ? { token } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      backend,
      cache,
      maxModelMB,
      mesh,
      ...(maxQueued !== undefined ? { maxQueued } : {}),
      ...(webrtc ? { webrtc } : {}),
      ...(iceRelay ? { iceRelay } : {}),
      identity: str('identity') ?? nonEmpty(env.PEERGRID_IDENTITY) ?? join(cache, 'identity.json'),
      drainSeconds,
      ...(metricsPort !== undefined ? { metricsPort } : {}),
      metricsHost,
      cpuShare: cpuPercent / 100,
      ...(pauseAboveLoad !== undefined ? { pauseAboveLoad } : {}),
      ...(schedule !== undefined ? { schedule } : {}),
      onPause,
      ...(strategy
        ? { testOnlySabotage: { strategy, betrayAfter: betrayAfter ?? BETRAY_AFTER } }
        : {}),
    },
  };
}
