/**
 * `certman issue` at a terminal without -d: asks for what the flags did not say (names, how to answer
 * the challenge, key type, and the email/ToS of a new account), then shows what will be ordered and
 * asks to go ahead. Prompts and the summary go to stderr, like all progress: stdout stays the answer.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { CertificateMeta, ChallengeMethod, KeySpec } from '../../lineage/types.js';
import type { CliContext } from '../context.js';
import type { Styles } from '../output.js';
import { cancelledError, type Interrupt } from '../interrupt.js';
import { emailAnswer, emailQuestion, termsUrl, tosQuestion } from '../account-setup.js';

type Prompts = typeof import('@inquirer/prompts');

/** The issue flags the questions read, and fill in when missing. */
export interface IssueQuestionFlags {
  domain: string[];
  webroot?: string;
  standalone?: boolean;
  responder?: boolean;
  httpPort?: number;
  keyType?: 'ecdsa' | 'rsa';
  ellipticCurve?: 'p256' | 'p384';
  rsaKeySize?: '2048' | '3072' | '4096';
  email?: string;
  registerUnsafelyWithoutEmail?: boolean;
  agreeTos?: boolean;
  /** Read only: addresses no public CA can reach are refused while typed unless given. */
  allowPrivateIp?: boolean;
}

export interface QuestionDeps {
  interrupt: Interrupt;
  /** The certificate these names would renew (same lineage name), for the defaults. */
  previousFor(domains: string[]): Promise<CertificateMeta | undefined>;
  /** Whether an account exists for the server: if not, email and ToS are asked. */
  hasAccount: boolean;
}

/** Answers as flags: merged over the given flags, the usual issue flow takes it from there. */
export async function askIssueQuestions(ctx: CliContext, flags: IssueQuestionFlags, deps: QuestionDeps): Promise<Partial<IssueQuestionFlags>> {
  const ask = await asker(ctx, deps.interrupt);
  const answers: Partial<IssueQuestionFlags> = {};

  const domains = await ask((p, context, theme) =>
    p.search<string[]>(
      {
        message: 'Names for the certificate (separated by spaces or commas):',
        source: async (term) => nameChoices(term, ctx.settings.server, flags.allowPrivateIp === true),
        theme: { ...theme, style: { ...theme.style, disabled: (text: string) => ctx.style.bad(`✖ ${text.trim()}`), keysHelpTip: () => undefined } },
      },
      context,
    ),
  );
  answers.domain = domains;
  const previous = await deps.interrupt.race(deps.previousFor(domains));

  const methodGiven = flags.webroot !== undefined || flags.standalone === true || flags.responder === true;
  if (!methodGiven) Object.assign(answers, await askMethod(ctx, flags, previous, ask));

  const keyGiven = flags.keyType !== undefined || flags.ellipticCurve !== undefined || flags.rsaKeySize !== undefined;
  if (!keyGiven) Object.assign(answers, await askKey(ctx, previous, ask));

  if (!deps.hasAccount) {
    const email = flags.email ?? ctx.settings.email;
    if (email === undefined && flags.registerUnsafelyWithoutEmail !== true) {
      const answer = emailAnswer(await ask((p, context, theme) => p.input({ ...emailQuestion, theme }, context)));
      Object.assign(answers, answer === undefined ? { registerUnsafelyWithoutEmail: true } : { email: answer });
    }
    if (flags.agreeTos !== true) {
      const tos = await deps.interrupt.race(termsUrl(ctx, ctx.settings.server));
      const agreed = await ask((p, context, theme) => p.confirm({ ...tosQuestion(tos), theme }, context));
      if (!agreed) throw new UsageError('an account cannot be created without agreeing to the terms of service');
      answers.agreeTos = true;
    }
  }
  return answers;
}

/** Prints what will be done and asks to go ahead (default yes). */
export async function confirmOrder(ctx: CliContext, rows: [string, string][], interrupt: Interrupt): Promise<boolean> {
  const ask = await asker(ctx, interrupt);
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = ['', ctx.style.bold('certman will order:'), ...rows.map(([label, value]) => `  ${`${label}:`.padEnd(width)}${value}`), ''];
  process.stderr.write(`${lines.join('\n')}\n`);
  return ask((p, context, theme) => p.confirm({ message: 'Order this certificate now?', default: true, theme }, context));
}

export function describeMethod(method: ChallengeMethod, storeLocation: string): string {
  switch (method.kind) {
    case 'webroot':
      return `webroot ${method.webroot} (token files under .well-known/acme-challenge/)`;
    case 'standalone':
      return `built-in HTTP server on port ${method.port}${method.address === undefined ? '' : ` (${method.address})`}, for the length of the order`;
    case 'responder':
      return `tokens in the store ${storeLocation}, answered by a running \`certman serve-challenge\` using the same store`;
  }
}

// ── the questions ──────────────────────────────────────────────────────────

type Theme = ReturnType<typeof themeOf>;
type Context = { signal: AbortSignal; output: NodeJS.WritableStream };
type Ask = <T>(question: (prompts: Prompts, context: Context, theme: Theme) => Promise<T>) => Promise<T>;

async function asker(ctx: CliContext, interrupt: Interrupt): Promise<Ask> {
  const prompts = await import('@inquirer/prompts');
  const theme = themeOf(ctx.style);
  const context: Context = { signal: interrupt.signal, output: process.stderr };
  return async (question) => {
    try {
      return await question(prompts, context, theme);
    } catch (err) {
      // The prompt was stopped by a SIGINT from outside the terminal (kill -INT): same as Ctrl-C.
      if (err instanceof Error && err.name === 'AbortPromptError') throw cancelledError();
      throw err;
    }
  };
}

type NameChoice = { value: string[]; name: string; short?: string; disabled?: string };

/** The names prompt validates as you type (as issue does -d): the normalized names, or why they cannot be ordered. */
async function nameChoices(term: string | undefined, server: string, allowPrivateIp: boolean): Promise<NameChoice[]> {
  if (term === undefined || term.trim() === '') return [];
  const [{ assertHttp01Compatible, normalizeDomains }, { assertReachableIps }] = await Promise.all([import('../../dns/names.js'), import('../../dns/ip.js')]);
  try {
    const domains = normalizeDomains(term.split(/[\s,]+/));
    assertHttp01Compatible(domains);
    assertReachableIps(domains, server, allowPrivateIp);
    const list = domains.join(', ');
    return [{ value: domains, name: list, short: list }];
  } catch (err) {
    return [{ value: [], name: (err as Error).message, disabled: ' ' }];
  }
}

async function askMethod(ctx: CliContext, flags: IssueQuestionFlags, previous: CertificateMeta | undefined, ask: Ask): Promise<Partial<IssueQuestionFlags>> {
  const before = previous?.method;
  const fallback: ChallengeMethod['kind'] = flags.httpPort !== undefined ? 'standalone' : (before?.kind ?? (ctx.settings.webroot === undefined ? 'standalone' : 'webroot'));
  const kind = await ask((p, context, theme) =>
    p.select<ChallengeMethod['kind']>(
      {
        message: 'How should the CA reach the token (HTTP-01)?',
        choices: [
          { value: 'webroot', name: 'webroot: a folder your running web server serves' },
          { value: 'standalone', name: 'standalone: a built-in HTTP server while the order runs' },
          { value: 'responder', name: 'responder: a running `certman serve-challenge` answers' },
        ],
        default: fallback,
        theme,
      },
      context,
    ),
  );
  if (kind === 'responder') return { responder: true };
  if (kind === 'webroot') {
    const suggested = before?.kind === 'webroot' ? before.webroot : ctx.settings.webroot;
    const webroot = await ask((p, context, theme) =>
      p.input(
        {
          message: 'Webroot (the folder your web server serves for these names):',
          ...(suggested === undefined ? {} : { default: suggested }),
          validate: async (value) => (await folderProblem(value)) ?? true,
          theme,
        },
        context,
      ),
    );
    return { webroot: absolutePath(webroot) };
  }
  if (flags.httpPort !== undefined) return { standalone: true };
  const port = await ask((p, context, theme) =>
    p.number(
      {
        message: 'Port for the built-in server (where the CA\'s port 80 arrives):',
        default: before?.kind === 'standalone' ? before.port : ctx.settings.httpPort,
        min: 1,
        max: 65535,
        required: true,
        validate: (value) => (value !== undefined && Number.isInteger(value)) || 'a port is a whole number from 1 to 65535',
        theme,
      },
      context,
    ),
  );
  return { standalone: true, httpPort: port };
}

const KEY_CHOICES = [
  { value: 'ecdsa-p256', name: 'ECDSA P-256', description: 'small and fast, accepted everywhere today' },
  { value: 'ecdsa-p384', name: 'ECDSA P-384' },
  { value: 'rsa-2048', name: 'RSA 2048', description: 'for old clients without ECDSA' },
  { value: 'rsa-3072', name: 'RSA 3072' },
  { value: 'rsa-4096', name: 'RSA 4096' },
] as const;
type KeyChoice = (typeof KEY_CHOICES)[number]['value'];

async function askKey(ctx: CliContext, previous: CertificateMeta | undefined, ask: Ask): Promise<Partial<IssueQuestionFlags>> {
  const current: KeySpec = previous?.key ?? (ctx.settings.keyType === 'rsa' ? { type: 'rsa', bits: ctx.settings.rsaKeySize } : { type: 'ecdsa', curve: ctx.settings.ellipticCurve });
  const choice = await ask((p, context, theme) =>
    p.select<KeyChoice>(
      { message: 'Key type:', choices: KEY_CHOICES, default: current.type === 'rsa' ? `rsa-${current.bits}` : `ecdsa-${current.curve}`, theme },
      context,
    ),
  );
  const [type, size] = choice.split('-') as ['ecdsa', 'p256' | 'p384'] | ['rsa', '2048' | '3072' | '4096'];
  return type === 'rsa' ? { keyType: 'rsa', rsaKeySize: size } : { keyType: 'ecdsa', ellipticCurve: size };
}

function absolutePath(value: string): string {
  const trimmed = value.trim();
  return resolve(trimmed === '~' || trimmed.startsWith('~/') ? `${homedir()}${trimmed.slice(1)}` : trimmed);
}

async function folderProblem(value: string): Promise<string | undefined> {
  if (value.trim() === '') return 'enter the folder your web server serves';
  const path = absolutePath(value);
  try {
    if (!(await stat(path)).isDirectory()) return `${path} is not a folder`;
  } catch {
    return `${path} does not exist`;
  }
  return undefined;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Inquirer's look in certman's styles, so --no-color and NO_COLOR hold for prompts too. */
function themeOf(s: Styles) {
  return {
    prefix: { idle: s.bold('?'), done: s.ok('✔') },
    spinner: { interval: 80, frames: SPINNER.map((frame) => s.warn(frame)) },
    style: {
      answer: (text: string) => s.ok(text),
      message: (text: string) => s.bold(text),
      error: (text: string) => s.bad(`> ${text}`),
      defaultAnswer: (text: string) => s.dim(`(${text})`),
      help: (text: string) => s.dim(text),
      highlight: (text: string) => s.bold(text),
      key: (text: string) => s.bold(`<${text}>`),
      description: (text: string) => s.dim(text),
      disabled: (text: string) => s.dim(text),
      keysHelpTip: (keys: [string, string][]): string | undefined => keys.map(([key, action]) => `${s.bold(key)} ${s.dim(action)}`).join(s.dim(' • ')),
    },
  };
}
