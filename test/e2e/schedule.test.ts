// `certman schedule`: the real CLI prints and installs (under --dest) the twice-daily renewal.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { certmanBin, cleanupTempDirs, runCli, tempDir, which, type RunResult } from '../harness/index.js';
import { json } from './fixture.js';

after(cleanupTempDirs);

interface ScheduleJson {
  kind: 'cron' | 'systemd';
  scope: 'system' | 'user';
  files: { path: string; content: string }[];
  installed: boolean;
  changed: boolean;
}

function ok(r: RunResult): RunResult {
  assert.equal(r.code, 0, `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  return r;
}

const COMMAND = `${process.execPath} ${realpathSync(certmanBin)} renew -q`;

function verifyUnits(files: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', ...files], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

describe('certman schedule --systemd', () => {
  it('--install --dest writes the units once; a second run says already installed', async (t) => {
    const dest = await tempDir('schedule-systemd');
    const first = ok(await runCli(['schedule', '--systemd', '--install', '--dest', dest]));
    assert.match(first.stdout, /^installed /m);
    const service = join(dest, 'certman-renew.service');
    const timer = join(dest, 'certman-renew.timer');
    const [serviceText, timerText] = await Promise.all([readFile(service, 'utf8'), readFile(timer, 'utf8')]);
    const before = await Promise.all([stat(service), stat(timer)]);
    assert.match(serviceText, /^Type=oneshot$/m);
    assert.ok(serviceText.includes(`\nExecStart=${COMMAND} --no-random-sleep\n`), serviceText);
    assert.equal(timerText.split('\n').filter((l) => l.startsWith('OnCalendar=')).length, 2);
    assert.match(timerText, /^RandomizedDelaySec=1h$/m);
    assert.match(timerText, /^Persistent=true$/m);
    assert.match(timerText, /^WantedBy=timers\.target$/m);

    const second = ok(await runCli(['schedule', '--systemd', '--install', '--dest', dest]));
    assert.match(second.stdout, /already installed/);
    assert.equal(await readFile(service, 'utf8'), serviceText);
    assert.equal(await readFile(timer, 'utf8'), timerText);
    const afterStats = await Promise.all([stat(service), stat(timer)]);
    assert.deepEqual(
      afterStats.map((s) => [s.ino, s.mtimeMs]),
      before.map((s) => [s.ino, s.mtimeMs]),
      'identical content is not rewritten',
    );

    const again = json<ScheduleJson>(ok(await runCli(['--json', 'schedule', '--systemd', '--install', '--dest', dest])));
    assert.deepEqual([again.installed, again.changed, again.kind, again.scope], [true, false, 'systemd', 'system']);
    assert.deepEqual(again.files, [
      { path: service, content: serviceText },
      { path: timer, content: timerText },
    ]);

    if (which('systemd-analyze') === undefined) {
      t.diagnostic('systemd-analyze not found: unit verification skipped');
    } else {
      const verified = await verifyUnits([service, timer]);
      assert.equal(verified.code, 0, `systemd-analyze verify failed:\n${verified.output}`);
    }
  });

  it('prints the same units without --install, and repeats an explicit --config-dir', async () => {
    const dest = await tempDir('schedule-print');
    ok(await runCli(['schedule', '--systemd', '--install', '--dest', dest]));
    const printed = json<ScheduleJson>(ok(await runCli(['--json', 'schedule', '--systemd'])));
    assert.equal(printed.installed, false);
    assert.deepEqual(
      printed.files.map((f) => f.path),
      ['/etc/systemd/system/certman-renew.service', '/etc/systemd/system/certman-renew.timer'],
    );
    assert.equal(printed.files[1]?.content, await readFile(join(dest, 'certman-renew.timer'), 'utf8'));

    const human = ok(await runCli(['schedule', '--systemd']));
    assert.match(human.stdout, /^# \/etc\/systemd\/system\/certman-renew\.service$/m);
    assert.match(human.stdout, /^# \/etc\/systemd\/system\/certman-renew\.timer$/m);

    const cfg = await tempDir('schedule-cfg');
    const withDir = json<ScheduleJson>(ok(await runCli(['--config-dir', cfg, '--json', 'schedule', '--systemd', '--user'])));
    assert.equal(withDir.scope, 'user');
    assert.match(withDir.files[0]?.content ?? '', new RegExp(`^ExecStart=.* renew -q --config-dir ${cfg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --no-random-sleep$`, 'm'));
    assert.doesNotMatch(withDir.files[0]?.content ?? '', /--server/);

    // cron and systemd do not inherit this shell's CERTMAN_* variables: they are repeated as flags.
    const fromEnv = json<ScheduleJson>(ok(await runCli(['--json', 'schedule', '--cron'], { env: { CERTMAN_CONFIG_DIR: cfg } })));
    assert.ok(fromEnv.files[0]?.content.includes(`renew -q --config-dir ${cfg}\n`), fromEnv.files[0]?.content);
  });
});

describe('certman schedule --cron', () => {
  it('--json: a cron.d file for root, stable across runs', async () => {
    const first = json<ScheduleJson>(ok(await runCli(['--json', 'schedule', '--cron'])));
    assert.deepEqual([first.kind, first.scope, first.installed, first.changed], ['cron', 'system', false, false]);
    assert.equal(first.files.length, 1);
    const file = first.files[0];
    assert.equal(file?.path, '/etc/cron.d/certman');
    const content = file?.content ?? '';
    assert.match(content, /^# Generated by certman schedule/);
    assert.match(content, /^SHELL=\/bin\/sh$/m);
    assert.match(content, /^PATH=\//m);
    const job = content.split('\n').find((l) => /^\d/.test(l)) ?? '';
    const match = /^(\d{1,2}) (\d{1,2}),(\d{1,2}) \* \* \* root (.*)$/.exec(job);
    assert.ok(match, job);
    const [, minute, h1, h2, command] = match;
    assert.ok(Number(minute) <= 59);
    assert.equal(Number(h2), Number(h1) + 12);
    assert.equal(command, COMMAND);

    const second = json<ScheduleJson>(ok(await runCli(['--json', 'schedule', '--cron'])));
    assert.deepEqual(second, first);
  });

  it('--user --install --dest: edits only certman\'s block of the crontab', async () => {
    const dest = await tempDir('schedule-cron');
    const crontab = join(dest, 'crontab');
    const others = 'MAILTO=ops@example.com\n0 4 * * * /usr/local/bin/backup\n';
    await writeFile(crontab, others);

    const first = ok(await runCli(['schedule', '--cron', '--user', '--install', '--dest', dest]));
    assert.match(first.stdout, /^installed /m);
    const text = await readFile(crontab, 'utf8');
    assert.ok(text.startsWith(others), text);
    const block = text.slice(text.indexOf('# BEGIN certman'));
    assert.match(block, /^# BEGIN certman\n(#.*\n)*\d{1,2} \d{1,2},\d{1,2} \* \* \* \S+ \S+ renew -q\n# END certman\n$/);
    assert.ok(block.includes(COMMAND));
    assert.doesNotMatch(block, / root /, 'no user field in a user crontab');

    const second = ok(await runCli(['schedule', '--cron', '--user', '--install', '--dest', dest]));
    assert.match(second.stdout, /already installed/);
    assert.equal(await readFile(crontab, 'utf8'), text);

    // An old certman block is replaced in place; lines after it stay.
    await writeFile(crontab, `${others}# BEGIN certman\n1 1 * * * old\n# END certman\n30 5 * * * echo after\n`);
    const third = json<ScheduleJson>(ok(await runCli(['--json', 'schedule', '--cron', '--user', '--install', '--dest', dest])));
    assert.deepEqual([third.installed, third.changed], [true, true]);
    assert.equal(await readFile(crontab, 'utf8'), `${others}${block}30 5 * * * echo after\n`);
  });
});

describe('certman schedule: bad usage exits 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['neither --cron nor --systemd', ['schedule'], /exactly one of --cron or --systemd/],
    ['both', ['schedule', '--cron', '--systemd'], /exactly one of --cron or --systemd/],
    ['both, installing', ['schedule', '--cron', '--systemd', '--install', '--dest', '/nonexistent'], /exactly one/],
    ['unknown flag', ['schedule', '--cron', '--weekly'], /unknown option '--weekly'/],
  ];
  for (const [label, args, message] of cases) {
    it(label, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${label}: ${r.stderr}`);
      assert.match(r.stderr.split('\n')[0] ?? '', /^error: /);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});
