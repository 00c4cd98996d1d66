/** CSV (RFC 4180): fields with commas, quotes or newlines are quoted. */
export function toCsv(rows: readonly (readonly (string | number)[])[]): string {
  return `${rows.map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`;
}

function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}
