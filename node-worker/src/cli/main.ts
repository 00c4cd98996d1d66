/** The `peergrid` command: `run` a job on a grid, `status` of stored jobs. */
import { parseRunArgs, RUN_USAGE } from './run-args.ts';
import { runCommand } from './run-command.ts';
import { parseStatusArgs, STATUS_USAGE, statusCommand } from './status-command.ts';

export const MAIN_USAGE = `peergrid <command> [options]

Commands:
  run       submit a job (an ONNX model + inputs, or a bundled workload) and wait for verified results
  status    list stored jobs and their progress

Run 'peergrid <command> --help' for the options of a command.`;

export async function cliMain(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(`${MAIN_USAGE}\n`);
    return cmd ? 0 : 2;
  }
  const commands = {
    run: { parse: parseRunArgs, usage: RUN_USAGE, exec: runCommand },
    status: { parse: parseStatusArgs, usage: STATUS_USAGE, exec: statusCommand },
  } as const;
  if (cmd !== 'run' && cmd !== 'status') {
    process.stderr.write(`peergrid: unknown command '${cmd}'\n\n${MAIN_USAGE}\n`);
    return 2;
  }
  const c = commands[cmd];
  const parsed = c.parse(rest);
  if (parsed.kind === 'help') {
    process.stdout.write(`${c.usage}\n`);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`peergrid ${cmd}: ${parsed.message}\n\n${c.usage}\n`);
    return 2;
  }
  try {
    return await (c.exec as (o: unknown) => Promise<number>)(parsed.options);
  } catch (err) {
    process.stderr.write(`peergrid ${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}
