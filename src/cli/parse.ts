/** Option-value parsers: each turns a bad value into a one-line usage error (exit 2). */
import { checkEmail } from '../config/validate.js';
import { profileNameProblem } from '../acme/profiles.js';
import { UsageError } from '../errors.js';
import { printableLine } from '../text.js';

/** A whole number from `min` to `max`, written in digits only; the error names it as `what` ("a port number"). */
function parseWholeNumber(value: string, flag: string, what: string, min: number, max: number): number {
  const n = Number(value);
  // The value quoted as JSON: control characters in it (an ESC) are shown escaped, never sent to the terminal.
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`${flag} must be ${what} from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}

export function parsePort(value: string, flag = '--http-port'): number {
  return parseWholeNumber(value, flag, 'a port number', 1, 65535);
}

export function parsePositive(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, not "${value}"`);
  return n;
}

/** `certificates --timeline --days`: whole days, at most a year (projected renewals further out say little). */
export function parseTimelineDays(value: string): number {
  return parseWholeNumber(value, '--days', 'a whole number of days', 1, 366);
}

/** commander collector for repeatable options (`-d a -d b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--email`: checked here, so a bad address never reaches the CA nor opens the store. */
export function parseEmail(value: string): string {
  return checkEmail(value, '--email');
}

/** A folder or file option: an empty value would silently mean the current folder. */
export function nonEmpty(flag: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new UsageError(`${flag} must not be empty`);
    return value;
  };
}

/** `--preferred-chain`: a common name, stored as given and shown in warnings, so printable and on one line. */
export function parsePreferredChain(value: string): string {
  if (value.trim() === '' || printableLine(value) !== value) {
    throw new UsageError(`--preferred-chain ${JSON.stringify(value)}: give the issuer's common name on one line, without control characters or surrounding spaces`);
  }
  return value;
}

/** `--profile`: a name the CA's directory could list (checked against it before ordering). */
export function parseProfile(value: string): string {
  const problem = profileNameProblem(value);
  if (problem !== undefined) throw new UsageError(`--profile ${JSON.stringify(value)}: ${problem}`);
  return value;
}
