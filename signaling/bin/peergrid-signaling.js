#!/usr/bin/env node
// Runs the TypeScript sources through tsx, from any working directory.
import { register } from 'tsx/esm/api';

register();
const { main } = await import(new URL('../src/cli.ts', import.meta.url).href);
main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`peergrid-signaling: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
});
