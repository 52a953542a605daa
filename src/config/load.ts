/**
 * Reads the certman config file: data (JSON or YAML), never code, and never from the working directory.
 *
 * cosmiconfig's explorer is deliberately not used: whatever options it is given, it first looks for a
 * "meta config" (package.json `cosmiconfig` key, .config/config.{json,yaml,js,mjs,ts,...}) in the process
 * working directory and loads it, executing JavaScript. Only its YAML loader (js-yaml) is used here.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { CertmanError, UsageError, messageOf } from '../errors.js';
import { checkConfigDirForRoot, checkOnlyRootCanWrite } from './permissions.js';
import type { LoadedConfig } from './types.js';
import { validateFileConfig } from './validate.js';

/** Looked for in the config dir, in this order; the first that exists and is not empty is read. */
export const CONFIG_FILE_NAMES: readonly string[] = [
  '.certmanrc',
  '.certmanrc.json',
  '.certmanrc.yaml',
  '.certmanrc.yml',
  'certman.config.json',
  'certman.config.yaml',
  'certman.config.yml',
];

/** Extensions of code: a config file written in one is refused, never run and never skipped in silence. */
const CODE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** Config-file names in a code format, which earlier versions ran; their presence in the config dir is an error. */
const CODE_FILE_NAMES = ['.certmanrc', 'certman.config'].flatMap((stem) => CODE_EXTENSIONS.map((ext) => stem + ext));

const DATA_EXTENSIONS = ['', '.json', '.yaml', '.yml'];

const CONFIG_IS_DATA = 'write it as JSON or YAML (certman.config.json or certman.config.yaml): config is data, never run';

export interface LoadOptions {
  /** `--config` / CERTMAN_CONFIG: read this file instead of looking in the config dir (relative to the working directory). */
  explicitPath?: string;
  /** The config dir (absolute): where the config file is looked for. */
  configDir: string;
  /** Running as root: refuse a config dir or file that another user can change (see permissions.ts). */
  strict: boolean;
}

/**
 * Reads the config file named by `explicitPath`, or else the first of CONFIG_FILE_NAMES found in the
 * config dir (empty files are skipped). No file: `{ config: {} }` without `path`.
 *
 * Errors: a missing explicit file, a code-format file, a syntax error, an unknown key, a bad value, or
 * (strict) a config dir or file other users can write is a one-line UsageError naming the file; an
 * unreadable file (permissions, I/O) is a CertmanError.
 */
export async function loadConfigFile(opts: LoadOptions): Promise<LoadedConfig> {
  if (opts.strict) await checkConfigDirForRoot(opts.configDir);
  const found = opts.explicitPath === undefined ? await findInConfigDir(opts.configDir) : await explicitFile(resolve(opts.explicitPath));
  if (found === undefined) return { config: {} };
  if (opts.strict) await checkOnlyRootCanWrite(found.path, 'config file');
  return { path: found.path, config: validateFileConfig(await parse(found.path, found.text), found.path) };
}

interface FoundFile {
  path: string;
  text: string;
}

async function findInConfigDir(dir: string): Promise<FoundFile | undefined> {
  for (const name of CODE_FILE_NAMES) {
    const path = join(dir, name);
    if ((await readIfFile(path)) !== undefined) throw codeFileError(path);
  }
  for (const name of CONFIG_FILE_NAMES) {
    const path = join(dir, name);
    const text = await readIfFile(path);
    if (text !== undefined && text.trim() !== '') return { path, text };
  }
  return undefined;
}

async function explicitFile(path: string): Promise<FoundFile> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`config file ${path} not found`, 'check the --config path');
    throw readError(path, err);
  }
  if (!isFile) throw new UsageError(`config file ${path} is not a regular file`);
  const ext = extname(path).toLowerCase();
  if (CODE_EXTENSIONS.includes(ext)) throw codeFileError(path);
  if (!DATA_EXTENSIONS.includes(ext)) {
    throw new UsageError(`config file ${path}: unsupported file type "${ext}"`, 'use .json, .yaml, .yml, or no extension for YAML');
  }
  return { path, text: (await readIfFile(path)) ?? '' };
}

/** The file's text, or undefined when there is no regular file at `path`. */
async function readIfFile(path: string): Promise<string | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw readError(path, err);
  }
}

function codeFileError(path: string): UsageError {
  return new UsageError(`config file ${path} is code, and certman does not run config files`, CONFIG_IS_DATA);
}

function readError(path: string, err: unknown): CertmanError {
  return new CertmanError(`cannot read config file ${path}: ${oneLine(messageOf(err))}`, { cause: err });
}

/** JSON for `.json`, YAML (a superset of JSON) for everything else; empty text is an empty config. */
async function parse(path: string, content: string): Promise<unknown> {
  const text = content.replace(/^\uFEFF/, '');
  if (text.trim() === '') return undefined;
  return extname(path).toLowerCase() === '.json' ? parseJson(path, text) : parseYaml(path, text);
}

/** JSON.parse with a one-line UsageError naming the file and, when known, line and column. */
function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const reason = oneLine(messageOf(err));
    const position = /\s*(?:in JSON )?at position (\d+).*$/.exec(reason);
    if (position === null) throw new UsageError(`config file ${path}: invalid JSON: ${reason}`);
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new UsageError(`config file ${path}: invalid JSON at line ${line}, column ${column}: ${reason.slice(0, position.index)}`);
  }
}

/** js-yaml through cosmiconfig's loader (plain YAML: it has no tags that run code), loaded only for a YAML file. */
async function parseYaml(path: string, text: string): Promise<unknown> {
  const { defaultLoadersSync } = await import('cosmiconfig');
  try {
    return defaultLoadersSync['.yaml'](path, text);
  } catch (err) {
    throw new UsageError(`config file ${path}: ${describeYamlError(err)}`);
  }
}

function describeYamlError(err: unknown): string {
  const { reason, mark } = err as { reason?: unknown; mark?: { line?: unknown; column?: unknown } };
  if (typeof reason === 'string' && typeof mark?.line === 'number' && typeof mark.column === 'number') {
    return `invalid YAML at line ${mark.line + 1}, column ${mark.column + 1}: ${reason}`;
  }
  // cosmiconfig prefixes "YAML Error in <file>:\n"; we name the file ourselves.
  return `invalid YAML: ${oneLine(messageOf(err).replace(/^YAML Error in [^\n]*:\s*/, ''))}`;
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}


function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}
