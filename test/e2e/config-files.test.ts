// Config is data: read from the config dir or --config, never run, never looked for in the current folder.
// As root, config that another user can change is refused, as sshd's StrictModes does.
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { runCli, snapshotTree, tempDir } from '../harness/index.js';
import { newCert, pems } from '../harness/store-fixtures.js';
import { assertOneLineError } from './fixture.js';

/** The uid of `nobody` on Debian: a user other than root. */
const NOBODY = 65534;

/** JavaScript that leaves `marker` behind if anything ever runs it. */
function leavesMarker(marker: string, esm: boolean): string {
  return esm
    ? `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default {};\n`
    : `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\nmodule.exports = {};\n`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

describe('config is never run, and never read from the current folder', () => {
  // Each attack on its own: what a local user could leave in /tmp before root runs `cd /tmp && certman ...`.
  const attacks: [string, (cwd: string, marker: string) => Promise<void>][] = [
    ['certman.config.mjs', (cwd, marker) => writeFile(join(cwd, 'certman.config.mjs'), leavesMarker(marker, true))],
    ['.certmanrc.cjs', (cwd, marker) => writeFile(join(cwd, '.certmanrc.cjs'), leavesMarker(marker, false))],
    [
      'a cosmiconfig meta config, .config/config.mjs',
      async (cwd, marker) => {
        await mkdir(join(cwd, '.config'));
        await writeFile(join(cwd, '.config', 'config.mjs'), leavesMarker(marker, true));
      },
    ],
    [
      'package.json whose "cosmiconfig" key adds a search place',
      async (cwd, marker) => {
        await writeFile(join(cwd, 'package.json'), JSON.stringify({ name: 'x', cosmiconfig: { searchPlaces: ['evil.cjs'] } }));
        await writeFile(join(cwd, 'evil.cjs'), leavesMarker(marker, false));
      },
    ],
    ['package.json with a "certman" key', (cwd) => writeFile(join(cwd, 'package.json'), JSON.stringify({ name: 'x', certman: { bogus: 1 } }))],
    ['certman.config.json with an unknown key', (cwd) => writeFile(join(cwd, 'certman.config.json'), JSON.stringify({ bogus: 1 }))],
  ];
  for (const [label, plant] of attacks) {
    it(`${label} in the current folder has no effect`, async () => {
      const cwd = await tempDir('cwd');
      const dir = await tempDir('cfg');
      const marker = join(cwd, 'RAN');
      await plant(cwd, marker);
      for (const args of [['certificates'], ['--json', 'certificates']]) {
        const r = await runCli(args, { cwd, env: { CERTMAN_CONFIG_DIR: dir } });
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stderr, '');
      }
      assert.equal(await exists(marker), false, `${label} was run`);
    });
  }

  it('a code file in the config dir, or given with --config or CERTMAN_CONFIG, is exit 2 and is not run', async () => {
    const dir = await tempDir('cfg');
    const elsewhere = await tempDir('files');
    const marker = join(elsewhere, 'RAN');
    await writeFile(join(dir, 'certman.config.json'), '{"renewDays": 20}');
    await writeFile(join(dir, 'certman.config.mjs'), leavesMarker(marker, true));
    const inDir = await runCli(['certificates'], { env: { CERTMAN_CONFIG_DIR: dir } });
    assertOneLineError(inDir, 2, /config file .*certman\.config\.mjs is code, and certman does not run config files/, 'in the config dir');

    const clean = await tempDir('cfg');
    for (const [name, esm] of [['c.mjs', true], ['c.cjs', false], ['c.js', false], ['c.ts', true]] as const) {
      const file = join(elsewhere, name);
      await writeFile(file, leavesMarker(marker, esm));
      const flag = await runCli(['--config', file, 'certificates'], { env: { CERTMAN_CONFIG_DIR: clean } });
      assertOneLineError(flag, 2, new RegExp(`config file ${file.replace(/\./g, '\\.')} is code`), `--config ${name}`);
      const env = await runCli(['certificates'], { env: { CERTMAN_CONFIG_DIR: clean, CERTMAN_CONFIG: file } });
      assertOneLineError(env, 2, /is code/, `CERTMAN_CONFIG=${name}`);
    }
    assert.equal(await exists(marker), false, 'a code config was run');
  });
});

describe('as root, config that other users can change is refused (exit 2)', () => {
  before(() => {
    // The refusal is root's; the e2e suites run as root (as CI does). Never skipped: a skip would hide it.
    assert.equal(process.getuid?.(), 0, 'this suite must run as root');
  });

  interface Case {
    label: string;
    /** Spoils a fresh config dir holding certman.config.yaml; returns where it points certman. */
    spoil(dir: string, file: string): Promise<{ env?: Record<string, string>; args?: string[] }>;
    message: RegExp;
  }
  const cases: Case[] = [
    { label: 'config dir writable by its group', spoil: async (dir) => (await chmod(dir, 0o770), {}), message: /^error: config dir \S+ is writable by its group \(mode 0770\)/ },
    { label: 'config dir writable by others', spoil: async (dir) => (await chmod(dir, 0o757), {}), message: /^error: config dir \S+ is writable by others \(mode 0757\)/ },
    { label: 'config dir owned by another user', spoil: async (dir) => (await chown(dir, NOBODY, 0), {}), message: /^error: config dir \S+ is owned by uid 65534, not root/ },
    { label: 'config file writable by its group', spoil: async (_, file) => (await chmod(file, 0o664), {}), message: /^error: config file \S+certman\.config\.yaml is writable by its group/ },
    { label: 'config file writable by others', spoil: async (_, file) => (await chmod(file, 0o646), {}), message: /^error: config file \S+certman\.config\.yaml is writable by others/ },
    { label: 'config file owned by another user', spoil: async (_, file) => (await chown(file, NOBODY, 0), {}), message: /^error: config file \S+ is owned by uid 65534/ },
    {
      label: 'renewal/ (it holds the hooks) writable by others',
      spoil: async (dir) => {
        await mkdir(join(dir, 'renewal'));
        await chmod(join(dir, 'renewal'), 0o777);
        return {};
      },
      message: /^error: renewal\/ folder \S+renewal is writable by its group and others/,
    },
    {
      label: '.pending/ (its journals carry metadata and hooks back to renewal/) writable by others',
      spoil: async (dir) => {
        await mkdir(join(dir, '.pending'));
        await chmod(join(dir, '.pending'), 0o707);
        return {};
      },
      message: /^error: \.pending\/ folder \S+\.pending is writable by others \(mode 0707\)/,
    },
    {
      label: 'a folder above the config dir writable by others (no sticky bit)',
      spoil: async () => {
        const above = await tempDir('above');
        await chmod(above, 0o777);
        const inner = join(above, 'certman');
        await mkdir(inner, { mode: 0o700 });
        return { env: { CERTMAN_CONFIG_DIR: inner } };
      },
      message: /^error: config dir \S+\/certman: \S+ is writable by its group and others \(mode 0777\)/,
    },
    {
      label: 'a config dir that is a symlink to a folder others can write',
      spoil: async () => {
        const target = await tempDir('target');
        await chmod(target, 0o777);
        const link = join(await tempDir('link'), 'certman');
        await symlink(target, link);
        return { env: { CERTMAN_CONFIG_DIR: link } };
      },
      message: /^error: config dir \S+\/certman(: \S+)? is writable by its group and others/,
    },
    {
      label: '--config in a folder others can write',
      spoil: async () => {
        const open = await tempDir('open');
        await chmod(open, 0o777);
        const copy = join(open, 'c.yaml');
        await writeFile(copy, 'renewDays: 20\n', { mode: 0o600 });
        return { args: ['--config', copy] };
      },
      message: /^error: config file \S+c\.yaml: \S+ is writable by its group and others/,
    },
    {
      label: 'CERTMAN_CONFIG owned by another user',
      spoil: async () => {
        const file = join(await tempDir('files'), 'c.json');
        await writeFile(file, '{}');
        await chown(file, NOBODY, 0);
        return { env: { CERTMAN_CONFIG: file } };
      },
      message: /^error: config file \S+c\.json is owned by uid 65534/,
    },
  ];
  for (const { label, spoil, message } of cases) {
    it(label, async () => {
      const dir = await tempDir('cfg');
      const file = join(dir, 'certman.config.yaml');
      await writeFile(file, 'renewDays: 20\n', { mode: 0o644 });
      const { env = {}, args = [] } = await spoil(dir, file);
      const watched = env.CERTMAN_CONFIG_DIR ?? dir;
      const before = await snapshotTree(watched);
      for (const command of [['certificates'], ['renew', '--no-random-sleep']]) {
        const r = await runCli([...args, ...command], { env: { CERTMAN_CONFIG_DIR: dir, ...env } });
        assertOneLineError(r, 2, message, `${label}: ${command.join(' ')}`);
        assert.match(r.stderr, /certman refuses config that other users can change/);
      }
      assert.deepEqual(await snapshotTree(watched), before, 'nothing in the config dir changed');
    });
  }

  it('accepts a config dir under a sticky folder others can write (like /tmp), and reads its config file', async () => {
    const sticky = await tempDir('sticky');
    await chmod(sticky, 0o1777);
    const dir = join(sticky, 'certman');
    await mkdir(dir, { mode: 0o755 });
    await writeFile(join(dir, '.certmanrc.yml'), 'renewDays: twenty\n', { mode: 0o600 });
    const bad = await runCli(['certificates'], { env: { CERTMAN_CONFIG_DIR: dir } });
    assertOneLineError(bad, 2, /\.certmanrc\.yml: "renewDays" must be a positive number/, 'the file is read');
    await writeFile(join(dir, '.certmanrc.yml'), 'renewDays: 20\n');
    const good = await runCli(['certificates'], { env: { CERTMAN_CONFIG_DIR: dir } });
    assert.equal(good.code, 0, good.stderr);
  });
});

describe('as root, a certificate whose renewal file other users can change is not used', () => {
  /** renewal/<name>.json as certman writes it, for a certificate that is due or not. */
  function renewalJson(name: string, due: boolean, hooks?: Record<string, string>): string {
    const day = 86_400_000;
    const notBefore = new Date(Date.now() - (due ? 89 : 1) * day).toISOString();
    const notAfter = new Date(Date.now() + (due ? 1 : 89) * day).toISOString();
    const server = { server: 'https://127.0.0.1:9/dir', accountUrl: 'https://127.0.0.1:9/acct/1' };
    return JSON.stringify({ format: 1, ...newCert(name, { ...server, notBefore, notAfter, ...(hooks === undefined ? {} : { hooks }) }), version: 1 });
  }

  const spoils: [string, (file: string) => Promise<void>, RegExp][] = [
    ['writable by others', (file) => chmod(file, 0o646), /is writable by others \(mode 0646\): certman running as root does not use it \(fix: chmod go-w \S+\/renewal\/bad\.example\.json\)/],
    ['owned by another user', (file) => chown(file, NOBODY, 0), /is owned by uid 65534, not root: certman running as root does not use it \(fix: chown root \S+\/renewal\/bad\.example\.json\)/],
  ];
  for (const [label, spoil, reason] of spoils) {
    it(`${label}: renew reports it failed and runs none of its hooks; certificates lists it as damaged and says why`, async () => {
      const dir = await tempDir('cfg');
      const marker = join(await tempDir('marker'), 'RAN');
      await mkdir(join(dir, 'renewal'));
      await writeFile(join(dir, 'renewal', 'good.example.json'), renewalJson('good.example', false));
      // Its live certificate: a lineage without one is listed as damaged.
      await mkdir(join(dir, 'live', 'good.example'), { recursive: true });
      await writeFile(join(dir, 'live', 'good.example', 'cert.pem'), pems('good').cert);
      const bad = join(dir, 'renewal', 'bad.example.json');
      const touch = `touch ${marker}`;
      await writeFile(bad, renewalJson('bad.example', true, { pre: touch, deploy: touch, post: touch }), { mode: 0o644 });
      await spoil(bad);

      const renew = await runCli(['renew', '--no-random-sleep'], { env: { CERTMAN_CONFIG_DIR: dir } });
      assert.equal(renew.code, 1, renew.stdout + renew.stderr);
      assert.match(renew.stdout, /not due\s+good\.example/);
      assert.match(renew.stdout, new RegExp(`failed\\s+bad\\.example: ${bad.replace(/\./g, '\\.')} ${reason.source}`));
      assert.equal(await exists(marker), false, 'a hook of the untrusted file ran');

      const list = await runCli(['certificates'], { env: { CERTMAN_CONFIG_DIR: dir } });
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /good\.example/);
      assert.match(list.stdout, /^bad\.example .* damaged$/m);
      assert.match(list.stdout, new RegExp(`^damaged bad\\.example: ${bad.replace(/\./g, '\\.')} ${reason.source}`, 'm'));
    });
  }
});
