import { existsSync } from 'node:fs';

/** Flags every PeerGrid e2e browser runs with (no network but loopback here). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The system Chromium Playwright drives. We never download a browser: set
 * PEERGRID_CHROMIUM to a Chromium binary, or install Debian's package.
 */
export function chromiumPath(): string {
  const candidates = [
    process.env.PEERGRID_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
  ].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      'No Chromium found for the e2e tests. Install one (Debian/Ubuntu: ' +
        '`sudo apt-get install -y chromium`) or set PEERGRID_CHROMIUM=/path/to/chromium. ' +
        'PeerGrid never downloads a browser.',
    );
  }
  return found;
}
