/**
 * Links through a real TURN server: Debian's coturn on loopback with the
 * shared secret the signaling server signs TURN REST credentials with.
 * Relay-only ICE between pools (node-datachannel and @roamhq/wrtc), the
 * relay-only retry when direct candidates never connect (a NAT that passes
 * only the relay, modelled by dropping every non-relay candidate), and a job
 * between `peergrid-worker` processes and a submitter that all link relay-only.
 */
import {
  createIdentity,
  createMemorySignalHub,
  type IceServer,
  type PeerLink,
  type PeerMessage,
  type SignalChannel,
  tensorFrom,
} from '@peergrid/shared';
import { iceServersFor } from '@peergrid/signaling';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeExecutor } from '../../src/exec/node-executor.ts';
import { createNodePeerPool, type NodePeerPool } from '../../src/transport/node-peer-pool.ts';
import { createNodeWrtc, type NodeWrtc, type NodeWrtcKind } from '../../src/transport/node-wrtc.ts';
import { nodeSubtle } from '../../src/worker/node-identity.ts';
import { createMnistJob } from '../../src/workloads/index.ts';
import { mismatches, runJob, startTestGrid } from './grid-harness.ts';
import { type RunningTurnServer, startTurnServer, turnServerAvailable } from './turn-server.ts';

let turn: RunningTurnServer;
beforeAll(async () => {
  if (!turnServerAvailable()) {
    throw new Error('coturn is not installed (apt-get install coturn; .ci/run installs it)');
  }
  turn = await startTurnServer();
});
afterAll(async () => {
  await turn?.close();
});

const credentials = (peer: string): IceServer[] =>
  iceServersFor([turn.iceServer], peer, turn.secret, 600);

/**
 * A network where a first attempt never connects: every ICE candidate of an
 * attempt that is not relay-only (no `r: 1`) is lost, in trickled signals and
 * in the SDP alike, as behind NATs that only a relay gets through (where the
 * direct attempt's own relay candidates came too late or not at all).
 */
function directNeverConnects(inner: SignalChannel, enabled: () => boolean): SignalChannel {
  const strip = (data: unknown): unknown | null => {
    const env = data as { pg?: string; r?: number; d?: { sdp?: string; candidate?: unknown } };
    if (!enabled() || env.pg !== 'sig' || env.r === 1 || !env.d) return data;
    if (typeof env.d.sdp === 'string') {
      const sdp = env.d.sdp
        .split(/\r\n/)
        .filter((l) => !l.startsWith('a=candidate:'))
        .join('\r\n');
      return { ...env, d: { ...env.d, sdp } };
    }
    return env.d.candidate !== undefined ? null : data;
  };
  return {
    selfId: inner.selfId,
    sendSignal(to, data) {
      const out = strip(data);
      if (out !== null) inner.sendSignal(to, out);
    },
    onSignal: (h) => inner.onSignal(h),
  };
}

function echo(link: PeerLink): void {
  link.onMessage((m) => {
    if (m.type === 'assign') {
      void link.send({
        type: 'result',
        leaseId: m.leaseId,
        outputs: m.feeds,
        computeMs: 1,
        backend: 'cpu',
      });
    }
  });
}

async function roundTrip(a: PeerLink, bytes: number): Promise<void> {
  const n = bytes / 4;
  const x = tensorFrom(
    'float32',
    [n],
    Float32Array.from({ length: n }, (_, i) => i % 997),
  );
  const back = new Promise<PeerMessage>((resolve) => {
    const off = a.onMessage((m) => {
      if (m.type === 'result') {
        off();
        resolve(m);
      }
    });
  });
  await a.send({
    type: 'assign',
    leaseId: 'L1',
    jobId: 'j',
    modelHash: 'f'.repeat(64),
    modelBytes: 1,
    feeds: { x },
    deadlineMs: 60_000,
  });
  const m = await back;
  expect(m.type === 'result' && Buffer.from(m.outputs.x!.data).equals(Buffer.from(x.data))).toBe(
    true,
  );
}

for (const kind of ['ndc', 'wrtc'] as NodeWrtcKind[]) {
  describe(`links through coturn (${kind})`, () => {
    let native: NodeWrtc;
    const pools: NodePeerPool[] = [];
    beforeAll(async () => {
      native = await createNodeWrtc(kind);
    });
    afterAll(async () => {
      for (const p of pools) await p.shutdown();
      await native.shutdown();
    });

    async function pair(o: {
      relay?: boolean;
      nat?: () => boolean;
      iceServers?: (id: string) => IceServer[];
      connectTimeoutMs?: number;
      link?: { heartbeatIntervalMs: number; deadAfterMs: number };
    }) {
      const hub = createMemorySignalHub();
      const ids = [await createIdentity(nodeSubtle), await createIdentity(nodeSubtle)];
      const made = await Promise.all(
        ids.map((identity) =>
          createNodePeerPool({
            signal: directNeverConnects(hub.channel(identity.id), o.nat ?? (() => false)),
            native,
            ...(o.link ? { link: o.link } : {}),
            auth: { identity, subtle: nodeSubtle },
            iceServers: (o.iceServers ?? credentials)(identity.id),
            ...(o.relay ? { iceTransportPolicy: 'relay' as const } : {}),
            connectTimeoutMs: o.connectTimeoutMs ?? 8000,
          }),
        ),
      );
      pools.push(...made);
      const [a, b] = made as [NodePeerPool, NodePeerPool];
      b.on('link-open', echo);
      return { a, b, B: ids[1]!.id };
    }

    it('forms a relay-only link, carries a 4 MB tensor both ways, and dies with the relay', async () => {
      // A TURN server of this test's own: it is stopped below.
      const own = await startTurnServer();
      try {
        const { a, b, B } = await pair({
          relay: true,
          iceServers: (id) => iceServersFor([own.iceServer], id, own.secret, 600),
          link: { heartbeatIntervalMs: 250, deadAfterMs: 2000 },
        });
        const link = await a.connect(B);
        await roundTrip(link, 4 << 20);
        expect(own.allocations()).toBeGreaterThan(0);
        expect(a.stats()).toMatchObject({ relayedLinks: 1, relayRetries: 0 });
        expect(b.stats().relayedLinks).toBe(1);
        // Every path of the link runs through the relay: without it the link goes silent.
        const closed = new Promise<string>((resolve) => link.onClose((r) => resolve(r.code)));
        await own.close();
        expect(['peer-timeout', 'peer-closed', 'peer-error']).toContain(await closed);
      } finally {
        await own.close();
      }
    }, 30_000);

    it('relay-only without a TURN server never connects (the policy is applied)', async () => {
      const { a, B } = await pair({ relay: true, iceServers: () => [], connectTimeoutMs: 2500 });
      await expect(a.connect(B)).rejects.toMatchObject({ code: 'connect-timeout' });
      expect(a.stats().relayedLinks).toBe(0);
    }, 30_000);

    it('retries relay-only when the direct attempt times out, and counts it', async () => {
      const { a, B } = await pair({ nat: () => true, connectTimeoutMs: 3000 });
      const link = await a.connect(B);
      await roundTrip(link, 1 << 20);
      expect(a.stats()).toMatchObject({ relayRetries: 1, relayedLinks: 1, refused: {} });
    }, 30_000);
  });
}

describe('a job over relay-only links', () => {
  it('runs MNIST between a relay-only submitter and relay-only peergrid-worker processes', async () => {
    const executor = createNodeExecutor({ backend: 'cpu', concurrency: 1 });
    // Three donors: a task planned with an audit wants a third.
    const grid = await startTestGrid([{ iceRelay: true }, { iceRelay: true }, { iceRelay: true }], {
      turn: { iceServer: turn.iceServer, secret: turn.secret },
      submitterRelay: true,
      grid: 'turn-itest',
    });
    try {
      const before = turn.allocations();
      const wl = createMnistJob({ batchSize: 100, limit: 400 });
      const reference = await wl.reference(executor, { backend: 'cpu' });
      const out = await runJob(grid.submitter, wl.spec);
      expect(out.state).toBe('completed');
      expect(mismatches(out.results, reference)).toEqual([]);
      expect(turn.allocations()).toBeGreaterThan(before);
      const stats = grid.submitter.pool.stats();
      expect(stats.relayedLinks).toBeGreaterThanOrEqual(3);
      expect(stats.refused).toEqual({});
    } finally {
      await grid.close();
      await executor.close();
    }
  }, 120_000);
});
