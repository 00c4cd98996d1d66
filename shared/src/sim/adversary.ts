/**
 * The simulator's adversaries: one strategy per capability, each a pure rule
 * deciding whether a saboteur lies on one answer. Everything a strategy may
 * know arrives in its {@link AnswerContext} (the cartel's shared view, the
 * answerer's own record, the job's progress); randomness is passed in.
 *
 * The attacker holds a share f of the donors and knows the code; its donors
 * (the cartel) share everything they see: which inputs each holds a lease
 * of, and what each answered.
 */
import type { Random } from '../platform.ts';

export const STRATEGIES = [
  'naive',
  'independent',
  'collude',
  'unoutvotable',
  'betray',
  'check-aware',
  'rare',
] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** What a saboteur knows when it answers one lease. */
export interface AnswerContext {
  /** The submitter trusts this identity (`book.isTrusted`): the attacker knows the code and tracks its record. */
  readonly trusted: boolean;
  /** Cartel identities holding a lease of this input now, the answerer included. */
  readonly holders: number;
  /** Replicas the job's policy asks per task (`policy.replicas`). */
  readonly replicas: number;
  /** Some cartel identity answered this input before. */
  readonly answered: boolean;
  /** The cartel lied on this input before. */
  readonly lied: boolean;
  /** Lies this identity has told. */
  readonly liesTold: number;
  /** Share of the job's tasks verified, 0..1. */
  readonly verified: number;
  /** Lie rate of the strategies that draw. */
  readonly s: number;
  readonly random: Random;
}

export interface Strategy {
  /** One wrong answer shared by the cartel (else each identity its own). */
  readonly colluding: boolean;
  /** Default lie rate; absent when the rule never draws. */
  readonly s?: number;
  /** True: lie on this answer. */
  readonly lies: (c: AnswerContext) => boolean;
}

/** Every replica of the task the cartel can see is the cartel's: no honest vote to outvote it. */
const holdsAll = (c: AnswerContext) => c.holders >= c.replicas;
/** Trusted, and no other cartel identity holds the input: as far as it can tell, it runs the task solo. */
const looksAlone = (c: AnswerContext) => c.trusted && c.holders === 1;
/** Share of the job verified after which `rare` counts as late. */
export const RARE_LATE = 0.5;

const STRATEGY: Readonly<Record<StrategyName, Strategy>> = {
  // Today's cases: memoryless, lie on a share s of answers.
  naive: { colluding: true, s: 1, lies: (c) => c.random() < c.s },
  independent: { colluding: false, s: 1, lies: (c) => c.random() < c.s },
  // Every rule below repeats an earlier lie of the cartel on the same input (consistency).
  collude: { colluding: true, lies: (c) => c.lied || holdsAll(c) },
  unoutvotable: { colluding: true, lies: (c) => c.lied || holdsAll(c) || looksAlone(c) },
  betray: {
    colluding: true,
    lies: (c) => c.lied || (c.trusted && (holdsAll(c) || looksAlone(c))),
  },
  // A re-run (an input the cartel answered before) may be a check: honest, unless
  // repeating the cartel's lie; only first answers draw.
  'check-aware': {
    colluding: true,
    s: 0.2,
    lies: (c) => c.lied || (!c.answered && c.random() < c.s),
  },
  // One lie per identity, where no one else should recompute it. No repeats: they would be lies too.
  rare: {
    colluding: true,
    lies: (c) => c.liesTold === 0 && looksAlone(c) && c.verified >= RARE_LATE,
  },
};

export const strategy = (name: StrategyName): Strategy => STRATEGY[name];

/** Whether a saboteur following `name` lies on this answer. */
export function answer(name: StrategyName, c: AnswerContext): boolean {
  return STRATEGY[name].lies(c);
}

/** One adversary of a run: a strategy and its lie rate, named e.g. `naive-0.1`. */
export interface AdversaryCase {
  readonly name: string;
  readonly strategy: StrategyName;
  /** Lie rate (meaningful for strategies that draw; 1 otherwise). */
  readonly s: number;
}

/** `npm run sim`'s default adversaries. */
export const DEFAULT_ADVERSARIES = [
  'naive',
  'naive-0.1',
  'independent',
  'independent-0.1',
  'collude',
  'unoutvotable',
  'betray',
  'check-aware',
  'rare',
] as const;

const isStrategy = (x: string): x is StrategyName => (STRATEGIES as readonly string[]).includes(x);

/**
 * `NAME` or `NAME-S` (S in [0, 1], only for strategies that draw: naive,
 * independent, check-aware). Null when unknown or malformed.
 */
export function parseAdversary(raw: string): AdversaryCase | null {
  if (isStrategy(raw)) return { name: raw, strategy: raw, s: STRATEGY[raw].s ?? 1 };
  const m = /^(.+)-(\d*\.?\d+)$/.exec(raw);
  const name = m?.[1] ?? '';
  if (!isStrategy(name) || STRATEGY[name].s === undefined) return null;
  const s = Number(m?.[2]);
  return s >= 0 && s <= 1 ? { name: raw, strategy: name, s } : null;
}
