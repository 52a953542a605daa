import { AcmeProblemError, CertmanError, ExitCode, messageOf } from '../errors.js';
import type { Reporter } from '../report.js';
import { printableLine } from '../text.js';

export interface OutputFlags {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  /** commander's --no-color sets color to false. */
  color: boolean;
}

export interface Styles {
  ok: (s: string) => string;
  warn: (s: string) => string;
  bad: (s: string) => string;
  dim: (s: string) => string;
  bold: (s: string) => string;
}

const plain = (s: string) => s;
const PLAIN: Styles = { ok: plain, warn: plain, bad: plain, dim: plain, bold: plain };

/**
 * Colour only on a terminal, never with NO_COLOR or --no-color (https://no-color.org).
 * chalk is loaded only then: pipes, cron and CI never pay for it.
 */
export async function stylesFor(stream: NodeJS.WriteStream, flags: Pick<OutputFlags, 'color'>, env: NodeJS.ProcessEnv): Promise<Styles> {
  const noColor = flags.color === false || (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || stream.isTTY !== true;
  if (noColor) return PLAIN;
  const { Chalk } = await import('chalk');
  const chalk = new Chalk({ level: 1 });
  return { ok: chalk.green, warn: chalk.yellow, bad: chalk.red, dim: chalk.dim, bold: chalk.bold };
}

/**
 * Progress and warnings go to stderr so stdout stays the command's answer (and --json stays parseable). Each is one
 * printable line: they quote CAs and stored documents (see printableLine).
 */
export function stderrReporter(flags: OutputFlags, style: Styles): Reporter {
  const write = (line: string) => process.stderr.write(`${line}\n`);
  return {
    step: (message) => {
      if (!flags.quiet && flags.verbose) write(style.dim(`• ${printableLine(message)}`));
    },
    warn: (message) => {
      if (!flags.quiet) write(style.warn(`warning: ${printableLine(message)}`));
    },
    debug: (message) => {
      if (flags.verbose) write(style.dim(message));
    },
  };
}

/** The machine-readable form of any error, for --json. */
export function errorJson(err: unknown): Record<string, unknown> {
  const base = { message: errorMessage(err), exitCode: exitCodeOf(err) };
  if (err instanceof AcmeProblemError) {
    const retryAfter = err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter.toISOString() };
    return { ...base, type: err.type, detail: err.detail, subproblems: err.subproblems, hint: err.hint, ...retryAfter };
  }
  if (err instanceof CertmanError && err.hint !== undefined) return { ...base, hint: err.hint };
  return base;
}

export function errorLines(err: unknown, style: Styles, verbose: boolean): string[] {
  const lines = [`${style.bad('error:')} ${errorMessage(err)}`];
  if (err instanceof AcmeProblemError) {
    for (const sub of err.subproblems) lines.push(`  ${printableLine(sub.identifier ?? '?')}: ${printableLine(sub.detail)}`);
  }
  if (err instanceof CertmanError && err.hint !== undefined) lines.push(`${style.dim('hint:')} ${err.hint}`);
  if (verbose && err instanceof Error && err.stack !== undefined) lines.push(style.dim(err.stack));
  return lines;
}

/** One line, whatever the CA sent: its problem documents are text from outside (see printableLine). */
export function errorMessage(err: unknown): string {
  if (err instanceof AcmeProblemError) {
    return printableLine(`${err.type.replace('urn:ietf:params:acme:error:', '')}: ${err.detail}`);
  }
  return messageOf(err);
}

export function exitCodeOf(err: unknown): number {
  return err instanceof CertmanError ? err.exitCode : ExitCode.FAILURE;
}
