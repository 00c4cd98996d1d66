/**
 * Donor errors that hand a lease back without saying anything about the
 * task: the donor paused (its owner's rules: battery, load, a schedule, the
 * machine in use), is shutting down, has no room (it is serving other
 * submitters), or lost its GPU device mid-run (a driver reset: its result,
 * if any, is not to be trusted, and it recreates the device or falls back). The engine counts such a loss as a departure, not as one of
 * the task's attempts, and nothing of it reaches the donor's reputation
 * (only verdicts do): the submitter re-issues the lease elsewhere.
 */
export const HANDBACK_CODES = ['paused', 'shutting-down', 'busy', 'device-lost'] as const;
export type HandbackCode = (typeof HANDBACK_CODES)[number];

export const isHandback = (code: string): code is HandbackCode =>
  (HANDBACK_CODES as readonly string[]).includes(code);
