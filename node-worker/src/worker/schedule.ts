/**
 * `--schedule HH:MM-HH:MM[,HH:MM-HH:MM…]`: the local-time windows a worker
 * donates in. A window whose end is before its start runs past midnight
 * (22:00-07:00); 00:00-24:00 is the whole day. Outside every window the
 * worker pauses (see pause-rules.ts).
 */

/** One window, minutes after local midnight: [start, end), end may be below start (wraps). */
export interface ScheduleWindow {
  readonly start: number;
  readonly end: number;
}

export type Schedule = readonly ScheduleWindow[];

const TIME = /^([01]?\d|2[0-4]):([0-5]\d)$/;

function minutes(s: string): number | null {
  const m = TIME.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]) * 60 + Number(m[2]);
  return n <= 24 * 60 ? n : null;
}

/** Parses the flag's value; an error message names the first bad window. */
export function parseSchedule(text: string): Schedule | { readonly error: string } {
  const windows: ScheduleWindow[] = [];
  for (const part of text.split(',')) {
    const [a, b, ...rest] = part.split('-');
    const start = a === undefined ? null : minutes(a);
    const end = b === undefined ? null : minutes(b);
    if (rest.length > 0 || start === null || end === null || start === end || start === 24 * 60)
      return { error: `'${part.trim()}' is not a window HH:MM-HH:MM (e.g. 22:00-07:00)` };
    windows.push({ start, end });
  }
  return windows;
}

/** Whether `minuteOfDay` (0–1439, local) falls in one of the windows. */
export function inSchedule(schedule: Schedule, minuteOfDay: number): boolean {
  return schedule.some((w) =>
    w.start < w.end
      ? minuteOfDay >= w.start && minuteOfDay < w.end
      : minuteOfDay >= w.start || minuteOfDay < w.end,
  );
}

/** Local minute of the day of a date. */
export const minuteOfDay = (d: Date): number => d.getHours() * 60 + d.getMinutes();

export const formatSchedule = (s: Schedule): string =>
  s.map((w) => `${hhmm(w.start)}-${hhmm(w.end)}`).join(',');

const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
