/**
 * bench:mixed — speed-aware placement on a real mesh of mixed speeds: one
 * fast donor and several slowed ones (`--cpu-share`: a donor that idles
 * after each task so it runs at most that share of the time), real
 * `peergrid-worker` processes over WebRTC on loopback, ~20 ms matmul tasks.
 *
 * First each donor's speed is measured, all at once, each on a job only it
 * may take (so each is measured under the load of the mixed run), then one
 * job runs on all of them. Ideal = tasks ÷ the sum of the measured
 * speeds; the figure is makespan ÷ ideal (1 = every donor busy from the
 * first assign to the last result). One replica, no audits: placement and
 * stragglers only. Progress on stderr; the last line on stdout is one JSON
 * object: {"makespanVsIdeal":…,"idealS":…,"makespanS":…,"speeds":[…],"tasks":[…],…}
 *
 *   npm run bench:mixed -- [--slow 3] [--slow-share 10] [--tasks 1200] [--preset ms20]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createMemoryBlobCache, type JobSpec, type PeerId } from '@peergrid/shared';
import { startSignalingServer } from '@peergrid/signaling';
import { connectNodeGridPeer, type NodeGridPeer } from '../src/worker/node-grid-peer.ts';
import { loadOrCreateIdentity } from '../src/worker/node-identity.ts';
import { prepareNodeJob } from '../src/worker/node-job.ts';
import { createMatmulJob, MATMUL_PRESETS } from '../src/workloads/index.ts';
import { TRANSPORT_ONLY } from './grid-cluster.ts';

const USAGE = `npm run bench:mixed -- [options]
  --slow N          slowed donors beside the one fast donor (default 3)
  --slow-share P    CPU share of each slowed donor, percent (default 10: ~10x slower)
  --tasks N         tasks in the mixed run (default 1200)
  --preset NAME     matmul preset of the tasks: ${Object.keys(MATMUL_PRESETS).join(', ')} (default ms20)
  --solo-seconds S  about how long the donors' speed runs take (default 6)
  --help            this text`;

const WORKER_BIN = fileURLToPath(new URL('../bin/peergrid-worker.js', import.meta.url));
const log = (line: string) => process.stderr.write(`${line}\n`);
const r3 = (x: number) => Math.round(x * 1000) / 1000;

interface Donor {
  readonly id: PeerId;
  readonly share: number;
  readonly child: ChildProcess;
}

async function run(
  peer: NodeGridPeer,
  spec: JobSpec,
  only: ReadonlySet<PeerId>,
  label: string,
): Promise<{ seconds: number; byDonor: Map<PeerId, number> }> {
  const job = await prepareNodeJob({ spec });
  const byDonor = new Map<PeerId, number>();
  const t0 = performance.now();
  let lastLog = 0;
  const runner = job.run(peer, {
    isDonor: (p) => only.has(p.id),
    onEvent: (e) => {
      if (e.type === 'lease-verdict' && e.verdict === 'accepted' && e.donor)
        byDonor.set(e.donor, (byDonor.get(e.donor) ?? 0) + 1);
    },
    onProgress: (p) => {
      if (performance.now() - lastLog < 1000) return;
      lastLog = performance.now();
      log(`  ${label}: ${p.tasks.verified}/${p.total} verified`);
    },
  });
  const outcome = await runner.done;
  const seconds = (performance.now() - t0) / 1000;
  if (outcome.state !== 'completed') throw new Error(`${label}: job ${outcome.state}`);
  return { seconds, byDonor };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      slow: { type: 'string', default: '3' },
      'slow-share': { type: 'string', default: '10' },
      tasks: { type: 'string', default: '1200' },
      preset: { type: 'string', default: 'ms20' },
      'solo-seconds': { type: 'string', default: '6' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const int = (k: 'slow' | 'slow-share' | 'tasks', min: number, max: number) => {
    const n = Number(values[k]);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${k} must be an integer from ${min} to ${max}\n${USAGE}`);
    }
    return n;
  };
  const slow = int('slow', 1, 8);
  const share = int('slow-share', 1, 100);
  const tasks = int('tasks', 10, 1_000_000);
  const soloSeconds = Number(values['solo-seconds']);
  if (!(soloSeconds > 0)) throw new Error(`--solo-seconds must be a number > 0\n${USAGE}`);
  const preset = values.preset as keyof typeof MATMUL_PRESETS;
  if (!(preset in MATMUL_PRESETS)) throw new Error(`unknown --preset ${values.preset}\n${USAGE}`);

  const server = await startSignalingServer({ port: 0, host: '127.0.0.1' });
  const signal = server.url.replace(/^http/, 'ws');
  const dir = mkdtempSync(join(tmpdir(), 'peergrid-mixed-'));
  const donors: Donor[] = [];
  let submitter: NodeGridPeer | undefined;
  try {
    for (let i = 0; i <= slow; i++) {
      const idFile = join(dir, `w${i}.json`);
      const { id } = await loadOrCreateIdentity(idFile);
      const pct = i === 0 ? 100 : share;
      const args = [
        WORKER_BIN,
        ...['--signal', signal, '--grid', 'mixed', '--backend', 'cpu', '--concurrency', '1'],
        ...['--cache', join(dir, `c${i}`), '--identity', idFile, '--cpu-share', String(pct)],
      ];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      donors.push({ id, share: pct / 100, child });
    }
    const identity = await loadOrCreateIdentity(join(dir, 'submitter.json'));
    submitter = await connectNodeGridPeer({
      signal,
      grid: 'mixed',
      identity,
      capabilities: { runtime: 'node', backends: [], cores: 1, memoryMB: 0, maxConcurrency: 0 },
      cache: createMemoryBlobCache(),
    });
    const t0 = Date.now();
    while (submitter.signaling.peers().size < donors.length) {
      if (Date.now() - t0 > 60_000) throw new Error('donors did not join within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    log(`bench:mixed: 1 fast donor + ${slow} at ${share} % CPU share, ${preset} tasks`);

    // Each donor's speed: first a warm-up job each (model fetched, sessions made) and a probe
    // of the fast one; then every donor at once on a job only it may take, each sized to last
    // about --solo-seconds, so each is measured under the same load as in the mixed run.
    let seed = 10_000;
    const only = (d: Donor) => new Set([d.id]);
    const solo = (n: number): JobSpec => ({
      ...createMatmulJob({ preset, tasks: n, seed: seed++ }).spec,
      policy: TRANSPORT_ONLY,
    });
    for (const d of donors) await run(submitter, solo(4), only(d), 'warm-up');
    const probe = 40;
    const fastGuess =
      probe / (await run(submitter, solo(probe), only(donors[0]!), 'probe')).seconds;
    const sizes = donors.map((d) => Math.max(8, Math.round(fastGuess * d.share * soloSeconds)));
    const peer = submitter;
    const solos = await Promise.all(
      donors.map((d, i) => run(peer, solo(sizes[i]!), only(d), `solo ${i}`)),
    );
    const speeds = solos.map((r, i) => sizes[i]! / r.seconds);
    donors.forEach((d, i) => {
      log(`  donor ${i} (${Math.round(d.share * 100)} %): ${speeds[i]!.toFixed(1)} tasks/s`);
    });

    const spec = createMatmulJob({ preset, tasks, seed: 1 }).spec;
    const all = new Set(donors.map((d) => d.id));
    const mixed = await run(submitter, { ...spec, policy: TRANSPORT_ONLY }, all, 'mixed');
    const ideal = tasks / speeds.reduce((a, b) => a + b, 0);
    const byDonor = donors.map((d) => mixed.byDonor.get(d.id) ?? 0);
    log(
      `mixed: ${tasks} tasks in ${mixed.seconds.toFixed(2)} s, ideal ${ideal.toFixed(2)} s ` +
        `(${(mixed.seconds / ideal).toFixed(3)}x); tasks per donor ${byDonor.join(', ')}`,
    );
    console.log(
      JSON.stringify({
        makespanVsIdeal: r3(mixed.seconds / ideal),
        makespanS: r3(mixed.seconds),
        idealS: r3(ideal),
        tasks,
        preset,
        slowShare: share / 100,
        speeds: speeds.map(r3),
        tasksByDonor: byDonor,
        fastShareOfTasks: r3(byDonor[0]! / tasks),
        fastShareOfSpeed: r3(speeds[0]! / speeds.reduce((a, b) => a + b, 0)),
      }),
    );
  } finally {
    await submitter?.shutdown();
    await Promise.all(
      donors.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 8000).unref();
          }),
      ),
    );
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
