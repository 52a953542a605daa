/**
 * Typed errors shared by every layer. The core throws them; src/cli/run.ts turns them into
 * a one-line message, an optional hint and the process exit code.
 */

/** Documented exit codes (README "Exit codes", `certman --help`). */
export const ExitCode = {
  OK: 0,
  /** The operation failed (CA refused, network, challenge, I/O). */
  FAILURE: 1,
  /** Bad usage or bad input: unknown flag, invalid name, bad config file. */
  USAGE: 2,
  /** Another certman run holds the lock: try again later (sysexits EX_TEMPFAIL). */
  LOCKED: 75,
  /** Interrupted by the user (Ctrl-C at a prompt), as shells report SIGINT. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ErrorOptions {
  exitCode?: ExitCodeValue;
  hint?: string;
  cause?: unknown;
}

export class CertmanError extends Error {
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;

  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.FAILURE;
    this.hint = options.hint;
  }
}

/** Bad flags, names or config: exit 2. */
export class UsageError extends CertmanError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.USAGE, hint });
  }
}

/** The CA or a network peer could not be reached or timed out. */
export class NetworkError extends CertmanError {}

export interface Subproblem {
  identifier?: string;
  type: string;
  detail: string;
}

/** An RFC 8555 problem document returned by the CA. */
export class AcmeProblemError extends CertmanError {
  readonly type: string;
  readonly detail: string;
  readonly status: number | undefined;
  readonly subproblems: Subproblem[];
  /** When the CA said to ask again (its Retry-After header), if it did. */
  readonly retryAfter: Date | undefined;

  constructor(problem: { type: string; detail: string; status?: number; subproblems?: Subproblem[]; retryAfter?: Date }, hint?: string) {
    const short = problem.type.replace('urn:ietf:params:acme:error:', '');
    const subs = (problem.subproblems ?? []).map((s) => `${s.identifier ?? '?'}: ${s.detail}`);
    super(`${short}: ${[problem.detail, ...subs].join('; ')}`, { hint });
    this.type = problem.type;
    this.detail = problem.detail;
    this.status = problem.status;
    this.subproblems = problem.subproblems ?? [];
    this.retryAfter = problem.retryAfter;
  }
}

/**
 * A CA account that answered rateLimited is sent nothing before the time it gave: the client throws this
 * instead of sending for the rest of the run (`renew` also defers that account's certificates in later
 * runs, from the state store).
 */
export class RateLimitPause extends CertmanError {
  constructor(
    readonly server: string,
    readonly account: string,
    readonly until: Date,
    readonly detail: string,
  ) {
    super(`${server} rate-limited account ${account} until ${until.toISOString()}; nothing is sent to it before then (${detail})`, {
      hint: 'the CA\'s detail says which limit was hit; certman asks again after that time by itself',
    });
  }
}

/**
 * certman's own share of the CA's limits is spent (failed validations of a name, new orders of an account, counted
 * in the store by every node sharing it): nothing was sent to the CA. `renew` reports such certificates `deferred`.
 */
export class BudgetDeferral extends CertmanError {
  constructor(
    readonly reason: string,
    readonly until: Date,
  ) {
    super(reason, { hint: 'certman keeps below the CA\'s limits (config failedValidationLimit, newOrderLimit); renew tries again by itself after that time' });
  }
}

/** Another run holds a lock on the store. */
export class LockedError extends CertmanError {
  constructor(message: string, hint = 'wait for it to finish, or pass --wait') {
    super(message, { exitCode: ExitCode.LOCKED, hint });
  }
}

/**
 * This run no longer holds the lease on what it was working on: it stalled for a whole lease and another run
 * may have taken over. Nothing was saved; the other run (or the next) does the work.
 */
export class LeaseLostError extends CertmanError {
  constructor(what: string) {
    super(`lost the lease on ${what}: another run may be working on it, so nothing was saved`, {
      exitCode: ExitCode.LOCKED,
      hint: 'the lease is extended every quarter of its length; a run stalled that long (a suspended VM, a stopped process) loses it',
    });
  }
}

export function isCertmanError(err: unknown): err is CertmanError {
  return err instanceof CertmanError;
}

/**
 * The message of anything thrown: an Error's own, anything else as text. Node's connect to a name with several
 * addresses (IPv4 and IPv6) fails with an AggregateError whose own message is empty: its parts say what happened.
 */
export function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    const parts = [...new Set(err.errors.map(messageOf))].filter((part) => part !== '');
    if (parts.length > 0) return parts.join('; ');
    const { code } = err as { code?: unknown };
    return typeof code === 'string' ? code : 'connection failed';
  }
  return err instanceof Error ? err.message : String(err);
}
