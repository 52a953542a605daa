// The command surface read from buildProgram()'s commander tree, and what the generators make of it.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { Option } from 'commander';
import { completeValues } from '../../src/cli/complete.js';
import { completionScript } from '../../src/cli/completion/index.js';
import { generatedDocs } from '../../src/cli/docs.js';
import { manPage } from '../../src/cli/man.js';
import { buildProgram, type Runner } from '../../src/cli/program.js';
import { describeSurface, optionNames, type CommandSurface } from '../../src/cli/surface.js';

const noRun: Runner = () => () => Promise.resolve();
const program = () => buildProgram('9.9.9', noRun);

function command(name: string, surface = describeSurface(program())): CommandSurface {
  const found = surface.commands.find((c) => c.name === name);
  assert.ok(found, `command ${name}`);
  return found;
}

function option(cmd: CommandSurface, long: string) {
  const found = cmd.options.find((o) => o.long === long);
  assert.ok(found, `${cmd.name} ${long}`);
  return found;
}

describe('describeSurface', () => {
  it('lists every visible command with its aliases, help included, in --help order', () => {
    const surface = describeSurface(program());
    const names = surface.commands.map((c) => c.name);
    for (const name of ['register', 'account', 'issue', 'certificates', 'renew', 'schedule', 'serve-challenge', 'revoke', 'delete', 'verify-dns', 'completion', 'help']) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(names.at(-1), 'help');
    assert.deepEqual(command('certificates', surface).aliases, ['list']);
    assert.deepEqual(optionNames(surface.options).slice(0, 3), ['-V', '--version', '--config-dir']);
    assert.ok(optionNames(surface.options).includes('--help'));
  });

  it('knows which values are paths, folders, certificate names and fixed choices', () => {
    const surface = describeSurface(program());
    const global = (long: string) => surface.options.find((o) => o.long === long)?.value;
    assert.equal(global('--config-dir')?.kind, 'directory');
    assert.equal(global('--config')?.kind, 'file');
    assert.equal(global('--ca-file')?.kind, 'file');
    assert.deepEqual(global('--server')?.suggestions, ['letsencrypt', 'letsencrypt-staging', 'zerossl']);
    assert.equal(global('--json'), undefined);
    const issue = command('issue', surface);
    assert.equal(option(issue, '--webroot').value?.kind, 'directory');
    assert.deepEqual(option(issue, '--key-type').value?.choices, ['ecdsa', 'rsa']);
    assert.equal(option(issue, '--domain').short, '-d');
    assert.equal(option(issue, '--domain').repeatable, true);
    assert.equal(option(issue, '--force').repeatable, false);
    // `<ip[:port]>` is a required value, whatever its brackets say.
    assert.equal(option(issue, '--resolver').value?.optional, false);
    for (const name of ['issue', 'renew', 'revoke', 'delete']) assert.equal(option(command(name, surface), '--cert-name').value?.kind, 'cert-name', name);
    assert.equal(option(command('revoke', surface), '--cert-path').value?.kind, 'file');
    assert.deepEqual(option(command('revoke', surface), '--reason').value?.choices?.includes('keyCompromise'), true);
    assert.equal(option(command('renew', surface), '--random-sleep').defaultText, '480');
    assert.equal(option(command('serve-challenge', surface), '--user').value?.kind, 'user');
    assert.equal(option(command('schedule', surface), '--user').value, undefined);
    assert.deepEqual(command('completion', surface).arguments.map((a) => a.value.choices), [['bash', 'zsh', 'fish']]);
    assert.equal(command('help', surface).arguments[0]?.value.kind, 'command');
  });

  it('a command added later shows up in all three completions and the man page, kinds included', () => {
    const p = program();
    p.command('frobnicate')
      .description('frobnicate the store')
      .option('--frob-dir <dir>', 'where frobs live')
      .option('--level <n>', 'how much')
      .addOption(new Option('--mode <mode>', 'how').choices(['fast', 'slow']))
      .option('--cert-name <name>', 'only this one');
    const surface = describeSurface(p);
    const bash = completionScript('bash', surface);
    assert.match(bash, /frobnicate\) _certman_words='--frob-dir --level --mode --cert-name/);
    assert.match(bash, /--frob-dir\) _certman_kind=directory ;;/);
    assert.match(bash, /--mode\) _certman_kind='words fast slow' ;;/);
    const zsh = completionScript('zsh', surface);
    assert.match(zsh, /'frobnicate:frobnicate the store'/);
    assert.match(zsh, /--frob-dir='\[where frobs live\]:dir:_files -\/'/);
    assert.match(zsh, /--cert-name='\[only this one\]:name:_certman_cert_names'/);
    const fish = completionScript('fish', surface);
    assert.match(fish, /-a frobnicate -d 'frobnicate the store'/);
    assert.match(fish, /-n '__certman_using_command frobnicate' -l mode -x -a 'fast slow'/);
    const man = manPage(surface, '9.9.9');
    assert.match(man, /^\.SS frobnicate$/m);
    assert.match(man, /^\\fB\\-\\-frob\\-dir\\fR \\fIdir\\fR$/m);
    assert.match(man, /One of: fast, slow\./);
  });
});

describe('man page text', () => {
  it('escapes roff: hyphens, backslashes, non-ASCII, and control characters at a line start', () => {
    const p = program();
    p.command('odd').description('.starts with a dot \\ and … an ellipsis, `code` too');
    const man = manPage(describeSurface(p), '1.0.0');
    const line = man.split('\n').find((l) => l.includes('ellipsis'));
    assert.equal(line, '\\&.starts with a dot \\e and \\[u2026] an ellipsis, \\fBcode\\fR too.');
    assert.match(man, /^\.TH CERTMAN 1 \S+ "certman 1\.0\.0" "User Commands"$/m);
    for (const l of man.split('\n')) if (!l.startsWith('.\\"')) assert.ok(Buffer.byteLength(l) <= 80, `line longer than 80 bytes: ${l}`);
  });

  it('generatedDocs makes the three scripts, the page and the help texts, none depending on anything but the tree', () => {
    const docs = generatedDocs('1.2.3');
    assert.deepEqual(
      docs.map((d) => d.path),
      ['completions/certman.bash', 'completions/_certman', 'completions/certman.fish', 'man/certman.1', 'src/cli/help-texts.ts'],
    );
    assert.ok(docs[1]?.content.startsWith('#compdef certman\n'));
    // The scripts and help texts carry no version, so a release does not make them stale.
    for (const d of docs.filter((doc) => doc.path !== 'man/certman.1')) assert.ok(!d.content.includes('1.2.3'), d.path);
  });
});

describe('__complete cert-names', () => {
  const base = { env: {} as Record<string, string | undefined>, isRoot: false, cwd: '/' };
  const made: string[] = [];
  after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

  async function store(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'certman-complete-'));
    made.push(dir);
    await mkdir(join(dir, 'renewal'));
    for (const f of ['b.example.com.json', 'a.example.com.json', 'c.example.net.json', '.certman-tmp-1.json', 'x.txt', 'bad name.json', '..json']) {
      await writeFile(join(dir, 'renewal', f), '{}');
    }
    return dir;
  }

  it('lists valid names from --config-dir, --config-dir= or CERTMAN_CONFIG_DIR, sorted', async () => {
    const dir = await store();
    const names = ['a.example.com', 'b.example.com', 'c.example.net'];
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', '--config-dir', dir] }), names);
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', `--config-dir=${dir}`] }), names);
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names'], env: { CERTMAN_CONFIG_DIR: dir } }), names);
    // The flag wins over the environment; a relative path is relative to cwd; ~/ is the home folder.
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', '--config-dir', dir], env: { CERTMAN_CONFIG_DIR: '/nowhere' } }), names);
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', '--config-dir', '.'], cwd: dir }), names);
    const home = join(dir, '..');
    const rel = dir.slice(home.length + 1);
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', '--config-dir', `~/${rel}`], env: { HOME: home } }), names);
  });

  it('asks --store, --store= or CERTMAN_STORE (a folder or file: URL) before the config dir; a Redis URL gives nothing', async () => {
    const dir = await store();
    const names = ['a.example.com', 'b.example.com', 'c.example.net'];
    const elsewhere = { ...base, env: { CERTMAN_CONFIG_DIR: '/nowhere' } };
    assert.deepEqual(await completeValues({ ...elsewhere, args: ['cert-names', '--store', dir] }), names);
    assert.deepEqual(await completeValues({ ...elsewhere, args: ['cert-names', `--store=${pathToFileURL(dir).href}`] }), names);
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', '--config-dir', '/nowhere'], env: { CERTMAN_STORE: dir } }), names);
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', '--store', 'redis://127.0.0.1:1'] }), []);
  });

  it('uses the default config dir, and prints nothing for a missing store or an unknown request', async () => {
    const xdg = await mkdtemp(join(tmpdir(), 'certman-xdg-'));
    made.push(xdg);
    await mkdir(join(xdg, 'certman', 'renewal'), { recursive: true });
    await writeFile(join(xdg, 'certman', 'renewal', 'default.example.json'), '{}');
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names'], env: { XDG_CONFIG_HOME: xdg } }), ['default.example']);
    const dir = await store();
    assert.deepEqual(await completeValues({ ...base, args: ['cert-names', '--config-dir', join(dir, 'missing')] }), []);
    assert.deepEqual(await completeValues({ ...base, args: ['something-else', '--config-dir', dir] }), []);
    assert.deepEqual(await completeValues({ ...base, args: [] }), []);
  });
});
