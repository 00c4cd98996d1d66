/** The MNIST reference, computed in a child process (see reference-cli.ts) and kept per run. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { E2E_DIR, REPO_DIR } from './paths.ts';

export interface MnistReference {
  readonly digits: number;
  readonly batch: number;
  /** float32 logits, [digits, 10], row-major. */
  readonly logits: readonly number[];
  /** argmax of each row: the predicted digit. */
  readonly labels: readonly number[];
  /** The known labels of the fixture digits. */
  readonly truth: readonly number[];
}

const cache = new Map<string, Promise<MnistReference>>();

export function mnistReference(digits: number, batch: number): Promise<MnistReference> {
  const key = `${digits}/${batch}`;
  let p = cache.get(key);
  if (!p) {
    p = promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(E2E_DIR, 'harness', 'reference-cli.ts'),
        String(digits),
        String(batch),
      ],
      { cwd: REPO_DIR, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
    ).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop() as string) as MnistReference);
    cache.set(key, p);
  }
  return p;
}
