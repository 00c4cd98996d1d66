/**
 * The operator's files in node-worker/deploy, checked without a container
 * engine or a running systemd (this machine has neither): the Dockerfile
 * passes dockerfile-utils' validator, copies only paths the repository has,
 * fetches the CUDA binaries with the same command doctor prints, and keeps
 * identity and cache in its volume; the systemd unit passes
 * `systemd-analyze verify`, restarts on failure, keeps its state under
 * /var/lib/peergrid, and its command line (with the example environment file)
 * is one the worker accepts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { CUDA_INSTALL_COMMAND } from '../../src/exec/detect-backends.ts';
import { parseWorkerArgs } from '../../src/worker/worker-args.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DEPLOY = join(ROOT, 'node-worker', 'deploy');
const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
const unitText = readFileSync(join(DEPLOY, 'peergrid-worker.service'), 'utf8');

/** Dockerfile instructions with their continuation lines joined, comments dropped. */
function instructions(text: string): { op: string; args: string }[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op = '', ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

/** A systemd unit's `Key=value` lines by section; repeated keys keep every value. */
function unitSections(text: string): Map<string, Map<string, string[]>> {
  const out = new Map<string, Map<string, string[]>>();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = new Map();
      out.set(head[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit line: ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** `KEY=value` lines of an environment file. */
function envFile(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.trim() && !l.trim().startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

describe('the Dockerfile', () => {
  // LSP severities: 1 error, 2 warning (3 information, 4 hint).
  const serious = (text: string) =>
    validate(text)
      .filter((d) => d.severity !== undefined && d.severity <= 2)
      .map((d) => `${d.range.start.line + 1}: ${d.message}`);

  it('passes the validator with no errors or warnings', () => {
    expect(serious(dockerfile)).toEqual([]);
    // …which does flag a broken one.
    expect(serious(dockerfile.replace('USER peergrid', 'USER'))).not.toEqual([]);
  });

  it('copies from the build context only paths the repository has', () => {
    const copies = instructions(dockerfile).filter(
      (i) => i.op === 'COPY' && !i.args.startsWith('--from'),
    );
    expect(copies.length).toBeGreaterThan(3);
    for (const c of copies) {
      const parts = c.args.split(/\s+/);
      for (const src of parts.slice(0, -1)) {
        expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
      }
    }
  });

  it('has a cpu and a cuda target, each running the worker as a non-root user', () => {
    const ins = instructions(dockerfile);
    const targets = ins
      .filter((i) => i.op === 'FROM')
      .map((i) => /\bAS\s+(\S+)/i.exec(i.args)?.[1]);
    expect(targets).toEqual(expect.arrayContaining(['cpu', 'cuda']));
    expect(ins.filter((i) => i.op === 'USER').map((i) => i.args)).toEqual(['peergrid', 'peergrid']);
    const entry = ins.filter((i) => i.op === 'ENTRYPOINT').map((i) => JSON.parse(i.args));
    expect(entry).toHaveLength(2);
    for (const e of entry) {
      expect(e[1]).toBe('/opt/peergrid/node-worker/bin/peergrid-worker.js');
      expect(existsSync(join(ROOT, 'node-worker', 'bin', 'peergrid-worker.js'))).toBe(true);
    }
  });

  it('fetches the CUDA binaries with the command doctor tells an operator to run', () => {
    expect(dockerfile.replace(/\\\n\s*/g, ' ')).toContain(`RUN ${CUDA_INSTALL_COMMAND}`);
  });

  it('keeps identity and cache in its volume, where the worker looks for them', () => {
    const env = { PEERGRID_CACHE: '', PEERGRID_IDENTITY: '' };
    for (const m of dockerfile.matchAll(/(PEERGRID_CACHE|PEERGRID_IDENTITY)=(\S+)/g)) {
      env[m[1] as keyof typeof env] = m[2]!;
    }
    expect(dockerfile).toContain('VOLUME ["/var/lib/peergrid"]');
    const parsed = parseWorkerArgs(['--signal', 'ws://x'], env);
    if (parsed.kind !== 'ok') throw new Error(parsed.kind);
    expect(parsed.options.cache).toBe('/var/lib/peergrid/models');
    expect(parsed.options.identity).toBe('/var/lib/peergrid/identity.json');
  });
});

describe('the systemd unit', () => {
  const unit = unitSections(unitText);
  const service = unit.get('Service')!;
  const one = (key: string) => service.get(key)?.at(-1);

  it('restarts on failure and keeps identity and cache under /var/lib/peergrid', () => {
    expect(one('Restart')).toBe('on-failure');
    expect(one('StateDirectory')).toBe('peergrid');
    expect(one('User')).toBe('peergrid');
    expect(service.get('Environment')).toEqual([
      'PEERGRID_CACHE=/var/lib/peergrid/models',
      'PEERGRID_IDENTITY=/var/lib/peergrid/identity.json',
    ]);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
    // Long enough for the worker's drain (--drain-s, 30 s by default).
    expect(Number.parseInt(one('TimeoutStopSec') ?? '0', 10)).toBeGreaterThan(30);
  });

  it('runs a command line the worker accepts, with the example environment file', () => {
    const env = envFile(readFileSync(join(DEPLOY, 'worker.env.example'), 'utf8'));
    // systemd: ${X} is one word, $X splits on whitespace.
    const words = (one('ExecStart') ?? '').split(/\s+/).flatMap((w) => {
      const whole = /^\$\{(\w+)\}$/.exec(w);
      if (whole) return [env[whole[1]!] ?? ''];
      const split = /^\$(\w+)$/.exec(w);
      return split ? (env[split[1]!] ?? '').split(/\s+/).filter(Boolean) : [w];
    });
    expect(words.slice(0, 2)).toEqual([
      '/usr/bin/node',
      '/opt/peergrid/node-worker/bin/peergrid-worker.js',
    ]);
    const parsed = parseWorkerArgs(words.slice(2), {
      PEERGRID_CACHE: '/var/lib/peergrid/models',
      PEERGRID_IDENTITY: '/var/lib/peergrid/identity.json',
    });
    if (parsed.kind !== 'ok') throw new Error(JSON.stringify(parsed));
    expect(parsed.options.signal).toBe(env.PEERGRID_SIGNAL);
    expect(parsed.options.grid).toBe(env.PEERGRID_GRID);
    expect(parsed.options.metricsPort).toBe(9464);
    expect(parsed.options.identity).toBe('/var/lib/peergrid/identity.json');
  });

  it('passes systemd-analyze verify, which refuses a broken one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-unit-'));
    // The node on this machine, wherever it is installed.
    const here = join(dir, 'peergrid-worker.service');
    writeFileSync(here, unitText.replace('/usr/bin/node', process.execPath));
    // Its complaints go to stderr; some (an unknown value) do not change the exit code.
    const verify = (file: string) => {
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      if (r.error) throw r.error;
      return `${r.status === 0 ? '' : `exit ${r.status}: `}${r.stderr.trim()}`;
    };
    expect(verify(here)).toBe('');
    const broken = join(dir, 'broken.service');
    writeFileSync(broken, unitText.replace('Restart=on-failure', 'Restart=sometimes'));
    expect(verify(broken)).toMatch(/restart specifier/);
  });
});
