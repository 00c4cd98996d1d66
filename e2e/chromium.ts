import { existsSync } from 'node:fs';

/**
 * Features Playwright (1.65) turns off itself. Chromium keeps only the last
 * `--disable-features` it is given, so ours must repeat Playwright's list.
 */
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
];
/**
 * Every browser context is a window of its own, and each window starts the
 * WebUI omnibox popup in a renderer of its own (~0.7 s of CPU apiece, a whole
 * core-second per tab under load): nothing a page needs.
 */
const OMNIBOX_POPUP_FEATURES = [
  'WebUIOmniboxAimPopup',
  'WebUIOmniboxFullPopup',
  'WebUIOmniboxPopup',
];

/**
 * Chromium keeps a spare renderer process warm for the next navigation, but
 * for one browser context only: each tab opening in a context of its own
 * throws the spare away and starts another. With 16 contexts that was 23 of
 * the 56 renderers a 16-tab grid started (`npm run bench:e2e`), each spawned
 * and killed for nothing.
 */
const SPARE_RENDERER_FEATURES = ['SpareRendererForSitePerProcess'];

/** Flags every PeerGrid e2e browser runs with (no network but loopback here). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  `--disable-features=${[...PLAYWRIGHT_DISABLED_FEATURES, ...OMNIBOX_POPUP_FEATURES, ...SPARE_RENDERER_FEATURES].join(',')}`,
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
