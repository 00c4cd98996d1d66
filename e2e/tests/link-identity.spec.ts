/**
 * Links bound to keys, and links through a real TURN relay, in Chromium:
 * (a) a hostile signaling server swaps a node worker's session description
 * for its own before the tab sees it: the tab refuses it, counts it, shows
 * it in the Mesh view, and the job still completes over honest links;
 * relay-only ICE (`?ice=relay`, `--ice-relay`): a tab and node workers run a
 * job through Debian's coturn on loopback, with the TURN REST credentials the
 * signaling server signs (`--turn-secret`).
 */
import { join } from 'node:path';
import {
  type RunningTurnServer,
  startTurnServer,
} from '../../node-worker/test/integration/turn-server.ts';
import { type Child, killAllChildren, spawnChild } from '../harness/children.ts';
import { expect, test } from '../harness/fixtures.ts';
import { mnistOutput, submitMnist, waitCompleted } from '../harness/jobs.ts';
import { type NodeWorker, startNodeWorker } from '../harness/node-workers.ts';
import { REPO_DIR } from '../harness/paths.ts';
import { mnistReference } from '../harness/reference.ts';
import { type SignalingProcess, startSignaling } from '../harness/signaling.ts';
import { openTab, type Tab, waitForMesh } from '../harness/tabs.ts';

const HOSTILE_CLI = join(
  REPO_DIR,
  'node-worker',
  'test',
  'integration',
  'hostile-signaling-cli.ts',
);

let signaling: SignalingProcess | undefined;
let turn: RunningTurnServer | undefined;
let hostile: Child | undefined;
const workers: NodeWorker[] = [];
const tabs: Tab[] = [];

test.afterEach(async () => {
  await Promise.allSettled(tabs.splice(0).map((t) => t.close()));
  await Promise.allSettled(workers.splice(0).map((w) => w.kill()));
  await hostile?.stop('SIGTERM', 2000);
  await signaling?.kill();
  await turn?.close();
  hostile = signaling = turn = undefined;
  await killAllChildren();
});

/** The mesh view's link counters. */
async function meshCounters(tab: Tab) {
  await tab.page.getByTestId('nav-mesh').click();
  const refused = tab.page.getByTestId('mesh-refused-count');
  const relayed = tab.page.getByTestId('mesh-relayed-count');
  return { refused, relayed };
}

test('(a) a tab refuses a session description the signaling server swapped for its own', async ({
  browser,
}) => {
  const grid = `e2e-hostile-${Date.now().toString(36)}`;
  signaling = await startSignaling();
  hostile = spawnChild(
    'hostile-signaling',
    process.execPath,
    ['--import', 'tsx', HOSTILE_CLI, '--upstream', signaling.wsUrl, '--swaps', '1'],
    { cwd: REPO_DIR },
  );
  const proxyUrl = (await hostile.waitFor(/listening on (ws:\S+)/, 30_000))[1]!;
  // The workers use the honest server; the tab's signaling goes through the hostile one.
  for (let i = 0; i < 2; i++)
    workers.push(await startNodeWorker({ signal: signaling.wsUrl, grid, name: `worker-${i}` }));
  const tab = await openTab(browser, signaling.httpUrl, {
    grid,
    name: 'submitter',
    view: 'submit',
    query: { signal: proxyUrl },
  });
  tabs.push(tab);
  await waitForMesh([tab], [tab.id, ...workers.map((w) => w.id)], 30_000);

  const reference = mnistReference(20, 10);
  const jobId = await submitMnist(tab.page, { digits: 20, batch: 10, replicas: 2, quorum: 2 });
  await waitCompleted(tab.page, jobId, 120_000);
  const out = await mnistOutput(tab.page, jobId);
  expect(out.labels).toEqual((await reference).labels);

  // The relay did swap one description, and the tab refused exactly that one.
  expect(hostile.log.filter((l) => l.startsWith('swapped ')).length).toBe(1);
  const { refused } = await meshCounters(tab);
  await expect(refused).toHaveText('1 refused');
  await expect(refused).toHaveAttribute('data-codes', 'fingerprint-mismatch:1');
  await expect(tab.page.getByTestId('mesh-connected-count')).not.toHaveText('0 connected');
  expect(tab.problems).toEqual([]);
});

test('relay-only: a tab and node workers run a job through coturn', async ({ browser }) => {
  const grid = `e2e-turn-${Date.now().toString(36)}`;
  turn = await startTurnServer();
  signaling = await startSignaling([
    '--ice-servers',
    turn.iceServer.urls.join(','),
    '--turn-secret',
    turn.secret,
  ]);
  for (let i = 0; i < 2; i++)
    workers.push(
      await startNodeWorker({ signal: signaling.wsUrl, grid, name: `worker-${i}`, iceRelay: true }),
    );
  const tab = await openTab(browser, signaling.httpUrl, {
    grid,
    name: 'submitter',
    view: 'submit',
    query: { ice: 'relay' },
  });
  tabs.push(tab);
  await waitForMesh([tab], [tab.id, ...workers.map((w) => w.id)], 30_000);

  const before = turn.allocations();
  const reference = mnistReference(20, 10);
  const jobId = await submitMnist(tab.page, { digits: 20, batch: 10, replicas: 2, quorum: 2 });
  await waitCompleted(tab.page, jobId, 120_000);
  const out = await mnistOutput(tab.page, jobId);
  expect(out.labels).toEqual((await reference).labels);

  // The workers were reached relay-only, through allocations on this coturn.
  expect(turn.allocations()).toBeGreaterThan(before);
  const { relayed, refused } = await meshCounters(tab);
  await expect(relayed).toHaveText(/^\d+ relayed$/);
  expect(Number((await relayed.textContent())!.split(' ')[0])).toBeGreaterThanOrEqual(1);
  await expect(tab.page.getByTestId('mesh-connected-count')).not.toHaveText('0 connected');
  await expect(refused).toHaveText('0 refused');
  expect(tab.problems).toEqual([]);
});
