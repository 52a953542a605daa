import type { ExitCodeValue } from '../errors.js';
import type { Styles } from './output.js';

/** What a command handler returns; src/cli/main.ts prints it and exits with its code. */
export interface CommandResult {
  /** 0 unless the command partly failed (e.g. one certificate of a renewal). */
  exitCode?: ExitCodeValue;
  /** The `--json` document. */
  json: unknown;
  /** Lines for people; empty lines are kept. */
  human: (style: Styles) => string[];
}
