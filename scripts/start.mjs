#!/usr/bin/env node
// `npm start`: the grid on its embedded default — the signaling server serving the
// page at http://localhost:8787 (or --port / PORT) plus one local node worker.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    grid: { type: 'string', default: 'default' },
    'no-worker': { type: 'boolean', default: false },
    rebuild: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(`npm start [-- options]

Runs the signaling server (serving the web page) and one local node worker.

  --port N       port for the page and signaling (default: PORT or 8787)
  --grid NAME    grid the local worker joins (default: default)
  --no-worker    start the signaling server only
  --rebuild      rebuild the web page even if web-client/dist exists
  -h, --help     this help`);
  process.exit(0);
}
const port = values.port ?? process.env.PORT ?? '8787';

if (values.rebuild || !existsSync(join(root, 'web-client/dist/index.html'))) {
  console.log('start: building the web page (web-client/dist)…');
  const r = spawnSync('npm', ['run', 'build', '-w', 'web-client'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const children = [];
function launch(name, bin, args) {
  const child = spawn(process.execPath, [join(root, bin), ...args], {
    cwd: root,
    stdio: 'inherit',
  });
  child.on('exit', (code, signal) => {
    console.log(`start: ${name} exited (${signal ?? code})`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

launch('signaling', 'signaling/bin/peergrid-signaling.js', ['--port', port]);

async function healthy() {
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return true;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

if (!(await healthy())) {
  console.error(`start: signaling did not become healthy on port ${port}`);
  shutdown(1);
} else {
  console.log(`start: open http://localhost:${port} to donate or submit`);
  const workerBin = 'node-worker/bin/peergrid-worker.js';
  if (!values['no-worker'] && existsSync(join(root, workerBin))) {
    launch('node worker', workerBin, ['--signal', `ws://127.0.0.1:${port}`, '--grid', values.grid]);
  }
}
