/**
 * Job progress on stderr: a redrawn bar on a terminal, a plain line at most
 * every `lineEveryMs` otherwise (logs, tests), and the closing summary.
 */
import type { JobProgress } from '@peergrid/shared';

const BAR = 30;

export function progressLine(p: JobProgress, elapsedMs: number, resumed = 0): string {
  const done = p.tasks.verified + p.tasks.failed;
  const filled = p.total === 0 ? BAR : Math.round((done / p.total) * BAR);
  const donors = p.donors.filter((d) => !d.excluded).length;
  const excluded = p.donors.filter((d) => d.excluded).length;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}] ${p.tasks.verified}/${p.total} verified` +
    (resumed > 0 ? ` (${resumed} resumed)` : '') +
    // Accepted but short of the target error: more replicas or longer records to come.
    (p.final < p.tasks.verified ? `, ${p.final} final` : '') +
    (p.tasks.failed > 0 ? `, ${p.tasks.failed} failed` : '') +
    ` · ${p.leasesInFlight} running · ${donors} donors` +
    (excluded > 0 ? ` · ${excluded} excluded` : '') +
    (p.disputes > 0 ? ` · ${p.disputes} disputes` : '') +
    ` · ${(elapsedMs / 1000).toFixed(1)} s`
  );
}

export interface ProgressView {
  update(p: JobProgress): void;
  /** Ends the bar's line (terminal). */
  end(): void;
  note(line: string): void;
}

export function createProgressView(
  stream: NodeJS.WriteStream,
  startedAt: number,
  resumed: number,
  lineEveryMs = 500,
): ProgressView {
  const tty = stream.isTTY === true;
  let last = -Infinity;
  let drawn = false;
  return {
    update(p) {
      const line = progressLine(p, Date.now() - startedAt, resumed);
      if (tty) {
        stream.write(`\r${line}\u001b[K`);
        drawn = true;
      } else if (Date.now() - last >= lineEveryMs || p.state !== 'running') {
        last = Date.now();
        stream.write(`progress ${line}\n`);
      }
    },
    end() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
    note(line) {
      if (drawn) stream.write('\n');
      drawn = false;
      stream.write(`${line}\n`);
    },
  };
}
