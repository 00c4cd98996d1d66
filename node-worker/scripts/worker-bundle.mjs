// The worker's code as one ESM bundle (esbuild), so `peergrid-worker` starts
// without resolving and transpiling ~100 TypeScript modules through tsx
// (about 0.3 s less CPU per start). The bundle (node-worker/dist/) is rebuilt
// when a source under node-worker/src or shared/src is newer than it; npm
// packages stay external. If bundling fails, the worker runs through tsx.
import { copyFileSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const ENTRY = join(pkg, 'src', 'worker', 'run-worker.ts');
const OUT_DIR = join(pkg, 'dist');
const BUNDLE = join(OUT_DIR, 'peergrid-worker.mjs');
/** Loaded by the executor next to its own module (`new URL('./ort-worker.mjs', import.meta.url)`). */
const RUNNER = join(pkg, 'src', 'exec', 'ort-worker.mjs');
const SOURCES = [join(pkg, 'src'), join(pkg, '..', 'shared', 'src')];

/** Newest modification time of the bundle's sources, ms. */
function newestSource() {
  let newest = statSync(join(here, 'worker-bundle.mjs')).mtimeMs;
  for (const dir of SOURCES) {
    for (const name of readdirSync(dir, { recursive: true })) {
      if (!/\.(ts|mjs)$/.test(name)) continue;
      newest = Math.max(newest, statSync(join(dir, name)).mtimeMs);
    }
  }
  return newest;
}

function fresh() {
  try {
    return statSync(BUNDLE).mtimeMs >= newestSource();
  } catch {
    return false;
  }
}

/** npm packages stay external (native addons, ORT's files); our workspaces are bundled. */
const externalPackages = {
  name: 'external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@peergrid/') ? undefined : { path: args.path, external: true },
    );
  },
};

async function build() {
  const { build: esbuild } = await import('esbuild');
  // Written aside and renamed into place: workers starting together may all build.
  const tmp = join(OUT_DIR, `.build-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  await esbuild({
    entryPoints: [ENTRY],
    outfile: join(tmp, 'peergrid-worker.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    plugins: [externalPackages],
    logLevel: 'warning',
  });
  copyFileSync(RUNNER, join(tmp, 'ort-worker.mjs'));
  renameSync(join(tmp, 'ort-worker.mjs'), join(OUT_DIR, 'ort-worker.mjs'));
  renameSync(join(tmp, 'peergrid-worker.mjs.map'), join(OUT_DIR, 'peergrid-worker.mjs.map'));
  renameSync(join(tmp, 'peergrid-worker.mjs'), BUNDLE);
  rmSync(tmp, { recursive: true, force: true });
}

/** `workerMain` from the bundle (built first when stale), else through tsx. */
export async function loadWorkerMain() {
  try {
    if (!fresh()) await build();
    return (await import(pathToFileURL(BUNDLE).href)).workerMain;
  } catch (err) {
    process.stderr.write(
      `[peergrid-worker] running from source (bundle unavailable: ${err.message})\n`,
    );
    const { register } = await import('tsx/esm/api');
    register();
    return (await import('../src/worker/run-worker.ts')).workerMain;
  }
}
