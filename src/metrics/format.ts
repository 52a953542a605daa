/**
 * Prometheus text exposition format, version 0.0.4 (what node_exporter's textfile collector and a scrape read):
 * one `# HELP` and one `# TYPE` line per metric family, then its samples, each series once.
 */

export type MetricType = 'gauge' | 'counter';

export type Labels = Readonly<Record<string, string>>;

interface Family {
  type: MetricType;
  help: string;
  /** Series by their label text: a second sample of one series is dropped (the format forbids duplicates). */
  samples: Map<string, number>;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The content type a scrape answer carries. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Metric families in the order they were declared, their samples in the order they were added. */
export class Exposition {
  private readonly families = new Map<string, Family>();

  /** Declares a family (again: the same one, which must agree); samples follow with {@link sample}. */
  family(name: string, type: MetricType, help: string): this {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    const known = this.families.get(name);
    if (known === undefined) this.families.set(name, { type, help, samples: new Map() });
    else if (known.type !== type || known.help !== help) throw new Error(`metric ${name} declared twice differently`);
    return this;
  }

  /** Declares several families of one type: [name, help] pairs. */
  declare(type: MetricType, entries: readonly (readonly [name: string, help: string])[]): this {
    for (const [name, help] of entries) this.family(name, type, help);
    return this;
  }

  /** Adds one sample of the declared family `name`; a series already present keeps its first value. */
  sample(name: string, value: number, labels: Labels = {}): this {
    const family = this.families.get(name);
    if (family === undefined) throw new Error(`metric ${name} was not declared`);
    const series = labelText(labels);
    if (!family.samples.has(series)) family.samples.set(series, value);
    return this;
  }

  /** The exposition text, ending with a newline. */
  text(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`);
      for (const [series, value] of family.samples) lines.push(`${name}${series} ${formatValue(value)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** `{a="x",b="y"}` with values escaped, or nothing without labels. Empty values are left out (they equal no label). */
function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).filter(([, value]) => value !== '');
  for (const [label] of pairs) {
    if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`invalid label name ${label}`);
  }
  return pairs.length === 0 ? '' : `{${pairs.map(([label, value]) => `${label}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/** Label values escape backslash, double quote and line feed; everything else (UTF-8) stays as it is. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(help: string): string {
  return help.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** Go's float spellings for the non-finite values; finite ones as JavaScript writes them (1e+21 parses there too). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** A time as the format's `_timestamp_seconds` values want it: seconds since the epoch. */
export function epochSeconds(time: Date | string): number {
  return (typeof time === 'string' ? Date.parse(time) : time.getTime()) / 1000;
}
