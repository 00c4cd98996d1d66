/** `peergrid status`: the jobs in a state directory and how far each got. */
import { parseArgs } from 'node:util';
import { openDiskJobStore } from '../store/disk-job-store.ts';
import { defaultStateDir, type Parsed } from './run-args.ts';

export const STATUS_USAGE = `peergrid status [--state DIR] [--json] [JOB_ID_PREFIX]

Lists the jobs kept in the state directory (verified/total tasks, state), or
one job in detail (failed tasks, last events).

  --state DIR     state directory                  default: ~/.local/state/peergrid
  --json          print JSON instead of text
  -h, --help      this help`;

export interface StatusOptions {
  readonly state: string;
  readonly json: boolean;
  readonly job?: string;
}

export function parseStatusArgs(argv: readonly string[]): Parsed<StatusOptions> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: {
        state: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) return { kind: 'help' };
    return {
      kind: 'ok',
      options: {
        state: values.state ?? defaultStateDir(),
        json: values.json === true,
        ...(positionals[0] ? { job: positionals[0] } : {}),
      },
    };
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
}

export async function statusCommand(o: StatusOptions): Promise<number> {
  const store = await openDiskJobStore(o.state, { readOnly: true });
  try {
    const jobs = (await store.listJobs()).filter((j) => !o.job || j.jobId.startsWith(o.job));
    const rows = [];
    for (const j of jobs) {
      const snap = await store.loadSnapshot(j.jobId);
      const count = (s: string) => snap?.tasks.filter((t) => t.state === s).length ?? 0;
      rows.push({
        jobId: j.jobId,
        name: j.manifest.name ?? '',
        state: snap?.job.state ?? 'pending',
        tasks: j.manifest.tasks.length + (j.manifest.groups ?? []).reduce((n, g) => n + g.count, 0),
        verified: count('verified'),
        failed: count('failed'),
        failures:
          snap?.tasks
            .filter((t) => t.state === 'failed')
            .map((t) => ({ taskId: t.taskId, reason: t.failReason ?? '' })) ?? [],
        updatedAt: snap ? new Date(snap.job.updatedAt).toISOString() : null,
      });
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      process.stdout.write(`no jobs in ${o.state}\n`);
      return o.job ? 1 : 0;
    }
    for (const r of rows) {
      process.stdout.write(
        `${r.jobId.slice(0, 16)}  ${r.state.padEnd(9)}  ${r.verified}/${r.tasks} verified` +
          `${r.failed ? `, ${r.failed} failed` : ''}  ${r.name}\n`,
      );
    }
    if (o.job && rows.length === 1) {
      const r = rows[0]!;
      for (const f of r.failures) process.stdout.write(`  failed ${f.taskId}: ${f.reason}\n`);
      for (const e of (await store.events(r.jobId)).slice(-10)) {
        process.stdout.write(
          `  #${e.seq} ${e.type}${e.taskId ? ` ${e.taskId}` : ''}${e.message ? `: ${e.message}` : ''}\n`,
        );
      }
    }
    return 0;
  } finally {
    await store.close();
  }
}
