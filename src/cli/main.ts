import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CertmanError, ExitCode, UsageError } from '../errors.js';
import type { CliContext } from './context.js';
import { withEnvironment, type GlobalOptions } from './globals.js';
import { isPluginMode, PLUGIN_UNKNOWN } from './plugin-mode.js';
import type { Runner } from './program.js';
import type { CommandResult } from './result.js';

/** Parses, runs one command, prints its result or error, and is the only place that exits. */
export async function main(argv: string[]): Promise<never> {
  const args = argv.slice(2);
  // `check --expiry` answers with the Monitoring Plugins' codes only: any failure of its own is UNKNOWN (3).
  const plugin = isPluginMode(args);
  // `certman list | head` closes our stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => exit(plugin ? PLUGIN_UNKNOWN : err.code === 'EPIPE' ? ExitCode.OK : ExitCode.FAILURE));
  // Shell completion asks on every Tab press: answer before reading or loading anything else.
  if (args[0] === '__complete') {
    const { completeValues } = await import('./complete.js');
    const lines = await completeValues({ args: args.slice(1), env: process.env, isRoot: process.getuid?.() === 0, cwd: process.cwd() });
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
    return exit(ExitCode.OK);
  }
  const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  // Scripts and package managers probe `--version` often: answer before loading anything.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${version}\n`);
    return exit(ExitCode.OK);
  }
  // Help is the same text every time: printed from the texts generated at build time, without commander.
  const help = helpKey(args);
  if (help !== undefined) {
    const { HELP_TEXTS } = await import('./help-texts.js');
    const text = HELP_TEXTS[help];
    if (text !== undefined) {
      process.stdout.write(text);
      return exit(ExitCode.OK);
    }
  }
  const [{ createContext }, { buildProgram }] = await Promise.all([import('./context.js'), import('./program.js')]);
  let done: { result: CommandResult; ctx: CliContext } | undefined;
  const run: Runner = (handler) => async (...args) => {
    const command = args.at(-1) as Command;
    const ctx = await createContext(command);
    try {
      done = { result: await handler(command.opts() as Parameters<typeof handler>[0], ctx), ctx };
    } finally {
      await ctx.close();
    }
  };
  const program = buildProgram(version, run);
  try {
    await program.parseAsync(argv);
    if (done === undefined) return exit(ExitCode.OK);
    return exit(await printResult(done.result, done.ctx, plugin));
  } catch (err) {
    const globals = withEnvironment(program.opts<GlobalOptions>(), process.env);
    return exit(plugin ? await printPluginError(err, globals) : await printError(err, globals));
  }
}

/** '' for `--help`, `-h` or `help`; a command for `<command> --help` or `help <command>`; else undefined. */
function helpKey(args: string[]): string | undefined {
  const isHelpFlag = (arg: string | undefined) => arg === '--help' || arg === '-h';
  if (args.length === 1 && (isHelpFlag(args[0]) || args[0] === 'help')) return '';
  if (args.length !== 2) return undefined;
  const [first, second] = args as [string, string];
  if (first === 'help' && !second.startsWith('-')) return second;
  return isHelpFlag(second) && !first.startsWith('-') ? first : undefined;
}

/** A monitoring plugin always answers with its status line, also with -q. */
async function printResult(result: CommandResult, ctx: CliContext, plugin: boolean): Promise<number> {
  const code = result.exitCode ?? ExitCode.OK;
  if (ctx.flags.json) {
    process.stdout.write(`${JSON.stringify(result.json, null, 2)}\n`);
  } else if (plugin || !ctx.flags.quiet || code !== ExitCode.OK) {
    const { stylesFor } = await import('./output.js');
    const lines = result.human(await stylesFor(process.stdout, ctx.flags, process.env));
    if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
  }
  return code;
}

async function printError(err: unknown, globals: GlobalOptions): Promise<number> {
  const [{ CommanderError }, { errorJson, errorLines, exitCodeOf, stylesFor }] = await Promise.all([import('commander'), import('./output.js')]);
  if (err instanceof CommanderError) {
    // --help and --version end here with code 0 and their text already printed; a bare `certman` shows help.
    if (err.exitCode === 0) return ExitCode.OK;
    if (err.code === 'commander.help') return ExitCode.USAGE;
    // One line: commander puts its "(Did you mean …?)" suggestion on a line of its own.
    err = new UsageError(err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '), 'see certman --help, or certman <command> --help');
  }
  // @inquirer/prompts rejects with ExitPromptError when the user presses Ctrl-C at a prompt.
  if (err instanceof Error && err.name === 'ExitPromptError') {
    err = new CertmanError('cancelled', { exitCode: ExitCode.INTERRUPTED });
  }
  const code = exitCodeOf(err);
  if (globals.json === true) process.stdout.write(`${JSON.stringify({ error: errorJson(err) }, null, 2)}\n`);
  const style = await stylesFor(process.stderr, { color: globals.color }, process.env);
  process.stderr.write(`${errorLines(err, style, globals.verbose === true).join('\n')}\n`);
  return code;
}

/** `check --expiry`'s errors: UNKNOWN, one status line on stdout, never another code (help and --version end with 0). */
async function printPluginError(err: unknown, globals: GlobalOptions): Promise<number> {
  const [{ CommanderError }, { pluginError }, { errorMessage }] = await Promise.all([import('commander'), import('./plugin-mode.js'), import('./output.js')]);
  if (err instanceof CommanderError && err.exitCode === 0) return ExitCode.OK;
  const message = err instanceof CommanderError ? err.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ') : errorMessage(err);
  const answer = pluginError(message, err instanceof CertmanError ? err.hint : undefined, globals.json === true);
  process.stdout.write(answer.stdout);
  if (globals.verbose === true && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  return answer.exitCode;
}

function exit(code: number): never {
  process.exit(code);
}
