// Runs a private Pebble (plus challtestsrv) for manual testing and the demo.
//
//   node scripts/local-pebble.mjs [--write-env FILE] [--validity SECONDS] [--http-port N]
//                                 [--nonce-reject PERCENT] [--authz-reuse PERCENT]
//
// Once ready it prints `export NAME=value` lines (CERTMAN_SERVER, CERTMAN_CA_FILE,
// PEBBLE_HTTP_PORT, ...) on stdout and, with --write-env, writes the same lines
// to FILE (atomically, so a waiting script never reads half of it). It runs
// until SIGINT/SIGTERM, then stops Pebble and removes its files (and FILE).
//
// --env-file FILE is accepted as an alias of --write-env, but Node 20 itself
// reads any `--env-file` on its command line, even after the script name, and
// exits (code 9) when FILE does not exist yet: prefer --write-env.
import { rename, rm, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

import { startPebble } from '../test/harness/pebble.js';

function intOption(values: Record<string, unknown>, name: string, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`local-pebble: --${name} needs a non-negative integer, got ${String(raw)}`);
    process.exit(2);
  }
  return n;
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'write-env': { type: 'string' },
      'env-file': { type: 'string' },
      validity: { type: 'string' },
      'http-port': { type: 'string' },
      'nonce-reject': { type: 'string' },
      'authz-reuse': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(
      'usage: node scripts/local-pebble.mjs [--write-env FILE] [--validity SECONDS (default 3600)] ' +
        '[--http-port N] [--nonce-reject PERCENT (default 0)] [--authz-reuse PERCENT (default 0)]',
    );
    return;
  }
  const envFile = values['write-env'] ?? values['env-file'];
  const validitySeconds = intOption(values, 'validity', 3600);
  const httpPort = intOption(values, 'http-port');
  const pebble = await startPebble({
    ...(validitySeconds !== undefined ? { validitySeconds } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
    nonceRejectPercent: intOption(values, 'nonce-reject', 0),
    authzReusePercent: intOption(values, 'authz-reuse', 0),
  });

  const exports: Record<string, string> = {
    CERTMAN_SERVER: pebble.directoryUrl,
    CERTMAN_CA_FILE: pebble.caFile,
    // certman's self-check reaches names the way Pebble does: its DNS server, its validation port.
    CERTMAN_RESOLVER: `127.0.0.1:${pebble.dnsPort}`,
    CERTMAN_VALIDATION_PORT: String(pebble.httpPort),
    PEBBLE_HTTP_PORT: String(pebble.httpPort),
    PEBBLE_TLS_PORT: String(pebble.tlsPort),
    PEBBLE_DNS_PORT: String(pebble.dnsPort),
    PEBBLE_MANAGEMENT_URL: pebble.managementUrl,
    PEBBLE_CHALLTESTSRV_URL: pebble.challtestsrvUrl,
    PEBBLE_DIR: pebble.dir,
  };
  const text = Object.entries(exports)
    .map(([k, v]) => `export ${k}=${shellQuote(v)}\n`)
    .join('');

  let stopping = false;
  const shutdown = async (signal: string, code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.error(`local-pebble: ${signal}: stopping`);
    await pebble.stop();
    if (envFile !== undefined) await rm(envFile, { force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));

  if (envFile !== undefined) {
    const tmp = `${envFile}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, envFile);
  }
  process.stdout.write(text);
  console.error(`local-pebble: ready (pid ${process.pid}); logs in ${pebble.dir}; Ctrl-C or SIGTERM to stop`);
  // Keep running until a signal arrives.
  setInterval(() => {
    if (!stopping && pebble.pids.pebble > 0) {
      try {
        process.kill(pebble.pids.pebble, 0);
      } catch {
        console.error('local-pebble: pebble died unexpectedly; log tail:\n' + pebble.log().split('\n').slice(-20).join('\n'));
        void shutdown('pebble exit', 1);
      }
    }
  }, 1000);
}

main().catch((err: unknown) => {
  console.error(`local-pebble: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
