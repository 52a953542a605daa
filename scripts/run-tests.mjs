#!/usr/bin/env node
// Runs certman's test suites with Node's built-in runner through tsx.
//
//   node scripts/run-tests.mjs unit|e2e|all [FILTER...] [-- NODE_TEST_FLAGS...]
//
// FILTER words keep only test files whose path contains one of them;
// anything starting with "--" is passed to `node --test` as-is
// (e.g. --test-name-pattern=renew, --test-only).
// Node 20's --test does not expand globs, so the test dirs are walked here.
// Before e2e tests, dist/ is rebuilt when src/ is newer (CERTMAN_TEST_NO_BUILD=1 skips that).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const SUITES = {
  unit: { dir: 'test/unit', concurrency: Math.max(1, availableParallelism()), timeoutMs: 30_000 },
  e2e: { dir: 'test/e2e', concurrency: 2, timeoutMs: 180_000 },
};

function usage(message) {
  if (message) console.error(`run-tests: ${message}`);
  console.error('usage: node scripts/run-tests.mjs unit|e2e|all [FILTER...] [--node-test-flag...]');
  process.exit(1);
}

/** All `*.test.ts` files under dir, sorted, as repo-relative paths with forward slashes. */
function findTests(dir) {
  const found = [];
  const walk = (abs) => {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      if (err.code === 'ENOENT') return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(abs, entry.name);
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(path).isDirectory());
      if (isDir) walk(path);
      else if (entry.name.endsWith('.test.ts')) found.push(relative(repoRoot, path).split(sep).join('/'));
    }
  };
  walk(join(repoRoot, dir));
  return found.sort();
}

function runNode(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
    const forward = (signal) => child.kill(signal);
    process.on('SIGTERM', forward);
    process.on('SIGINT', forward);
    child.on('error', (err) => {
      console.error(`run-tests: could not start node: ${err.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      process.removeListener('SIGTERM', forward);
      process.removeListener('SIGINT', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

/** Newest modification time (ms) of any file under dir, 0 when there is none. */
function newestMtime(dir) {
  let newest = 0;
  const walk = (abs) => {
    let entries;
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(abs, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(repoRoot, dir));
  return newest;
}

/**
 * e2e tests run bin/certman, which loads dist/: rebuild it first when src/ is
 * newer, so a test never exercises stale code. A failed build is reported but
 * does not stop the run (the harness tests do not need dist/).
 */
async function buildIfStale() {
  if (process.env.CERTMAN_TEST_NO_BUILD === '1') return;
  const distNewest = newestMtime('dist');
  if (distNewest > 0 && newestMtime('src') <= distNewest) return;
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  console.log('run-tests: dist/ is missing or older than src/: building (tsc -p tsconfig.json)');
  const code = await runNode([tsc, '-p', 'tsconfig.json']);
  if (code !== 0) console.error(`run-tests: warning: the build failed (exit ${code}); e2e tests may fail`);
}

const NO_MATCH = -1;

async function runSuite(name, filters, nodeFlags) {
  const suite = SUITES[name];
  let files = findTests(suite.dir);
  if (files.length === 0) {
    console.error(`run-tests: no test files found (${suite.dir}/**/*.test.ts)`);
    return 1;
  }
  if (filters.length > 0) {
    files = files.filter((f) => filters.some((word) => f.includes(word)));
    if (files.length === 0) return NO_MATCH;
  }
  const args = [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${suite.concurrency}`,
    `--test-timeout=${suite.timeoutMs}`,
    ...nodeFlags,
    ...files,
  ];
  if (name === 'e2e') await buildIfStale();
  console.log(`run-tests: ${name}: ${files.length} file(s), concurrency ${suite.concurrency}, timeout ${suite.timeoutMs} ms`);
  return runNode(args);
}

async function main() {
  const [which, ...rest] = process.argv.slice(2);
  if (which !== 'unit' && which !== 'e2e' && which !== 'all') usage(which ? `unknown suite "${which}"` : 'no suite given');
  const nodeFlags = rest.filter((a) => a.startsWith('--') && a !== '--');
  const filters = rest.filter((a) => !a.startsWith('--'));
  const suites = which === 'all' ? ['unit', 'e2e'] : [which];
  let failed = 0;
  let ran = 0;
  for (const name of suites) {
    const code = await runSuite(name, filters, nodeFlags);
    if (code === NO_MATCH) continue;
    ran++;
    if (code !== 0 && failed === 0) failed = code;
  }
  if (ran === 0) {
    console.error(`run-tests: no ${suites.join('/')} test file matches ${filters.join(', ')}`);
    process.exit(1);
  }
  process.exit(failed);
}

await main();
