/**
 * Flags `peergrid run` and `peergrid-worker` share: `--signal`, `--grid`,
 * `--token`, `--webrtc`, `--ice-relay`, `--help`, and the parse step around node:util's
 * parseArgs (strict: unknown flags are errors).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type NodeWrtcKind, parseNodeWrtcKind } from '../transport/node-wrtc.ts';

/** Parsed flag values by name. */
export type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

const GRID_FLAGS = {
  signal: { type: 'string' },
  grid: { type: 'string', default: 'default' },
  token: { type: 'string' },
  webrtc: { type: 'string' },
  'ice-relay': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export type ParsedFlags =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | {
      readonly kind: 'ok';
      readonly values: FlagValues;
      /** A string flag's value; undefined when absent. */
      readonly str: (k: string) => string | undefined;
      /** A repeatable string flag's values (`multiple: true`), in order; [] when absent. */
      readonly strs: (k: string) => string[];
      /** `--signal`, checked to be a ws:// or wss:// URL. */
      readonly signal: string;
      /** `--webrtc` (undefined: the default library; null: not a known one). */
      readonly webrtc: NodeWrtcKind | undefined | null;
      /** `--ice-relay`: links through the grid's TURN server only. */
      readonly iceRelay: boolean;
      /** Arguments that are not flags (only with `allowPositionals`). */
      readonly positionals: readonly string[];
    };

/**
 * Parses `argv` with the grid flags plus `options`; help and parse errors
 * come back as kinds. Arguments that are not flags are errors unless
 * `allowPositionals` (default false).
 */
export function parseGridFlags(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): ParsedFlags {
  let values: FlagValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: { ...GRID_FLAGS, ...options },
      strict: true,
      allowPositionals,
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const strs = (k: string) => {
    const v = values[k];
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  };
  const signal = str('signal');
  if (!signal || !/^wss?:\/\//.test(signal)) {
    return { kind: 'error', message: '--signal ws://HOST:PORT is required' };
  }
  const webrtcText = str('webrtc');
  const webrtc = webrtcText === undefined ? undefined : parseNodeWrtcKind(webrtcText);
  const iceRelay = values['ice-relay'] === true;
  return { kind: 'ok', values, str, strs, signal, webrtc, iceRelay, positionals };
}
