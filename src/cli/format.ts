/** Small text helpers shared by the human output of several commands. */

/** "2026-12-01 10:00 UTC": unambiguous in logs and cron mail. */
export function formatDate(date: Date | string): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(header: string[], rows: string[][], widthOf: (s: string) => number = visibleLength): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => widthOf(row[col] ?? ''))));
  return all.map((row) =>
    row
      .map((cell, col) => (col === row.length - 1 ? cell : cell + ' '.repeat((widths[col] ?? 0) - widthOf(cell))))
      .join('  ')
      .trimEnd(),
  );
}

/** Length without ANSI colour codes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}
