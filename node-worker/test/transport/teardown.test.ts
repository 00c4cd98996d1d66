/** After shutdown nothing keeps a Node process alive (no process.exit needed). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/exit-after-shutdown.ts', import.meta.url));

function run(kind: string): Promise<{ code: number | null; out: string; lingerMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, kind], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let shutAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('shut-down') && !shutAt) shutAt = performance.now();
    });
    // A process still alive this long after shutdown is held by a leaked handle.
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, out, lingerMs: shutAt ? performance.now() - shutAt : Number.NaN });
    });
  });
}

describe('teardown', () => {
  it.each(['ndc', 'wrtc'])('a %s process exits by itself after shutdown', async (kind) => {
    const r = await run(kind);
    expect(r.out).toContain('shut-down');
    expect(r.code).toBe(0);
    // simple-peer's 5 s ICE timer used to hold the process; it must be cleared.
    expect(r.lingerMs).toBeLessThan(4000);
  });
});
