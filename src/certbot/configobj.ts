/**
 * A reader for the INI dialect of Python's configobj, which certbot uses for renewal/<name>.conf:
 *
 *   # comment                      whole-line comments, and `key = value  # comment` after a value
 *   key = value                    keys and values may be quoted with ' or "
 *   list = a, b,                   an unquoted comma makes a list; a trailing comma a one-item list; `,` an empty one
 *   text = '''…'''                 triple quotes, also spanning lines
 *   [section]                      sections; [[sub]] nests under the section before it, [[[x]]] under that, …
 *
 * Values stay strings (configobj does no type conversion either); confBool() reads booleans.
 * Only reads: certman never writes these files.
 */
import { CertmanError } from '../errors.js';

export type ConfValue = string | string[];

export interface ConfSection {
  /** Keys in file order. */
  values: Map<string, ConfValue>;
  sections: Map<string, ConfSection>;
}

/** A line configobj itself would refuse; `line` is 1-based. */
export class ConfSyntaxError extends CertmanError {
  readonly line: number;

  constructor(file: string, line: number, reason: string) {
    super(`${file}, line ${line}: ${reason}`);
    this.line = line;
  }
}

function newSection(): ConfSection {
  return { values: new Map(), sections: new Map() };
}

const SPACE = /\s/;

function isBlankOrComment(rest: string): boolean {
  const trimmed = rest.trim();
  return trimmed === '' || trimmed.startsWith('#');
}

/** Parses the text of a configobj file. `file` only names it in errors. */
export function parseConfigObj(text: string, file = 'config'): ConfSection {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const root = newSection();
  /** stack[d] is the open section at depth d (the root is depth 0). */
  let stack: ConfSection[] = [root];

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const fail = (reason: string): never => {
      throw new ConfSyntaxError(file, lineNo, reason);
    };
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;

    if (line.startsWith('[')) {
      const header = /^((?:\[\s*)+)(.*?)((?:\s*\])+)(\s*(?:#.*)?)$/.exec(line);
      if (header === null) fail(`not a section header: ${line}`);
      const [, open = '', rawName = '', close = ''] = header ?? [];
      const depth = open.replace(/\s/g, '').length;
      if (close.replace(/\s/g, '').length !== depth) fail(`brackets do not match in ${line}`);
      if (depth > stack.length) fail(`section ${line} is nested deeper than the section before it`);
      const name = unquoteName(rawName.trim()) ?? fail(`bad section name in ${line}`);
      if (name === '') fail('empty section name');
      const parent = stack[depth - 1] ?? root;
      if (parent.sections.has(name) || parent.values.has(name)) fail(`duplicate section "${name}"`);
      const section = newSection();
      parent.sections.set(name, section);
      stack = [...stack.slice(0, depth), section];
      continue;
    }

    const { key, rest } = splitKey(line) ?? fail(`expected "key = value", found: ${line}`);
    const section = stack[stack.length - 1] ?? root;
    if (section.values.has(key) || section.sections.has(key)) fail(`duplicate key "${key}"`);
    const value = rest.trimStart();
    const triple = value.startsWith("'''") ? "'''" : value.startsWith('"""') ? '"""' : undefined;
    if (triple !== undefined) {
      // The value runs to the next closing triple quote, on this line or a later one.
      let body = value.slice(3);
      let end = body.indexOf(triple);
      while (end < 0) {
        i++;
        if (i >= lines.length) throw new ConfSyntaxError(file, lineNo, `unterminated ${triple} value for "${key}"`);
        body += `\n${lines[i] ?? ''}`;
        end = body.indexOf(triple);
      }
      if (!isBlankOrComment(body.slice(end + 3))) throw new ConfSyntaxError(file, i + 1, `text after the closing ${triple} of "${key}"`);
      section.values.set(key, body.slice(0, end));
      continue;
    }
    section.values.set(key, parseValue(value, (reason) => fail(`${reason} in the value of "${key}"`)));
  }
  return root;
}

/** `"name"`, `'name'` or a bare name; undefined when the quotes do not match. */
function unquoteName(raw: string): string | undefined {
  const first = raw[0];
  if (first === '"' || first === "'") {
    if (raw.length < 2 || raw[raw.length - 1] !== first) return undefined;
    return raw.slice(1, -1);
  }
  return raw;
}

function splitKey(line: string): { key: string; rest: string } | undefined {
  const first = line[0];
  if (first === '"' || first === "'") {
    const close = line.indexOf(first, 1);
    if (close < 0) return undefined;
    const after = line.slice(close + 1).trimStart();
    if (!after.startsWith('=')) return undefined;
    return { key: line.slice(1, close), rest: after.slice(1) };
  }
  const eq = line.indexOf('=');
  if (eq <= 0) return undefined;
  const key = line.slice(0, eq).trim();
  if (key === '') return undefined;
  return { key, rest: line.slice(eq + 1) };
}

/** One value: a scalar, or a list when an unquoted comma appears. Stops at an unquoted `#`. */
function parseValue(text: string, fail: (reason: string) => never): ConfValue {
  const items: string[] = [];
  let isList = false;
  let pos = 0;
  const skipSpace = (): void => {
    while (pos < text.length && SPACE.test(text[pos] ?? '')) pos++;
  };
  for (;;) {
    skipSpace();
    if (pos >= text.length || text[pos] === '#') break;
    const ch = text[pos];
    let item: string;
    let quoted = false;
    if (ch === '"' || ch === "'") {
      const close = text.indexOf(ch, pos + 1);
      if (close < 0) fail('unbalanced quotes');
      item = text.slice(pos + 1, close);
      pos = close + 1;
      quoted = true;
    } else {
      let end = pos;
      while (end < text.length && text[end] !== ',' && text[end] !== '#') end++;
      item = text.slice(pos, end).trim();
      pos = end;
    }
    skipSpace();
    const next = text[pos];
    if (next === ',') {
      pos++;
      isList = true;
      if (item === '' && !quoted) {
        // A lone comma is configobj's empty list; an empty item between commas is an error.
        skipSpace();
        if (items.length === 0 && (pos >= text.length || text[pos] === '#')) return [];
        fail('empty list item');
      }
      items.push(item);
      continue;
    }
    if (next !== undefined && next !== '#') fail(`unexpected ${JSON.stringify(next)} after a quoted value`);
    items.push(item);
    break;
  }
  if (isList) return items;
  return items[0] ?? '';
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

/** configobj's boolean spellings (certbot writes True/False); undefined for anything else. */
export function confBool(value: ConfValue | undefined): boolean | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

/** A value as one string: a list (someone wrote an unquoted comma in a command) is joined back with ", ". */
export function confString(value: ConfValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(', ');
}

/** A value as a list: a scalar is a one-item list, an empty scalar an empty one. */
export function confList(value: ConfValue | undefined): string[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return value.trim() === '' ? [] : [value];
  return [...value];
}
