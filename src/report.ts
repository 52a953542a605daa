/** How the core tells the CLI what it is doing, without knowing about terminals. */
export interface Reporter {
  /** A step of a long operation ("ordering", "validating a.example"). */
  step(message: string): void;
  warn(message: string): void;
  /** Shown only with --verbose. */
  debug(message: string): void;
}

export const silentReporter: Reporter = { step() {}, warn() {}, debug() {} };
