#!/usr/bin/env node
// Writes the files generated from certman's command definitions: completions/certman.bash,
// completions/_certman, completions/certman.fish and man/certman.1. They are committed, so a
// checkout and the npm package have them without a build.
//
//   node scripts/gen-docs.mjs [--out DIR]     (npm run docs; npm run build runs it after tsc)
//
// Reads dist/ (the built src/cli/docs.ts), so run it after `tsc`. --out writes under DIR instead
// of the repository (the tests regenerate into a temporary folder and compare).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
let out = repoRoot;
for (let i = 0; i < args.length; i += 1) {
  if (args[i] === '--out' && args[i + 1] !== undefined) out = resolve(args[(i += 1)]);
  else {
    console.error(`gen-docs: unknown argument ${args[i]}\nusage: node scripts/gen-docs.mjs [--out DIR]`);
    process.exit(2);
  }
}

const docsModule = join(repoRoot, 'dist', 'cli', 'docs.js');
if (!existsSync(docsModule)) {
  console.error('gen-docs: dist/ is not built; run npm run build (or npx tsc -p tsconfig.json) first');
  process.exit(1);
}
const { generatedDocs, generatedHelpTexts, helpTextsModule } = await import(docsModule);
const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

for (const { path, content } of generatedDocs(version)) {
  const target = join(out, path);
  const before = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
  if (before === content) continue;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content);
  console.log(`gen-docs: ${before === undefined ? 'wrote' : 'updated'} ${path}`);
}

// dist/ was compiled before this ran: give it the same help texts now, so a build is never one step behind.
if (out === repoRoot) {
  writeFileSync(join(repoRoot, 'dist', 'cli', 'help-texts.js'), helpTextsModule(generatedHelpTexts(version), 'js'));
}
