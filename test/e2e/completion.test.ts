// Shell completions, tried in real shells: bash (COMP_WORDS/COMP_CWORD and the completion function),
// zsh (Tab on a pseudo-terminal, matches captured from compadd) and fish (complete -C). Also: --help,
// the completions and the man page list the same commands and options, the committed generated files
// are current, and `certman __complete` loads nothing heavy (its speed is measured in bench/startup.mjs).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bashComplete, certmanOnPath, ensureProgram, fishComplete, repoRoot, runCli, tempDir, zshComplete } from '../harness/index.js';

const FILES = { bash: 'completions/certman.bash', zsh: 'completions/_certman', fish: 'completions/certman.fish', man: 'man/certman.1' } as const;
const committed = (path: string) => join(repoRoot, path);

type Shell = 'bash' | 'zsh' | 'fish';
const shells: Record<Shell, { ready: boolean; skip: string | false }> = {
  bash: { ready: true, skip: false },
  zsh: { ready: false, skip: 'zsh is not installed (Debian package zsh; the test installs it when run as root)' },
  fish: { ready: false, skip: 'fish is not installed (Debian package fish; the test installs it when run as root)' },
};

let path = '';
let store = '';
let files = '';

/** Completes `line` (up to its end) in `shell`, with certman on PATH. */
async function complete(shell: Shell, line: string, env: Record<string, string> = {}): Promise<string[]> {
  const options = { env: { PATH: path, ...env } };
  if (shell === 'bash') return bashComplete(committed(FILES.bash), readlineWords(line), options);
  if (shell === 'zsh') return zshComplete(join(repoRoot, 'completions'), line, options);
  return fishComplete(committed(FILES.fish), line, options);
}

/** The words readline gives a completion function: split at blanks, "=" a word of its own. */
function readlineWords(line: string): string[] {
  return line.split(' ').flatMap((word) => word.split(/(=)/).filter((part, i, all) => part !== '' || i === all.length - 1));
}

/** What a candidate means regardless of the shell's spelling: no `--opt=` prefix, no trailing slash, no folder. */
function bare(candidate: string): string {
  return candidate.replace(/^--[\w-]+=/, '').replace(/\/$/, '').split('/').at(-1) ?? '';
}

before(async () => {
  path = await certmanOnPath();
  store = await tempDir('store');
  await mkdir(join(store, 'renewal'), { recursive: true });
  for (const name of ['example.com.json', 'www.example.org.json', '.certman-tmp-1.json', 'notes.txt', 'bad name.json']) {
    await writeFile(join(store, 'renewal', name), '{}');
  }
  files = await tempDir('files');
  await mkdir(join(files, 'www'));
  await mkdir(join(files, 'certs'));
  await writeFile(join(files, 'cert.pem'), '');
  await writeFile(join(files, 'notes.txt'), '');
  shells.zsh.ready = (await ensureProgram('zsh', 'zsh')) !== undefined;
  shells.fish.ready = (await ensureProgram('fish', 'fish')) !== undefined;
});

/** The cases every shell must get right: [line, expected candidates (bare), exact or only included]. */
const CASES: [string, string[], 'exact' | 'includes'][] = [
  ['certman iss', ['issue'], 'exact'],
  ['certman ver', ['verify-dns'], 'exact'],
  ['certman li', ['list'], 'exact'],
  ['certman issue --key-type ', ['ecdsa', 'rsa'], 'exact'],
  ['certman issue --key-type=', ['ecdsa', 'rsa'], 'exact'],
  ['certman issue --elliptic-curve p', ['p256', 'p384'], 'exact'],
  ['certman issue -d example.com --rsa-key-size ', ['2048', '3072', '4096'], 'exact'],
  ['certman revoke --reason s', ['superseded'], 'exact'],
  ['certman --server letsencrypt-s', ['letsencrypt-staging'], 'exact'],
  ['certman completion ', ['bash', 'fish', 'zsh'], 'exact'],
  ['certman help is', ['issue'], 'exact'],
  ['certman list --j', ['--json'], 'exact'],
  // zsh's default matcher also offers --non-interactive here.
  ['certman issue -d example.com --no-', ['--no-color', '--no-self-check'], 'includes'],
  ['certman renew --random', ['--random-sleep'], 'exact'],
];

for (const shell of ['bash', 'zsh', 'fish'] as const) {
  describe(`${shell} completion`, () => {
    const skip = () => (shells[shell].ready ? false : shells[shell].skip);

    it('completes commands, options and fixed choices', async (t) => {
      if (skip() !== false) return t.skip(String(skip()));
      for (const [line, expected, how] of CASES) {
        const got = (await complete(shell, line)).map(bare).sort();
        if (how === 'exact') assert.deepEqual(got, [...expected].sort(), `${shell}: ${JSON.stringify(line)}`);
        else for (const e of expected) assert.ok(got.includes(e), `${shell}: ${JSON.stringify(line)} offers ${e}; got ${got.join(' ')}`);
      }
    });

    it('completes certificate names from the store of --config-dir or CERTMAN_CONFIG_DIR', async (t) => {
      if (skip() !== false) return t.skip(String(skip()));
      const names = ['example.com', 'www.example.org'];
      assert.deepEqual((await complete(shell, `certman --config-dir ${store} renew --cert-name `)).sort(), names);
      assert.deepEqual((await complete(shell, `certman delete --config-dir=${store} --cert-name www`)).map(bare), ['www.example.org']);
      assert.deepEqual((await complete(shell, 'certman revoke --cert-name ', { CERTMAN_CONFIG_DIR: store })).sort(), names);
      // Global options with values after the command do not confuse the parsing.
      assert.deepEqual((await complete(shell, `certman delete --timeout 5 --config-dir ${store} --cert-name `)).sort(), names);
      // No store: nothing offered, and nothing printed.
      assert.deepEqual(await complete(shell, `certman --config-dir ${join(store, 'none')} renew --cert-name `), []);
    });

    it('completes files where a file is expected and folders where a folder is', async (t) => {
      if (skip() !== false) return t.skip(String(skip()));
      const file = (await complete(shell, `certman revoke --cert-path ${files}/c`)).map(bare);
      assert.ok(file.includes('cert.pem'), `--cert-path: ${file.join(' ')}`);
      const config = (await complete(shell, `certman --config ${files}/no`)).map(bare);
      assert.deepEqual(config, ['notes.txt']);
      for (const line of [`certman issue --webroot ${files}/`, `certman --config-dir ${files}/`, `certman renew --logs-dir ${files}/`]) {
        const dirs = (await complete(shell, line)).map(bare).sort();
        assert.deepEqual(dirs, ['certs', 'www'], line);
      }
    });
  });
}

describe('--help, completions and man page agree', () => {
  /** Commands (with aliases) and long options, as `certman --help` and `certman <command> --help` print them. */
  async function helpSurface() {
    const top = await runCli(['--help']);
    assert.equal(top.code, 0, top.stderr);
    const commands = section(top.stdout, 'Commands:').map((line) => /^ {2}([\w-]+(?:\|[\w-]+)*)/.exec(line)?.[1]?.split('|') ?? []);
    const global = longOptions(top.stdout);
    const options = new Map<string, string[]>();
    for (const [name] of commands) {
      if (name === undefined || name === 'help') continue;
      const r = await runCli([name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      const own = longOptions(r.stdout);
      // A command group (`store`): the completions offer the options of every subcommand after it.
      for (const sub of r.stdout.includes('\nCommands:\n') ? section(r.stdout, 'Commands:').map((line) => line.trim().split(' ')[0] ?? '') : []) {
        if (sub === 'help') continue;
        const subHelp = await runCli([name, sub, '--help']);
        assert.equal(subHelp.code, 0, subHelp.stderr);
        own.push(...longOptions(subHelp.stdout).filter((o) => !own.includes(o)));
      }
      options.set(name, own);
    }
    return { commands, global, options };
  }

  function section(help: string, title: string): string[] {
    const lines = help.split('\n');
    const start = lines.indexOf(title);
    assert.ok(start >= 0, `--help has a ${title} section`);
    const end = lines.findIndex((l, i) => i > start && l.trim() === '');
    return lines.slice(start + 1, end < 0 ? undefined : end).filter((l) => /^ {2}\S/.test(l));
  }

  function longOptions(help: string): string[] {
    // Every long spelling in the flags column: an option may have two (`--no-email, --register-unsafely-without-email`).
    return section(help, 'Options:').flatMap((line) => [...(/^ {2}(\S.*?)(?: {2,}|$)/.exec(line)?.[1] ?? '').matchAll(/(?<![\w-])--[\w-]+/g)].map((m) => m[0]));
  }

  it('every command and long option in --help is completed by bash, zsh and fish and documented in the man page', async () => {
    const { commands, global, options } = await helpSurface();
    assert.ok(commands.length >= 10 && global.includes('--config-dir'), 'help parsed');
    const allNames = commands.flat();
    const man = unroff(await readFile(committed(FILES.man), 'utf8'));
    const manSection = (name: string) => {
      const start = man.indexOf(`\n.SS ${name}\n`);
      assert.ok(start >= 0, `man page has a subsection for ${name}`);
      const end = man.slice(start + 1).search(/\n\.S[SH] /);
      return man.slice(start, end < 0 ? undefined : start + 1 + end);
    };
    const globalSection = man.slice(man.indexOf('\n.SH GLOBAL OPTIONS\n'), man.indexOf('\n.SH COMMANDS\n'));
    for (const option of global) assert.ok(globalSection.includes(`\\fB${option}\\fR`), `man GLOBAL OPTIONS lists ${option}`);
    for (const [name] of commands) if (name !== undefined) manSection(name);
    for (const [name, opts] of options) {
      const text = manSection(name);
      for (const option of opts) if (option !== '--help') assert.ok(text.includes(`\\fB${option}\\fR`), `man page lists ${name} ${option}`);
    }

    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      if (!shells[shell].ready) continue;
      const offeredCommands = await complete(shell, 'certman ');
      assert.deepEqual([...offeredCommands].sort(), [...allNames].sort(), `${shell}: commands`);
      const top = await complete(shell, 'certman --');
      for (const option of global) assert.ok(top.includes(option), `${shell}: certman ${option}`);
      for (const [name, opts] of options) {
        const offered = await complete(shell, `certman ${name} --`);
        const expected = [...opts, ...global.filter((o) => o !== '--version' && o !== '--help')];
        for (const option of expected) assert.ok(offered.includes(option), `${shell}: certman ${name} ${option} (offered: ${offered.join(' ')})`);
        // And nothing that --help does not know.
        for (const option of offered) assert.ok(expected.includes(option) || option === '--help' || option === '--version', `${shell}: certman ${name} offers unknown ${option}`);
      }
    }
  });

  it('`certman completion <shell>` prints the committed scripts', async () => {
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const r = await runCli(['completion', shell]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, await readFile(committed(FILES[shell]), 'utf8'), `certman completion ${shell} = ${FILES[shell]}`);
    }
    const json = await runCli(['--json', 'completion', 'fish']);
    assert.deepEqual(JSON.parse(json.stdout), { shell: 'fish', script: await readFile(committed(FILES.fish), 'utf8') });
    const bad = await runCli(['completion', 'tcsh']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bash, zsh, fish/);
  });

  it('the committed completions, man page and help texts are what the build generates (run npm run docs when this fails)', async () => {
    const out = await tempDir('gen');
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/gen-docs.mjs'), '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const path of [...Object.values(FILES), 'src/cli/help-texts.ts']) {
      assert.equal(await readFile(committed(path), 'utf8'), await readFile(join(out, path), 'utf8'), `${path} is stale: run npm run docs and commit it`);
    }
  });
});

describe('certman __complete', () => {
  it('asks the store (read-only) without loading commander, the config file or the ACME library', async () => {
    const dir = await tempDir('rec');
    const esm = join(dir, 'esm.txt');
    const cjs = join(dir, 'cjs.txt');
    await writeFile(esm, '');
    const esmHook = fileURLToPath(new URL('../fixtures/record-esm-loads.mjs', import.meta.url));
    const cjsHook = fileURLToPath(new URL('../fixtures/record-cjs-loads.cjs', import.meta.url));
    const r = await runCli(['__complete', 'cert-names', '--config-dir', store], {
      env: { NODE_OPTIONS: `--import ${esmHook} --require ${cjsHook}`, RECORD_FILE: cjs, ESM_RECORD_FILE: esm },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'example.com\nwww.example.org\n');
    const loaded = `${await readFile(esm, 'utf8')}\n${await readFile(cjs, 'utf8').catch(() => '')}`;
    // Completion goes through the store like every command (issue 9), so only its code loads: nothing heavy.
    assert.ok(loaded.includes('/dist/store/index.js'), `__complete did not ask the store:\n${loaded}`);
    for (const heavy of ['commander', 'cosmiconfig', 'acme-client', 'axios', 'chalk', 'node-forge', '/dist/config/index.js', '/dist/config/load.js', '/dist/cli/program.js', '/dist/cli/context.js']) {
      assert.ok(!loaded.includes(heavy), `__complete loaded ${heavy}:\n${loaded}`);
    }
  });
});

/** The man page with roff's hyphen escapes undone, so options read as typed. */
function unroff(text: string): string {
  return text.replace(/\\-/g, '-');
}
