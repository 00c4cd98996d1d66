/**
 * The page the suite serves: `web-client/dist`, built when missing or older
 * than its sources, then copied into a private directory for this run (so a
 * rebuild by someone else mid-run cannot pull files from under the tabs).
 * The copy's path goes to workers in PEERGRID_E2E_STATIC.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR, WEB_DIST } from './paths.ts';

/** Sources the built page depends on. */
const SOURCES = [
  'web-client/src',
  'web-client/index.html',
  'web-client/vite.config.ts',
  'web-client/package.json',
  'shared/src',
  'node-worker/fixtures',
];
/** Files the page loads besides those index.html names. */
const REQUIRED = [
  'ort/ort-wasm-simd-threaded.jsep.wasm',
  'ort/ort-wasm-simd-threaded.jsep.mjs',
  'ort/ort-wasm-simd-threaded.wasm',
  'ort/ort-wasm-simd-threaded.mjs',
];
/** Attempts to take a complete copy while someone else may be rebuilding. Default 5. */
const COPY_ATTEMPTS = 5;

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

/** Why the page needs a build, or null when dist is up to date. */
export function staleReason(): string | null {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return 'web-client/dist is missing';
  const built = statSync(index).mtimeMs;
  const changed = SOURCES.find((s) => newest(join(REPO_DIR, s)) > built);
  return changed ? `${changed} changed since the last build` : null;
}

/** What is missing from a built page directory (empty when complete). */
export function missingFiles(dir: string): string[] {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return ['index.html'];
  const html = readFileSync(index, 'utf8');
  const linked = [...html.matchAll(/(?:src|href)="\/?([^"?#]+\.(?:js|css))"/g)].map(
    (m) => m[1] as string,
  );
  const missing = [...linked, ...REQUIRED].filter((f) => !existsSync(join(dir, f)));
  const wasm = join(dir, REQUIRED[0] as string);
  if (existsSync(wasm) && readFileSync(wasm).subarray(0, 4).toString('hex') !== '0061736d')
    missing.push(`${REQUIRED[0]} (not WebAssembly)`);
  return missing;
}

/** Builds if needed and returns a private, complete copy of the page. */
export function preparePage(log: (line: string) => void = () => {}): string {
  const why = staleReason();
  if (why) {
    log(`e2e: building the page (${why})…`);
    execFileSync('npm', ['run', 'build', '-w', 'web-client', '--silent'], {
      cwd: REPO_DIR,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'peergrid-e2e-web-'));
    cpSync(WEB_DIST, dir, { recursive: true, filter: (src) => !src.endsWith('.map') });
    const missing = missingFiles(dir);
    if (missing.length === 0) return dir;
    rmSync(dir, { recursive: true, force: true });
    if (attempt >= COPY_ATTEMPTS)
      throw new Error(`web-client/dist is incomplete (missing ${missing.join(', ')})`);
    log(`e2e: web-client/dist is being rebuilt (missing ${missing[0]}); trying again`);
    execFileSync('sleep', ['2']);
  }
}

export default function globalSetup(): () => void {
  const dir = preparePage((line) => process.stderr.write(`${line}\n`));
  process.env.PEERGRID_E2E_STATIC = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
