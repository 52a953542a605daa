/**
 * `certman check --expiry` is a monitoring plugin: whatever happens, it prints a status line first and exits 0-3
 * (https://www.monitoring-plugins.org/doc/guidelines.html). main.ts asks here before anything can fail, so a bad
 * argument, a config file or store it cannot read, and any error at all end as UNKNOWN (3), never as 1, 2 or 75.
 */
import { PLUGIN_EXIT_CODES, statusLine } from '../served/expiry.js';

export const PLUGIN_UNKNOWN = PLUGIN_EXIT_CODES.UNKNOWN;

/** Whether the command line asks for `check --expiry` (also after global options, also as `--expiry=…`). */
export function isPluginMode(args: readonly string[]): boolean {
  const command = args.indexOf('check');
  return command >= 0 && args.slice(command + 1).some((arg) => arg === '--expiry' || arg.startsWith('--expiry='));
}

/** The UNKNOWN answer for an error: its status line on stdout (where the monitoring system reads), then the hint. */
export function pluginError(message: string, hint: string | undefined, json: boolean): { stdout: string; exitCode: number } {
  const exitCode = PLUGIN_UNKNOWN;
  if (json) return { stdout: `${JSON.stringify({ state: 'UNKNOWN', summary: message, ...(hint === undefined ? {} : { hint }) }, null, 2)}\n`, exitCode };
  return { stdout: `${[statusLine('UNKNOWN', message), ...(hint === undefined ? [] : [`hint: ${hint}`])].join('\n')}\n`, exitCode };
}
