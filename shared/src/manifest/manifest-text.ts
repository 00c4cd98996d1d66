/**
 * Manifest and pipeline files as text: JSON (`.json`) or YAML (`.yaml`,
 * `.yml`, read with the `yaml` package, YAML 1.2 core schema, duplicate keys
 * refused). Both become the same value, so the same checks and messages
 * follow; a syntax error names its line and column.
 */
import { parse as parseYaml, YAMLParseError } from 'yaml';

/** How a manifest file is written. */
export type ManifestFormat = 'json' | 'yaml';

/** The format a file name says (`.yaml`/`.yml` → yaml; anything else → json). */
export function manifestFormatOf(fileName: string): ManifestFormat {
  return /\.ya?ml$/i.test(fileName) ? 'yaml' : 'json';
}

/** Parses manifest text; the error says where the syntax is wrong. */
export function parseManifestText(
  text: string,
  format: ManifestFormat = 'json',
): { ok: true; value: unknown } | { ok: false; error: string } {
  if (format === 'json') {
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (e) {
      return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
    }
  }
  try {
    return { ok: true, value: parseYaml(text, { logLevel: 'error', maxAliasCount: 100 }) };
  } catch (e) {
    if (e instanceof YAMLParseError) {
      const at = e.linePos?.[0];
      const what = e.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
      return {
        ok: false,
        error: `not valid YAML: ${at ? `line ${at.line}, column ${at.col}: ` : ''}${what}`,
      };
    }
    return { ok: false, error: `not valid YAML: ${(e as Error).message}` };
  }
}
