/**
 * Fixed-width text tables for terminals: a header row, an optional rule of dashes, then
 * the rows; the first `leftColumns` columns left-aligned (names), the others
 * right-aligned (figures); columns separated by two spaces, trailing blanks trimmed.
 * Used by the benchmarks (perf/), the latency table and stackctl.
 */

/** How formatTable lays out a table. */
export interface TableOptions {
  /** Columns aligned left, counted from the first (default 1). */
  leftColumns?: number;
  /** A line of dashes under the header (default true). */
  rule?: boolean;
}

/** The table as lines joined by '\n', without a final newline. A missing cell is blank. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], opts: TableOptions = {}): string {
  const left = opts.leftColumns ?? 1;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths
      .map((w, i) => (i < left ? (cells[i] ?? '').padEnd(w) : (cells[i] ?? '').padStart(w)))
      .join('  ')
      .trimEnd();
  const lines = [line(header)];
  if (opts.rule ?? true) lines.push(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) lines.push(line(r));
  return lines.join('\n');
}
