/**
 * A donor tab's pause rules: "only while charging" (the Battery Status API,
 * where the browser has it: Chromium does, Firefox and Safari do not, and the
 * control is hidden there) and "pause while I use this computer" (the Idle
 * Detection API when the donor grants it; else this tab's own signs of use:
 * input events and visibility changes in the last minute). The rules only
 * decide; the runtime pauses the donor side with the reason.
 */
import type { Timers } from '@peergrid/shared';

/** No input for this long and the computer counts as idle, ms (Idle Detection's threshold too; its minimum is 60 000). */
export const IN_USE_MS = 60_000;
/** How often the in-tab fallback looks at the time of the last input, ms. */
const IN_USE_CHECK_MS = 5_000;

export type InUseSource = 'idle-detection' | 'this-tab';

export interface TabRuleState {
  readonly onlyWhileCharging: boolean;
  readonly pauseWhileInUse: boolean;
  /** null: no Battery Status API here (the control is hidden). */
  readonly charging: boolean | null;
  readonly inUse: boolean;
  readonly inUseSource: InUseSource;
}

/** Why the rules pause the tab now, or null. */
export function tabPauseReason(s: TabRuleState): string | null {
  if (s.onlyWhileCharging && s.charging === false) return 'on battery';
  if (s.pauseWhileInUse && s.inUse)
    return s.inUseSource === 'idle-detection'
      ? 'this computer is in use'
      : 'this computer is in use (input in this tab)';
  return null;
}

interface BatteryLike extends EventTarget {
  readonly charging: boolean;
}
interface IdleDetectorLike extends EventTarget {
  readonly userState: 'active' | 'idle' | null;
  start(o: { threshold: number; signal?: AbortSignal }): Promise<void>;
}
interface IdleDetectorClass {
  new (): IdleDetectorLike;
  requestPermission(): Promise<'granted' | 'denied'>;
}

export interface TabRules {
  state(): TabRuleState;
  /** The Battery Status API exists here (resolves once probed). */
  readonly batteryReady: Promise<boolean>;
  setOnlyWhileCharging(on: boolean): void;
  /**
   * Turns the in-use rule on or off. Call it from the user's click: asking
   * for Idle Detection needs a user gesture; without the permission the tab's
   * own input counts.
   */
  setPauseWhileInUse(on: boolean): Promise<void>;
  close(): void;
}

export interface TabRulesOptions {
  readonly timers: Timers;
  readonly now: () => number;
  readonly onChange: (s: TabRuleState) => void;
  readonly initial?: { readonly onlyWhileCharging?: boolean; readonly pauseWhileInUse?: boolean };
  /** The page's globals; tests pass fakes. Default: window/navigator/document. */
  readonly env?: {
    readonly getBattery?: () => Promise<BatteryLike>;
    readonly IdleDetector?: IdleDetectorClass;
    readonly target: EventTarget;
    readonly document: EventTarget & { readonly visibilityState: string };
  };
}

const INPUT_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

function pageEnv(): NonNullable<TabRulesOptions['env']> {
  const nav = navigator as Navigator & { getBattery?: () => Promise<BatteryLike> };
  const IdleDetector = (globalThis as { IdleDetector?: IdleDetectorClass }).IdleDetector;
  return {
    ...(typeof nav.getBattery === 'function' ? { getBattery: () => nav.getBattery!() } : {}),
    ...(IdleDetector ? { IdleDetector } : {}),
    target: window,
    document,
  };
}

export function createTabRules(o: TabRulesOptions): TabRules {
  const env = o.env ?? pageEnv();
  let onlyWhileCharging = o.initial?.onlyWhileCharging ?? false;
  let pauseWhileInUse = false;
  let charging: boolean | null = null;
  let inUseSource: InUseSource = 'this-tab';
  let idleState: 'active' | 'idle' | null = null;
  let lastInput = Number.NEGATIVE_INFINITY;
  let checkTimer: unknown = null;
  let idleAbort: AbortController | null = null;
  let closed = false;
  const inUse = () =>
    inUseSource === 'idle-detection' ? idleState === 'active' : o.now() - lastInput < IN_USE_MS;
  const state = (): TabRuleState => ({
    onlyWhileCharging,
    pauseWhileInUse,
    charging,
    inUse: pauseWhileInUse && inUse(),
    inUseSource,
  });
  let told = '';
  const changed = () => {
    const s = state();
    const key = JSON.stringify(s);
    if (key === told || closed) return;
    told = key;
    o.onChange(s);
  };

  const batteryReady = (async () => {
    if (!env.getBattery) return false;
    try {
      const b = await env.getBattery();
      charging = b.charging;
      b.addEventListener('chargingchange', () => {
        charging = b.charging;
        changed();
      });
      changed();
      return true;
    } catch {
      return false; // blocked by a permissions policy: as if absent
    }
  })();

  const onInput = () => {
    const was = inUse();
    lastInput = o.now();
    if (!was) changed();
  };
  const check = () => {
    checkTimer = null;
    changed();
    if (pauseWhileInUse && inUseSource === 'this-tab' && !closed)
      checkTimer = o.timers.setTimeout(check, IN_USE_CHECK_MS);
  };
  const listen = (on: boolean) => {
    for (const ev of INPUT_EVENTS)
      if (on) env.target.addEventListener(ev, onInput, { passive: true });
      else env.target.removeEventListener(ev, onInput);
    if (on) env.document.addEventListener('visibilitychange', onInput);
    else env.document.removeEventListener('visibilitychange', onInput);
  };

  async function startIdleDetection(): Promise<boolean> {
    const Detector = env.IdleDetector;
    if (!Detector) return false;
    try {
      if ((await Detector.requestPermission()) !== 'granted') return false;
      const d = new Detector();
      idleAbort = new AbortController();
      d.addEventListener('change', () => {
        idleState = d.userState;
        changed();
      });
      await d.start({ threshold: IN_USE_MS, signal: idleAbort.signal });
      idleState = d.userState;
      return true;
    } catch {
      return false; // no user gesture, or blocked: the tab's own input counts instead
    }
  }

  async function setInUse(on: boolean): Promise<void> {
    if (on === pauseWhileInUse) return;
    pauseWhileInUse = on;
    if (!on) {
      idleAbort?.abort();
      idleAbort = null;
      listen(false);
      if (checkTimer !== null) o.timers.clearTimeout(checkTimer);
      checkTimer = null;
      inUseSource = 'this-tab';
      changed();
      return;
    }
    // The click that turned the rule on is use.
    lastInput = o.now();
    inUseSource = (await startIdleDetection()) ? 'idle-detection' : 'this-tab';
    if (!pauseWhileInUse) return; // turned off meanwhile
    if (inUseSource === 'this-tab') {
      listen(true);
      check();
    } else changed();
  }
  if (o.initial?.pauseWhileInUse) void setInUse(true);

  return {
    state,
    batteryReady,
    setOnlyWhileCharging(on) {
      onlyWhileCharging = on;
      changed();
    },
    setPauseWhileInUse: setInUse,
    close() {
      closed = true;
      idleAbort?.abort();
      listen(false);
      if (checkTimer !== null) o.timers.clearTimeout(checkTimer);
    },
  };
}
