/**
 * swarmVsStarModelTime: time until N donor processes hold a ~M MB model
 * when donors also serve each other (the donor mesh; pieces pass on while
 * they still arrive) ÷ when only the submitter serves, with the submitter's
 * upload capped (a home uplink). Also logs what the submitter uploaded. The model is a real ONNX matmul model (one shared
 * size×size weight), so donors fetch, verify, cache and run it.
 */
import type { JobSpec } from '@peergrid/shared';
import { nodeSha256 } from '../src/transport/node-peer-pool.ts';
import { prepareNodeJob } from '../src/worker/node-job.ts';
import { createMatmulInput, createMatmulModel } from '../src/workloads/index.ts';
import { startCluster, TRANSPORT_ONLY } from './grid-cluster.ts';
import type { Pinning } from './pinning.ts';

export interface SwarmOptions {
  readonly donors: number;
  readonly modelMB: number;
  readonly uploadMBps: number;
  /** Cores for the donor processes (the bench pins roles; see pinning.ts). Default unpinned. */
  readonly pinning?: Pinning;
}

function modelJob(modelMB: number, tasks: number): Promise<JobSpec> | JobSpec {
  const size = Math.round(Math.sqrt((modelMB * 1e6) / 4));
  const model = createMatmulModel({ size, layers: 1 });
  return nodeSha256(model).then((hash) => ({
    name: 'swarm',
    models: { [hash]: model },
    tasks: Array.from({ length: tasks }, (_, i) => ({
      id: `t${i}`,
      model: hash,
      feeds: { x: { tensor: createMatmulInput(1, size, i + 1) } },
    })),
    // This job only carries the model to the donors.
    policy: TRANSPORT_ONLY,
  }));
}

async function distribute(o: SwarmOptions, swarm: boolean, log: (l: string) => void) {
  const cluster = await startCluster({
    donors: o.donors,
    concurrency: 1,
    maxQueued: 2,
    mesh: swarm ? 3 : 0,
    uploadBytesPerSec: o.uploadMBps * 1e6,
    ...(o.pinning ? { pinning: o.pinning } : {}),
  });
  try {
    const peer = cluster.submitter;
    // Let the donors' mesh connect before timing (each dials its next 3 on the ring).
    await new Promise((r) => setTimeout(r, swarm ? 3000 : 500));
    const spec = await modelJob(o.modelMB, o.donors * 40);
    const hash = Object.keys(spec.models)[0]!;
    const job = await prepareNodeJob({ spec });
    const t0 = performance.now();
    const runner = job.run(peer, {});
    let seconds = 0;
    for (let last = -1; ; ) {
      const held = peer.blobs.holders(hash).length;
      const at = (performance.now() - t0) / 1000;
      if (held !== last) {
        last = held;
        log(
          `  ${swarm ? 'swarm' : 'star'}: ${held}/${o.donors} donors hold the model at ${at.toFixed(2)} s`,
        );
      }
      if (held >= o.donors) {
        seconds = at;
        log(
          `  ${swarm ? 'swarm' : 'star'}: the submitter uploaded ${(peer.blobs.stats().uploadedBytes / 1e6).toFixed(1)} MB`,
        );
        break;
      }
      if (at > 180) throw new Error('model distribution timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
    await runner.cancel();
    return seconds;
  } finally {
    await cluster.close();
  }
}

export async function measureSwarm(o: SwarmOptions, log: (line: string) => void) {
  log(
    `swarm: ${o.donors} donor processes fetch a ${o.modelMB} MB model, submitter upload ${o.uploadMBps} MB/s`,
  );
  const starSeconds = await distribute(o, false, log);
  const swarmSeconds = await distribute(o, true, log);
  log(`swarm: star ${starSeconds.toFixed(2)} s, swarm ${swarmSeconds.toFixed(2)} s`);
  return { starSeconds, swarmSeconds };
}
