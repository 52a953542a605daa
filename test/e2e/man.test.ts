// man/certman.1: renders without warnings in groff and mandoc, has the sections a man page needs,
// and documents every CERTMAN_* variable the code reads. (That it lists every command and option
// is checked with the completions, in completion.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ensureProgram, repoRoot } from '../harness/index.js';

const page = join(repoRoot, 'man/certman.1');
let groff: string | undefined;
let mandoc: string | undefined;

before(async () => {
  groff = await ensureProgram('groff', 'groff-base');
  mandoc = await ensureProgram('mandoc', 'mandoc');
});

/** The page as groff renders it for a terminal, in plain ASCII. */
function rendered(): string {
  assert.ok(groff !== undefined);
  const r = spawnSync(groff, ['-man', '-Tascii', '-P-cbou', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '80' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The text of one top-level section of the rendered page. */
function section(text: string, title: string): string {
  const start = text.indexOf(`\n${title}\n`);
  assert.ok(start >= 0, `the man page has a ${title} section`);
  const next = text.slice(start + title.length + 2).search(/\n[A-Z][A-Z ]+\n/);
  return text.slice(start, next < 0 ? undefined : start + title.length + 2 + next);
}

/** Every CERTMAN_* name in src/. */
function certmanVariables(): string[] {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/\bCERTMAN_[A-Z_]*[A-Z]\b/g)) names.add(m[0]);
    }
  };
  walk(join(repoRoot, 'src'));
  return [...names].sort();
}

describe('man page', () => {
  it('renders without warnings (groff -ww, mandoc -T lint)', (t) => {
    if (groff === undefined) return t.skip('groff is not installed (Debian package groff-base)');
    const g = spawnSync(groff, ['-ww', '-man', '-z', page], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    assert.equal(g.stderr, '', 'groff -ww warnings');
    if (mandoc === undefined) return t.skip('mandoc is not installed (Debian package mandoc)');
    const m = spawnSync(mandoc, ['-T', 'lint', page], { encoding: 'utf8' });
    assert.equal(`${m.stdout}${m.stderr}`, '', 'mandoc -T lint messages');
    assert.equal(m.status, 0);
  });

  it('has the usual sections, in order', (t) => {
    if (groff === undefined) return t.skip('groff is not installed (Debian package groff-base)');
    const text = rendered();
    const titles = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'GLOBAL OPTIONS', 'COMMANDS', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'EXAMPLES', 'SEE ALSO'];
    const positions = titles.map((title) => text.indexOf(`\n${title}\n`));
    for (const [i, title] of titles.entries()) assert.ok((positions[i] ?? -1) >= 0, `section ${title}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'sections in order');
    assert.match(section(text, 'NAME'), /certman - get and renew TLS certificates/);
  });

  it('documents every CERTMAN_* variable, NO_COLOR and NODE_EXTRA_CA_CERTS', (t) => {
    if (groff === undefined) return t.skip('groff is not installed (Debian package groff-base)');
    const environment = section(rendered(), 'ENVIRONMENT');
    const wanted = [...certmanVariables(), 'NO_COLOR', 'NODE_EXTRA_CA_CERTS', 'RENEWED_LINEAGE', 'RENEWED_DOMAINS', 'FAILED_DOMAINS'];
    assert.ok(wanted.includes('CERTMAN_CONFIG_DIR') && wanted.includes('CERTMAN_VALIDATION_PORT'), 'found the variables in src/');
    for (const name of wanted) assert.match(environment, new RegExp(`^ {7}${name}\\b`, 'm'), `ENVIRONMENT documents ${name}`);
  });

  it('lists the exit statuses, the store layout and the examples', (t) => {
    if (groff === undefined) return t.skip('groff is not installed (Debian package groff-base)');
    const text = rendered();
    const exit = section(text, 'EXIT STATUS');
    for (const code of ['0', '1', '2', '75', '130']) assert.match(exit, new RegExp(`^ {7}${code} `, 'm'), `exit status ${code}`);
    const files = section(text, 'FILES');
    for (const path of ['live/<name>/', 'archive/<name>/', 'renewal/<name>.json', 'accounts/<server>/', '/etc/certman']) assert.ok(files.includes(path), `FILES: ${path}`);
    const examples = section(text, 'EXAMPLES');
    for (const example of ['--webroot /var/www/html', '--standalone', 'serve-challenge', '--responder', 'schedule --cron --install', 'schedule --systemd --install', '-n --json']) {
      assert.ok(examples.includes(example), `EXAMPLES: ${example}`);
    }
    assert.match(section(text, 'SEE ALSO'), /certbot\(1\)/);
  });

  it('is installed by npm (package.json "man" and "files")', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { man?: string[]; files?: string[] };
    assert.deepEqual(pkg.man, ['man/certman.1']);
    assert.ok(pkg.files?.includes('man/') && pkg.files.includes('completions/'));
  });
});
