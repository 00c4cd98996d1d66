/** Regenerates the examples under examples/ (models, inputs, manifests, references). `--help` says so. */
import { EXAMPLES, writeExample } from '../src/examples/index.ts';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    `gen-examples [NAME …]\n\nWrites examples/NAME/ (${EXAMPLES.join(', ')}; all by default): job.json, models, inputs and reference.npz.\n`,
  );
  process.exit(0);
}
const asked = process.argv.slice(2);
const names = asked.length ? asked : [...EXAMPLES];
for (const name of names) {
  if (!(EXAMPLES as readonly string[]).includes(name)) {
    process.stderr.write(`gen-examples: no example '${name}' (${EXAMPLES.join(', ')})\n`);
    process.exit(2);
  }
  const files = await writeExample(name as (typeof EXAMPLES)[number]);
  process.stderr.write(`${name}: ${files.length} files\n`);
}
