import type { OutputFlags } from './output.js';

/** Global options exactly as commander parsed them. */
export interface GlobalOptions extends OutputFlags {
  configDir?: string;
  store?: string;
  storePrefix?: string;
  storeKeyFile?: string;
  storeCaFile?: string;
  server?: string;
  caFile?: string;
  config?: string;
  nonInteractive?: boolean;
  timeout?: string;
  maxRetryAfter?: string;
}

/** Environment variables for the global switches (the valued options are read with the settings). */
const SWITCHES = {
  json: 'CERTMAN_JSON',
  quiet: 'CERTMAN_QUIET',
  verbose: 'CERTMAN_VERBOSE',
  nonInteractive: 'CERTMAN_NON_INTERACTIVE',
} as const;

/**
 * Flags win; a switch not given on the command line can be turned on by its CERTMAN_* variable
 * (`1`, `true`, `yes`), and `--config`/`--timeout` fall back to CERTMAN_CONFIG/CERTMAN_TIMEOUT.
 * CI pipelines set these once for every command.
 */
export function withEnvironment(globals: GlobalOptions, env: NodeJS.ProcessEnv): GlobalOptions {
  const on = (name: string) => /^(1|true|yes)$/i.test(env[name] ?? '');
  const config = globals.config ?? nonEmpty(env.CERTMAN_CONFIG);
  const timeout = globals.timeout ?? nonEmpty(env.CERTMAN_TIMEOUT);
  return {
    ...globals,
    json: globals.json === true || on(SWITCHES.json),
    quiet: globals.quiet === true || on(SWITCHES.quiet),
    verbose: globals.verbose === true || on(SWITCHES.verbose),
    nonInteractive: globals.nonInteractive === true || on(SWITCHES.nonInteractive),
    ...(config === undefined ? {} : { config }),
    ...(timeout === undefined ? {} : { timeout }),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
