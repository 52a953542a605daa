#!/usr/bin/env node
// npm's `prepare` hook: build dist/ from src/. `npm install -g .` on a fresh checkout runs this
// without dev dependencies; then say what to do instead of failing with "tsc: not found".
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  if (existsSync(new URL('../dist/cli/main.js', import.meta.url))) process.exit(0);
  console.error('certman: cannot build: TypeScript is not installed here.\nRun `npm install` in the certman folder first, then `npm install -g .` (or `npm link`).');
  process.exit(1);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
process.exit(result.status ?? 1);
