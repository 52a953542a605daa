/**
 * certbot's mapping of several webroots in one order: `-w /a -d a.example -d www.a.example -w /b -d b.example`.
 * Each -d takes the -w given most recently before it; names before the first -w take the first one, which
 * is allowed only when there is a single -w (certbot refuses the ambiguous case, and so does certman).
 */
import { UsageError } from '../errors.js';

/** One `-w` as given: its folder and how many `-d` flags came before it. */
export interface WebrootFlag {
  dir: string;
  domainFlagsBefore: number;
}

/** The folder for each `-d` flag (by position), or undefined without any `-w`. */
export function webrootPerDomainFlag(domainFlags: number, webroots: readonly WebrootFlag[]): string[] | undefined {
  const first = webroots[0];
  if (first === undefined) return undefined;
  if (webroots.length > 1 && first.domainFlagsBefore > 0) {
    throw new UsageError('with several --webroot (-w), one must come before every -d', 'write -w /folder first, then the -d names it serves, then the next -w and its names');
  }
  return Array.from({ length: domainFlags }, (_, i) => {
    // The last -w given before this -d; a -d before any -w (only with a single -w) takes that one.
    const before = webroots.filter((w) => w.domainFlagsBefore <= i).at(-1) ?? first;
    return before.dir;
  });
}

/**
 * The per-name folders of an order whose names come from `-d` flags: undefined when every name uses the same
 * folder (the method's one `webroot` says it all). `names` turns one -d value into normalized names.
 */
export function webrootMap(domainFlags: readonly string[], webroots: readonly WebrootFlag[], names: (flag: string) => string[]): Record<string, string> | undefined {
  const dirs = webrootPerDomainFlag(domainFlags.length, webroots);
  if (dirs === undefined || new Set(dirs).size <= 1) return undefined;
  const map: Record<string, string> = {};
  domainFlags.forEach((flag, i) => {
    // A name given twice keeps its first folder, as certbot does.
    for (const name of names(flag)) map[name] ??= dirs[i] as string;
  });
  return map;
}

/** The folder one name's token goes to. */
export function webrootFor(method: { webroot: string; webroots?: Readonly<Record<string, string>> }, name: string): string {
  return method.webroots?.[name] ?? method.webroot;
}
