/**
 * Finds and reads the certman config file with cosmiconfig, then validates it.
 */
import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { cosmiconfig, type CosmiconfigResult } from 'cosmiconfig';
import { CertmanError, UsageError } from '../errors.js';
import type { LoadedConfig } from './types.js';
import { validateFileConfig } from './validate.js';

const MODULE_NAME = 'certman';

/** Checked in this order in the `searchFrom` directory only (no walking up). */
export const CONFIG_SEARCH_PLACES: readonly string[] = [
  'package.json',
  `.${MODULE_NAME}rc`,
  `.${MODULE_NAME}rc.json`,
  `.${MODULE_NAME}rc.yaml`,
  `.${MODULE_NAME}rc.yml`,
  `.${MODULE_NAME}rc.js`,
  `.${MODULE_NAME}rc.mjs`,
  `.${MODULE_NAME}rc.cjs`,
  `${MODULE_NAME}.config.json`,
  `${MODULE_NAME}.config.yaml`,
  `${MODULE_NAME}.config.yml`,
  `${MODULE_NAME}.config.js`,
  `${MODULE_NAME}.config.mjs`,
  `${MODULE_NAME}.config.cjs`,
];

/** Extensions an explicit `--config` file may have ('' = no extension, read as YAML). */
const EXPLICIT_EXTENSIONS = ['', '.json', '.yaml', '.yml', '.js', '.mjs', '.cjs'];

/**
 * Reads the config file named by `explicitPath` (resolved against the working directory),
 * or else the first of CONFIG_SEARCH_PLACES found in `searchFrom` (searchStrategy "none":
 * parent directories and the global ~/.config fallback of cosmiconfig are not searched;
 * empty files are skipped while searching). No file found: `{ config: {} }` without `path`.
 *
 * Errors: a missing explicit file, a syntax error, an unknown key or a bad value is a
 * one-line UsageError naming the file; an unreadable file (permissions, I/O) is a CertmanError.
 *
 * Note: cosmiconfig 9 also honours a "meta config" (a `cosmiconfig` key in ./package.json or
 * ./.config/config.{json,yaml,yml,js,...} of the process working directory) that can add
 * search places; that is cosmiconfig behaviour and cannot be switched off through its options.
 */
export async function loadConfigFile(opts: { explicitPath?: string; searchFrom: string }): Promise<LoadedConfig> {
  const explorer = cosmiconfig(MODULE_NAME, {
    searchPlaces: [...CONFIG_SEARCH_PLACES],
    searchStrategy: 'none',
    cache: false,
    // Our own JSON loader: cosmiconfig's (parse-json) puts code frames in the message.
    loaders: { '.json': loadJson },
  });

  let result: CosmiconfigResult;
  if (opts.explicitPath !== undefined) {
    const file = resolve(opts.explicitPath);
    await checkExplicitFile(file);
    result = await runLoader(() => explorer.load(file), file);
    if (result === null) return { path: file, config: {} };
  } else {
    result = await runLoader(() => explorer.search(resolve(opts.searchFrom)), undefined);
    if (result === null) return { config: {} };
  }

  const path = result.filepath;
  return { path, config: validateFileConfig(result.isEmpty === true ? undefined : result.config, label(path)) };
}

/** How a file is named in messages: `package.json` is only read for its "certman" key. */
function label(path: string): string {
  return basename(path) === 'package.json' ? `${path}#${MODULE_NAME}` : path;
}

async function checkExplicitFile(file: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(file)).isFile();
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new UsageError(`config file ${file} not found`, 'check the --config path');
    }
    throw new CertmanError(`cannot read config file ${file}: ${oneLine(errorMessage(err))}`, { cause: err });
  }
  if (!isFile) throw new UsageError(`config file ${file} is not a regular file`);
  const ext = extname(file).toLowerCase();
  if (!EXPLICIT_EXTENSIONS.includes(ext)) {
    throw new UsageError(
      `config file ${file}: unsupported file type "${ext}"`,
      'use .json, .yaml, .yml, .js, .mjs, .cjs, or no extension for YAML',
    );
  }
}

/** Runs a cosmiconfig call and turns its exceptions into certman errors naming the file. */
async function runLoader(load: () => Promise<CosmiconfigResult>, fallbackPath: string | undefined): Promise<CosmiconfigResult> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof CertmanError) throw err;
    const errFile = (err as { filepath?: unknown } | null)?.filepath;
    const file = typeof errFile === 'string' ? errFile : fallbackPath;
    const where = file === undefined ? 'config file' : `config file ${label(file)}`;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') {
      // Only reachable through `$import` of a missing file (the file itself was found).
      throw new UsageError(`${where}: ${oneLine(errorMessage(err))}`);
    }
    if (code !== undefined) {
      throw new CertmanError(`cannot read ${where}: ${oneLine(errorMessage(err))}`, { cause: err });
    }
    throw new UsageError(`${where}: ${describeLoadError(err)}`);
  }
}

/** JSON.parse with a one-line UsageError naming the file and, when known, line and column. */
function loadJson(filepath: string, content: string): unknown {
  const text = content.replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const reason = oneLine(errorMessage(err));
    const position = /\s*(?:in JSON )?at position (\d+).*$/.exec(reason);
    if (position === null) throw new UsageError(`config file ${filepath}: invalid JSON: ${reason}`);
    const before = text.slice(0, Number(position[1]));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new UsageError(
      `config file ${filepath}: invalid JSON at line ${line}, column ${column}: ${reason.slice(0, position.index)}`,
    );
  }
}

/** One line for a parse or evaluation error, without the code frame loaders add. */
function describeLoadError(err: unknown): string {
  if (err instanceof Error && err.name === 'YAMLException') {
    const { reason, mark } = err as Error & { reason?: unknown; mark?: { line?: unknown; column?: unknown } };
    if (typeof reason === 'string' && typeof mark?.line === 'number' && typeof mark.column === 'number') {
      return `invalid YAML at line ${mark.line + 1}, column ${mark.column + 1}: ${reason}`;
    }
  }
  // cosmiconfig prefixes "YAML Error in <file>:\n"; we name the file ourselves.
  const message = errorMessage(err).replace(/^(JSON|YAML|TypeScript) Error in [^\n]*:\s*/, '');
  if (err instanceof SyntaxError) return `syntax error: ${oneLine(message)}`;
  return oneLine(message);
}

function oneLine(text: string): string {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
}
