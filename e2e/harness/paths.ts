/** Where things live in the repository, from this file. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(E2E_DIR, '..');
export const WEB_DIST = join(REPO_DIR, 'web-client', 'dist');
/** The page the signaling server serves: this run's copy (see global-setup.ts), else dist. */
export const staticDir = (): string => process.env.PEERGRID_E2E_STATIC ?? WEB_DIST;
export const SIGNALING_BIN = join(REPO_DIR, 'signaling', 'bin', 'peergrid-signaling.js');
export const WORKER_BIN = join(REPO_DIR, 'node-worker', 'bin', 'peergrid-worker.js');
