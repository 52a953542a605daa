import type { ExitCodeValue } from '../errors.js';
import type { PLUGIN_EXIT_CODES, PluginState } from '../served/expiry.js';
import type { Styles } from './output.js';

/** What a command handler returns; src/cli/main.ts prints it and exits with its code. */
export interface CommandResult {
  /**
   * 0 unless the command partly failed (e.g. one certificate of a renewal). `check --expiry` answers with the
   * Monitoring Plugins' codes instead (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
   */
  exitCode?: ExitCodeValue | (typeof PLUGIN_EXIT_CODES)[PluginState];
  /** The `--json` document. */
  json: unknown;
  /** Lines for people; empty lines are kept. */
  human: (style: Styles) => string[];
}
