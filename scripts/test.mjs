#!/usr/bin/env node
// `npm test`: typecheck, lint, every Vitest project, then the Playwright e2e suite.
// Prints one closing line "N passed, N failed" summed over the runners.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const steps = [];
function run(name, cmd, args, env = {}) {
  const t0 = Date.now();
  console.log(`\n▶ ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  const ok = r.status === 0;
  console.log(`${ok ? '✔' : '✘'} ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  steps.push({ name, ok });
  return ok;
}

const dir = mkdtempSync(join(tmpdir(), 'peergrid-test-'));
let passed = 0;
let failed = 0;
function count(file, pick) {
  try {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    const [p, f] = pick(j);
    passed += p;
    failed += f;
  } catch {
    failed += 1; // a runner that wrote no report counts as one failure
  }
}

run('typecheck', 'npm', ['run', 'typecheck', '--silent']);
run('lint', 'npx', ['biome', 'check', '.']);
const vitestJson = join(dir, 'vitest.json');
run('unit + integration (vitest)', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${vitestJson}`,
]);
count(vitestJson, (j) => [j.numPassedTests ?? 0, j.numFailedTests ?? 0]);
const e2eJson = join(dir, 'e2e.json');
run('e2e (playwright)', 'npm', ['test', '-w', 'e2e', '--silent'], {
  PLAYWRIGHT_JSON_OUTPUT_NAME: e2eJson,
});
count(e2eJson, (j) => [j.stats?.expected ?? 0, j.stats?.unexpected ?? 0]);
rmSync(dir, { recursive: true, force: true });

const bad = steps.filter((s) => !s.ok).map((s) => s.name);
if (bad.length) console.log(`\nfailed steps: ${bad.join(', ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(bad.length || failed ? 1 : 0);
