/**
 * The donor's own rules for this tab, in one place: the Pause button, the
 * CPU share slider, "only while charging" and "pause while I use this
 * computer". The tab is paused while the button says so or a rule does; the
 * reason shown is the button's first, then the rule's. Settings are kept in
 * localStorage, so a donor sets them once.
 */
import { MIN_CPU_SHARE, parseCpuShare } from '@peergrid/shared';
import type { DonorSide } from '../grid/donor-side.ts';
import { now, timers } from '../grid/platform.ts';
import { createTabRules, type TabRuleState, tabPauseReason } from '../grid/tab-rules.ts';
import type { Store } from './store.ts';
import type { DonorView } from './types.ts';

/** Reason shown while the Pause button holds the tab. */
export const PAUSED_BY_YOU = 'paused by you';
const SETTINGS_KEY = 'peergrid:donor-settings';

interface Settings {
  readonly cpuShare: number;
  readonly onlyWhileCharging: boolean;
  readonly pauseWhileInUse: boolean;
}

function readSettings(): Settings {
  const base: Settings = { cpuShare: 1, onlyWhileCharging: false, pauseWhileInUse: false };
  try {
    const raw = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}') as Record<string, unknown>;
    return {
      cpuShare: parseCpuShare(raw.cpuShare) ?? base.cpuShare,
      onlyWhileCharging: raw.onlyWhileCharging === true,
      pauseWhileInUse: raw.pauseWhileInUse === true,
    };
  } catch {
    return base; // no storage (private mode) or a damaged entry: the defaults
  }
}

export interface DonorControls {
  /** Whether the tab runs nothing now (button or rule). */
  paused(): boolean;
  pause(): void;
  resume(): void;
  setCpuShare(share: number): void;
  setOnlyWhileCharging(on: boolean): void;
  setPauseWhileInUse(on: boolean): Promise<void>;
  /** The donor side exists now (after the grid join): applies the current state to it. */
  bind(side: DonorSide, onPausedChange: () => void): void;
  close(): void;
}

export function createDonorControls(donor: Store<DonorView>): DonorControls {
  let settings = readSettings();
  let manual = false;
  let side: DonorSide | null = null;
  let announce = () => {};
  let rule: string | null = null;
  const save = () => {
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    } catch {
      // no storage: the settings last for this page only
    }
  };
  const reason = () => (manual ? PAUSED_BY_YOU : rule);
  const apply = () => {
    const why = reason();
    const was = donor.get().paused;
    donor.update((d) => ({
      ...d,
      paused: why !== null,
      pauseReason: why,
      cpuShare: settings.cpuShare,
      onlyWhileCharging: settings.onlyWhileCharging,
      pauseWhileInUse: settings.pauseWhileInUse,
    }));
    side?.setPaused(why !== null, why ?? undefined);
    if (was !== (why !== null)) announce();
  };
  const onRules = (s: TabRuleState) => {
    rule = tabPauseReason(s);
    donor.update((d) => ({ ...d, inUseSource: s.inUseSource }));
    apply();
  };
  const rules = createTabRules({
    timers,
    now,
    onChange: onRules,
    initial: settings,
  });
  void rules.batteryReady.then((ok) => donor.update((d) => ({ ...d, batterySupported: ok })));
  apply();

  return {
    paused: () => reason() !== null,
    pause() {
      manual = true;
      apply();
    },
    resume() {
      manual = false;
      apply();
    },
    setCpuShare(share) {
      const s = parseCpuShare(share) ?? Math.max(MIN_CPU_SHARE, Math.min(1, share || 1));
      settings = { ...settings, cpuShare: s };
      save();
      side?.setCpuShare(s);
      apply();
    },
    setOnlyWhileCharging(on) {
      settings = { ...settings, onlyWhileCharging: on };
      save();
      rules.setOnlyWhileCharging(on);
      apply();
    },
    async setPauseWhileInUse(on) {
      settings = { ...settings, pauseWhileInUse: on };
      save();
      apply();
      await rules.setPauseWhileInUse(on);
    },
    bind(s, onPausedChange) {
      side = s;
      announce = onPausedChange;
      s.setCpuShare(settings.cpuShare);
      apply();
    },
    close: () => rules.close(),
  };
}
