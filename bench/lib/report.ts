// The markdown table bench/compare prints: medians per tool, with run counts, and ratios against certman.
import { median, type RunResult } from './measure.js';

export interface Cell {
  /** Timed runs. */
  runs: RunResult[];
  /** Why there are no figures (not installed, set-up failed, a run failed). */
  problem?: string;
  /** Lineages actually used when a run over the row's count would have taken too long. */
  cappedTo?: number;
  /** The row's count, when capped: the time is projected linearly from cappedTo to it. */
  fullCount?: number;
}

export interface Row {
  label: string;
  cells: Map<string, Cell>;
}

export interface Figures {
  ms: number;
  rssKb?: number;
  /** Time scaled to the row's full count when the run was capped. */
  projectedMs?: number;
}

export function figures(cell: Cell | undefined): Figures | undefined {
  if (cell === undefined || cell.problem !== undefined || cell.runs.length === 0) return undefined;
  const ms = median(cell.runs.map((r) => r.ms));
  const rss = cell.runs.flatMap((r) => (r.rssKb === undefined ? [] : [r.rssKb]));
  const projectedMs = cell.cappedTo !== undefined && cell.fullCount !== undefined ? (ms * cell.fullCount) / cell.cappedTo : undefined;
  return { ms, rssKb: rss.length === 0 ? undefined : median(rss), projectedMs };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(ms < 100 ? 1 : 0)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

const formatRss = (kb: number | undefined): string => (kb === undefined ? 'RSS n/a' : `${(kb / 1024).toFixed(0)} MiB`);
export const count = (n: number): string => n.toLocaleString('en-US');

function formatCell(cell: Cell | undefined): string {
  if (cell === undefined) return '–';
  if (cell.problem !== undefined) return cell.problem;
  const f = figures(cell);
  if (f === undefined) return '–';
  const base = `${formatMs(f.ms)} · ${formatRss(f.rssKb)} (${cell.runs.length})`;
  if (f.projectedMs === undefined || cell.cappedTo === undefined || cell.fullCount === undefined) return base;
  return `${base} over ${count(cell.cappedTo)}, ≈ ${formatMs(f.projectedMs)} for ${count(cell.fullCount)}`;
}

/** "other ÷ certman" for time and peak RSS; ≈ when the other's time is a projection. */
function formatRatio(mine: Figures | undefined, other: Figures | undefined): string {
  if (mine === undefined || other === undefined) return '–';
  const time = (other.projectedMs ?? other.ms) / (mine.projectedMs ?? mine.ms);
  const approx = other.projectedMs !== undefined || mine.projectedMs !== undefined ? '≈ ' : '';
  const rss = mine.rssKb !== undefined && other.rssKb !== undefined ? ` · ${(other.rssKb / mine.rssKb).toFixed(2)}×` : '';
  return `${approx}${time.toFixed(time < 10 ? 2 : 1)}×${rss}`;
}

/** One row per scenario: a cell per tool, then "tool ÷ certman" for every other tool. */
export function table(rows: Row[], tools: readonly string[], base = 'certman'): string {
  const others = tools.filter((t) => t !== base);
  const header = ['', ...tools, ...others.map((t) => `${t} ÷ ${base}`)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`];
  for (const row of rows) {
    const mine = figures(row.cells.get(base));
    const cells = [row.label, ...tools.map((t) => formatCell(row.cells.get(t))), ...others.map((t) => formatRatio(mine, figures(row.cells.get(t))))];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
