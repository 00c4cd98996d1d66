import { cryptoRandom, type Sha256Hex, type Timers } from '@peergrid/shared';
import { sha256Hex } from '../lib/sha256.ts';
import { createHiddenTabTimers } from './hidden-timers.ts';

/** The browser's clock, randomness, timers and hashing, for shared/'s injected seams. */
export const now = (): number => Date.now();
/** The CSPRNG: the job engine draws audits and lease ids from it (see `cryptoRandom`). */
export const random = cryptoRandom;
/** Macrotasks by MessageChannel: not clamped like setTimeout(0), nor throttled in hidden tabs. */
const deferred: (() => void)[] = [];
const deferChannel = new MessageChannel();
deferChannel.port1.onmessage = () => {
  for (const fn of deferred.splice(0)) fn();
};
// Timeouts asked for while the tab is hidden run in a worker (hidden-timers.ts): not throttled.
const hiddenTimers = createHiddenTabTimers();
export const timers: Timers = {
  setTimeout: hiddenTimers.setTimeout,
  clearTimeout: hiddenTimers.clearTimeout,
  defer: (fn) => {
    if (deferred.push(fn) === 1) deferChannel.port2.postMessage(0);
  },
};
/** SHA-256 hex (WebCrypto). */
export const sha256: Sha256Hex = sha256Hex;
