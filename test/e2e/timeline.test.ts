// `certificates --timeline`: the real CLI over stores whose due dates are known (lineages saved with chosen
// notBefore/notAfter, an ARI time, a renewal backoff), read as JSON, as plain text off a terminal and in a terminal.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { stableFraction } from '../../src/lineage/due.js';
import type { NewCertificate } from '../../src/lineage/types.js';
import { RENEWAL_BACKOFF_KEY } from '../../src/renewal/backoff.js';
import { openStore, type Store } from '../../src/store/index.js';
import { openTerminal, runCli, tempDir, type RunResult } from '../harness/index.js';
import { newCert, pems, saveLeased } from '../harness/store-fixtures.js';
import { assertOneLineError, json } from './fixture.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** Midnight UTC of the day the tests run, and of the hour: due times are set well inside later buckets. */
const TODAY = Math.floor(Date.now() / DAY) * DAY;
const THIS_HOUR = Math.floor(Date.now() / HOUR) * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();
/** Noon of day `n` from today. */
const noon = (n: number): number => TODAY + n * DAY + 12 * HOUR;

interface NamedCount {
  count: number;
  names: string[];
}
interface TimelineJson {
  bucket: 'day' | 'hour';
  bucketSeconds: number;
  days: number;
  from: string;
  to: string;
  buckets: { start: string; count: number; movedBySpread: number; movedByAri: number; deferred: number; projected: number; names: string[] }[];
  peak: { start: string; count: number } | null;
  total: number;
  movedBySpread: number;
  movedByAri: number;
  deferred: number;
  projected: number;
  overdue: NamedCount;
  expired: NamedCount;
  later: NamedCount;
  notProjected: NamedCount;
  revoked: NamedCount;
  damaged: NamedCount;
}

/** A 90-day certificate that the lifetime rule (a third left, no spread) makes due at `dueMs`. */
function ninetyDays(name: string, dueMs: number, extra: Partial<NewCertificate> = {}): NewCertificate {
  return newCert(name, { domains: [name], notBefore: iso(dueMs - 60 * DAY), notAfter: iso(dueMs + 30 * DAY), ...extra });
}

/** A store in a fresh config dir holding `certs`; `prepare` may add to it before it is closed. */
async function seed(certs: NewCertificate[], config: Record<string, unknown> = {}, prepare?: (store: Store, dir: string) => Promise<void>): Promise<string> {
  const dir = await tempDir('timeline');
  await writeFile(join(dir, 'certman.config.json'), JSON.stringify(config));
  const store = await openStore(dir);
  try {
    for (const cert of certs) await saveLeased(store, cert, pems(cert.name));
    await prepare?.(store, dir);
  } finally {
    await store.close?.();
  }
  return dir;
}

const certman = (dir: string, args: string[]): Promise<RunResult> => runCli(args, { env: { CERTMAN_CONFIG_DIR: dir } });

function bucketAt(timeline: TimelineJson, ms: number) {
  const bucket = timeline.buckets.find((b) => Date.parse(b.start) <= ms && ms < Date.parse(b.start) + timeline.bucketSeconds * 1000);
  assert.ok(bucket !== undefined, `no bucket holds ${iso(ms)}`);
  return bucket;
}

/** "2026-12-04 Fri" for the day holding `ms`. */
function dayLabel(ms: number): string {
  const d = new Date(ms);
  return `${iso(ms).slice(0, 10)} ${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()] ?? ''}`;
}

describe('certificates --timeline over days', () => {
  // The spread moves a certificate earlier by its name's share of 10% of the lifetime: pick names it moves by days.
  const spreadNames = ['spread-a.test', 'spread-b.test', 'spread-c.test', 'spread-d.test', 'spread-e.test', 'spread-f.test'].filter((name) => stableFraction(name) > 0.3).slice(0, 2);
  const spreadDue = (name: string) => noon(14) - stableFraction(name) * 0.1 * 90 * DAY;
  const ariAt = noon(3) - 6 * HOUR;
  const backoffUntil = noon(2);
  let dir: string;

  before(async () => {
    assert.equal(spreadNames.length, 2, 'names the spread moves by more than a day');
    dir = await seed(
      [
        // renewDays of their own (30: the time of the lifetime rule): the spread does not move them.
        ninetyDays('plain-1.test', noon(5), { renewDays: 30 }),
        ninetyDays('plain-2.test', noon(5) + HOUR, { renewDays: 30 }),
        // renewDays of its own: due 20 days before notAfter, the spread does not apply.
        newCert('days.test', { domains: ['days.test'], notBefore: iso(noon(5) - 40 * DAY), notAfter: iso(noon(5) + 20 * DAY), renewDays: 20 }),
        ...spreadNames.map((name) => ninetyDays(name, noon(14))),
        // The CA's ARI window asks for it long before the lifetime rule would.
        ninetyDays('ari.test', noon(20), { ari: { windowStart: iso(ariAt - HOUR), windowEnd: iso(ariAt + HOUR), renewAt: iso(ariAt), nextCheck: iso(noon(1)) } }),
        ninetyDays('overdue.test', noon(-2)),
        ninetyDays('backoff.test', noon(-1)),
        newCert('expired.test', { domains: ['expired.test'], notBefore: iso(noon(-100)), notAfter: iso(noon(-10)) }),
        ninetyDays('far.test', noon(45)),
        ninetyDays('revoked.test', noon(6), { revoked: { at: iso(noon(-1)), reason: 'keyCompromise' } }),
        ninetyDays('damaged.test', noon(7)),
      ],
      {},
      async (store, at) => {
        await rm(join(at, 'live', 'damaged.test', 'cert.pem'));
        // Renewing backoff.test failed 4 times: the next attempt is the day after tomorrow.
        await store.updateState(RENEWAL_BACKOFF_KEY, () => ({ 'backoff.test': { failures: 4, lastFailure: iso(Date.now() - HOUR), nextAttempt: iso(backoffUntil), error: 'connection refused' } }));
      },
    );
  });

  it('--json: one object per day with counts, causes and names; overdue, expired, later, revoked and damaged apart', async () => {
    const r = await certman(dir, ['--json', 'certificates', '--timeline']);
    assert.equal(r.code, 0, r.stderr);
    const t = json<TimelineJson>(r);
    assert.deepEqual([t.bucket, t.bucketSeconds, t.days, t.buckets.length], ['day', 86_400, 30, 30]);
    assert.ok(Date.parse(t.from) % DAY === 0 && Date.now() - Date.parse(t.from) < DAY, `from the midnight before: ${t.from}`);
    assert.deepEqual(bucketAt(t, noon(5)), { start: iso(TODAY + 5 * DAY), count: 3, movedBySpread: 0, movedByAri: 0, deferred: 0, projected: 0, names: ['days.test', 'plain-1.test', 'plain-2.test'] });
    for (const name of spreadNames) {
      const bucket = bucketAt(t, spreadDue(name));
      assert.ok(bucket.names.includes(name) && bucket.movedBySpread >= 1, JSON.stringify(bucket));
    }
    assert.deepEqual(bucketAt(t, ariAt), { start: iso(TODAY + 3 * DAY), count: 1, movedBySpread: 0, movedByAri: 1, deferred: 0, projected: 0, names: ['ari.test'] });
    assert.deepEqual(bucketAt(t, backoffUntil), { start: iso(TODAY + 2 * DAY), count: 1, movedBySpread: 0, movedByAri: 0, deferred: 1, projected: 0, names: ['backoff.test'] });
    assert.deepEqual(t.overdue, { count: 1, names: ['overdue.test'] });
    assert.deepEqual(t.expired, { count: 1, names: ['expired.test'] });
    assert.deepEqual(t.later, { count: 1, names: ['far.test'] });
    assert.deepEqual(t.revoked, { count: 1, names: ['revoked.test'] });
    assert.deepEqual(t.damaged, { count: 1, names: ['damaged.test'] });
    // Successors of 60- and 90-day certificates come due 40 days or more after renewal: past the 30 days.
    assert.deepEqual([t.total, t.movedBySpread, t.movedByAri, t.deferred, t.projected], [7, 2, 1, 1, 0]);
    assert.deepEqual(t.notProjected, { count: 0, names: [] });
    assert.deepEqual(t.peak, { start: iso(TODAY + 5 * DAY), count: 3 });
  });

  it('off a terminal: ASCII rows per day, marks for spread, ARI and deferral, and the summary line', async () => {
    const r = await certman(dir, ['certificates', '--timeline']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(r.stdout, /^[\x20-\x7e\n]*$/, 'plain ASCII, no colour codes');
    assert.ok(lines.every((line) => line.length <= 80), 'cron-mail width');
    assert.ok(lines.includes('expired         1'), r.stdout);
    assert.ok(lines.includes('due now         1'), r.stdout);
    assert.ok(lines.includes(`${dayLabel(noon(2))}  1  d`), r.stdout);
    assert.ok(lines.includes(`${dayLabel(noon(3))}  1  a`), r.stdout);
    assert.ok(lines.includes(`${dayLabel(noon(5))}  3  ###`), r.stdout);
    assert.ok(lines.includes(`${dayLabel(noon(1))}  0`), r.stdout);
    assert.ok(lines.includes('later           1'), r.stdout);
    // Each day the spread moved certificates to: exactly that many, all marked s.
    const spreadDays = new Map<number, number>();
    for (const name of spreadNames) spreadDays.set(Math.floor(spreadDue(name) / DAY), (spreadDays.get(Math.floor(spreadDue(name) / DAY)) ?? 0) + 1);
    for (const [day, n] of spreadDays) assert.ok(lines.includes(`${dayLabel(day * DAY)}  ${n}  ${'s'.repeat(n)}`), r.stdout);
    assert.ok(lines.includes(`peak 3 on ${iso(noon(5)).slice(0, 10)}; 7 renewals in 30 days`), r.stdout);
    assert.ok(lines.includes('+1 due now; +1 expired; 29% moved by spread; 1 by ARI; 1 deferred'), r.stdout);
    assert.equal(lines.at(-1), 'Not counted (renew skips them): 1 revoked, 1 damaged; see certman certificates.');
  });

  it('--days sets the window; a bad one, or one without --timeline, is a one-line usage error', async () => {
    const short = json<TimelineJson>(await certman(dir, ['--json', 'certificates', '--timeline', '--days', '10']));
    const pastTen = spreadNames.filter((name) => spreadDue(name) >= Date.parse(short.to)).length;
    assert.deepEqual([short.bucket, short.buckets.length, short.later.count], ['day', 10, 1 + pastTen]);
    for (const bad of ['0', '-1', '2.5', 'soon', '367', '']) {
      assertOneLineError(await certman(dir, ['certificates', '--timeline', '--days', bad]), 2, /--days must be a whole number of days from 1 to 366/, bad);
    }
    assertOneLineError(await certman(dir, ['certificates', '--days', '10']), 2, /--days sets the window of --timeline/);
  });

  it('on a terminal: block characters', async () => {
    // Block characters come with the terminal; NO_COLOR (the harness sets it) only takes the colours away.
    const terminal = await openTerminal(['--config-dir', dir, 'certificates', '--timeline', '--days', '8']);
    try {
      const screen = await terminal.waitFor(/peak 3 on/);
      assert.ok(screen.includes(`${dayLabel(noon(5))}  3  ███`), screen);
      assert.ok(screen.includes(`${dayLabel(noon(3))}  1  ▒`), screen);
      assert.ok(screen.includes(`${dayLabel(noon(2))}  1  ░`), screen);
      assert.equal(await terminal.exitCode(), 0);
    } finally {
      await terminal.close();
    }
  });
});

describe('certificates --timeline over hours (short-lived certificates)', () => {
  // 6-day certificates are due at half their lifetime; the config turns the spread off, so due times are exact.
  const sixDays = (name: string, dueMs: number) => newCert(name, { domains: [name], notBefore: iso(dueMs - 3 * DAY), notAfter: iso(dueMs + 3 * DAY) });
  const soon = THIS_HOUR + 5 * HOUR;
  const tomorrow = THIS_HOUR + 30 * HOUR;
  let dir: string;

  before(async () => {
    dir = await seed([sixDays('short-1.test', soon + 30 * 60_000), sixDays('short-2.test', soon + 40 * 60_000), sixDays('short-3.test', tomorrow + 10 * 60_000)], { renewalSpread: 0 });
  });

  it('five days per hour by default, counted in the hour each is due', async () => {
    const t = json<TimelineJson>(await certman(dir, ['--json', 'certificates', '--timeline']));
    assert.deepEqual([t.bucket, t.bucketSeconds, t.days, t.buckets.length], ['hour', 3600, 5, 120]);
    assert.deepEqual(bucketAt(t, soon), { start: iso(soon), count: 2, movedBySpread: 0, movedByAri: 0, deferred: 0, projected: 0, names: ['short-1.test', 'short-2.test'] });
    assert.deepEqual(bucketAt(t, tomorrow).names, ['short-3.test']);
    // Their successors, issued when they are renewed, come due 3 days later: inside the 5 days.
    assert.deepEqual(bucketAt(t, soon + 3 * DAY), { start: iso(soon + 3 * DAY), count: 2, movedBySpread: 0, movedByAri: 0, deferred: 0, projected: 2, names: [] });
    assert.deepEqual(bucketAt(t, tomorrow + 3 * DAY), { start: iso(tomorrow + 3 * DAY), count: 1, movedBySpread: 0, movedByAri: 0, deferred: 0, projected: 1, names: [] });
    assert.deepEqual([t.total, t.projected], [6, 3]);
  });

  it('as text: a row per busy hour, empty hours folded', async () => {
    const r = await certman(dir, ['certificates', '--timeline']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    const hourLabel = (ms: number) => `${iso(ms).slice(0, 10)} ${iso(ms).slice(11, 16)}`;
    assert.ok(lines.includes(`${hourLabel(soon)}  2  ##`), r.stdout);
    assert.ok(lines.includes(`${hourLabel(tomorrow)}  1  #`), r.stdout);
    assert.ok(lines.includes(`${hourLabel(soon + 3 * DAY)}  2  pp`), r.stdout);
    assert.ok(lines.every((line) => line.length <= 80), 'cron-mail width');
    assert.ok(lines.some((line) => / none for \d+ hours$/.test(line)), r.stdout);
    assert.ok(lines.length < 40, 'folded');
    assert.ok(lines.includes(`peak 2 at ${hourLabel(soon)} UTC; 6 renewals in 5 days (3 projected)`), r.stdout);
    assert.ok(lines.includes('0% of the 3 not projected moved by spread; 0 by ARI'), r.stdout);
  });

  it('on a terminal: projected renewals have a block of their own', async () => {
    const terminal = await openTerminal(['--config-dir', dir, 'certificates', '--timeline']);
    try {
      const screen = await terminal.waitFor(/moved by spread/);
      const hourLabel = (ms: number) => `${iso(ms).slice(0, 10)} ${iso(ms).slice(11, 16)}`;
      assert.ok(screen.includes(`${hourLabel(soon + 3 * DAY)}  2  ▫▫`), screen);
      assert.equal(await terminal.exitCode(), 0);
    } finally {
      await terminal.close();
    }
  });

  it('a successor due within the hour of its issuance (the largest spread on an unlucky name) is named, not projected', async () => {
    // 6 days with renewalSpread 0.5: due 3 days × (1 − the name's fraction) after issuance; under an hour above 0.986.
    const name = Array.from({ length: 5000 }, (_, i) => `every-run-${i}.test`).find((candidate) => stableFraction(candidate) > 0.99);
    assert.ok(name !== undefined);
    const everyRun = await seed([sixDays(name, THIS_HOUR + 10 * HOUR)], { renewalSpread: 0.5 });
    const t = json<TimelineJson>(await certman(everyRun, ['--json', 'certificates', '--timeline', '--days', '366']));
    assert.deepEqual(t.notProjected, { count: 1, names: [name] });
    assert.equal(t.projected, 0);
    const r = await certman(everyRun, ['certificates', '--timeline']);
    assert.equal(r.code, 0, r.stderr);
    // Wrapped at 80 columns.
    assert.ok(r.stdout.replace(/\n/g, ' ').endsWith('1 certificate comes due again within an hour of renewal (renewalSpread): renewed on every run, not projected. '), r.stdout);
    assert.ok(r.stdout.split('\n').every((line) => line.length <= 80), r.stdout);
  });
});

interface ListedJson {
  name: string;
  status: string;
  dueAt?: string;
  deferredUntil?: string;
}

/** Where `certificates --json` says each certificate stands must be where the timeline counts it: the oracle. */
async function assertAgreesWithCertificates(dir: string): Promise<TimelineJson> {
  const listed = json<ListedJson[]>(await certman(dir, ['--json', 'certificates']));
  const t = json<TimelineJson>(await certman(dir, ['--json', 'certificates', '--timeline']));
  const to = Date.parse(t.to);
  const placed = (name: string): string[] => [
    ...t.buckets.filter((b) => b.names.includes(name)).map((b) => b.start),
    ...(['overdue', 'expired', 'later', 'revoked', 'damaged'] as const).filter((key) => t[key].names.includes(name)),
  ];
  for (const row of listed) {
    const dueAt = Date.parse(row.dueAt ?? '');
    const deferredUntil = Date.parse(row.deferredUntil ?? '');
    const renewAt = deferredUntil > dueAt && deferredUntil > Date.now() ? deferredUntil : dueAt;
    let expected: string;
    if (row.status === 'revoked' || row.status === 'damaged' || row.status === 'expired') expected = row.status;
    else if (renewAt <= Date.now()) expected = 'overdue';
    else if (renewAt >= to) expected = 'later';
    else expected = bucketAt(t, renewAt).start;
    assert.deepEqual(placed(row.name), [expected], `${row.name}: ${JSON.stringify(row)}`);
  }
  assert.equal(t.buckets.reduce((n, b) => n + b.names.length, 0) + t.overdue.count + t.expired.count + t.later.count + t.revoked.count + t.damaged.count, listed.length);
  return t;
}

describe('certificates --timeline agrees with certificates --json', () => {
  it('over days: each certificate where its due time, deferral or status puts it', async () => {
    const dir = await seed(
      [
        ninetyDays('one.test', noon(4)),
        ninetyDays('two.test', noon(9)),
        ninetyDays('overdue.test', noon(-3)),
        ninetyDays('held.test', noon(-1)),
        ninetyDays('revoked.test', noon(6), { revoked: { at: iso(noon(-1)), reason: 'keyCompromise' } }),
        newCert('expired.test', { domains: ['expired.test'], notBefore: iso(noon(-100)), notAfter: iso(noon(-10)) }),
        ninetyDays('far.test', noon(50)),
      ],
      { renewalSpread: 0 },
      async (store) => {
        await store.updateState(RENEWAL_BACKOFF_KEY, () => ({ 'held.test': { failures: 3, lastFailure: iso(Date.now() - HOUR), nextAttempt: iso(noon(3)), error: 'timeout' } }));
      },
    );
    const t = await assertAgreesWithCertificates(dir);
    assert.deepEqual(bucketAt(t, noon(3)).names, ['held.test']);
  });

  it('per hour with the spread: 6-day certificates, their hour, the spread marked, and their successors projected', async () => {
    const names = ['s-1.test', 's-2.test', 's-3.test', 's-4.test', 's-5.test'];
    // Without the spread due 20 hours from now; the default spread (10% of 6 days) moves each up to 14.4 hours earlier.
    const unspread = THIS_HOUR + 20 * HOUR;
    const dir = await seed(names.map((name) => newCert(name, { domains: [name], notBefore: iso(unspread - 3 * DAY), notAfter: iso(unspread + 3 * DAY) })));
    const t = await assertAgreesWithCertificates(dir);
    assert.equal(t.bucket, 'hour');
    const listed = json<ListedJson[]>(await certman(dir, ['--json', 'certificates']));
    const dueOf = (name: string) => Date.parse(listed.find((row) => row.name === name)?.dueAt ?? '');
    const hour = (ms: number) => Math.floor(ms / HOUR);
    assert.equal(t.movedBySpread, names.filter((name) => hour(dueOf(name)) !== hour(unspread)).length);
    assert.ok(t.movedBySpread >= 1, 'some moved to another hour');
    // A successor is issued at its renewal and due after the same share of its lifetime, spread included.
    const successors = (name: string, to: number) => {
      const step = 3 * DAY - stableFraction(name) * 0.1 * 6 * DAY;
      let n = 0;
      for (let at = dueOf(name) + step; at < to; at += step) n += 1;
      return n;
    };
    const projectedIn = (to: number) => names.reduce((n, name) => n + successors(name, to), 0);
    assert.deepEqual([t.total, t.projected], [names.length + projectedIn(Date.parse(t.to)), projectedIn(Date.parse(t.to))]);
    assert.ok(t.projected >= names.length, 'each comes due again within 5 days');
    const month = json<TimelineJson>(await certman(dir, ['--json', 'certificates', '--timeline', '--days', '30']));
    assert.equal(month.bucket, 'day');
    assert.deepEqual([month.total, month.projected], [names.length + projectedIn(Date.parse(month.to)), projectedIn(Date.parse(month.to))]);
    assert.ok(month.total >= 9 * names.length, `about 10 renewals each in 30 days, not 1: ${month.total}`);
  });
});

describe('certificates --timeline: window limits, an empty store, the time zone', () => {
  it('--days 1 (per hour) and --days 366 (per day): 90-day certificates come due every 60 days', async () => {
    const dir = await seed([ninetyDays('a.test', noon(3)), ninetyDays('b.test', noon(4))], { renewalSpread: 0 });
    const day = json<TimelineJson>(await certman(dir, ['--json', 'certificates', '--timeline', '--days', '1']));
    assert.deepEqual([day.bucket, day.buckets.length, day.total, day.later.count], ['hour', 24, 0, 2]);
    const year = json<TimelineJson>(await certman(dir, ['--json', 'certificates', '--timeline', '--days', '366']));
    assert.deepEqual([year.bucket, year.buckets.length, year.total, year.projected], ['day', 366, 14, 12]);
    const projectedDays = year.buckets.flatMap((b) => (b.projected > 0 ? [(Date.parse(b.start) - TODAY) / DAY] : []));
    assert.deepEqual(projectedDays, [63, 64, 123, 124, 183, 184, 243, 244, 303, 304, 363, 364]);
    const text = await certman(dir, ['certificates', '--timeline', '--days', '366']);
    const lines = text.stdout.trimEnd().split('\n');
    assert.ok(lines.length < 60, `empty days folded: ${lines.length} lines`);
    assert.ok(lines.every((line) => line.length <= 80), text.stdout);
    assert.ok(lines.includes(`${dayLabel(noon(63))}  1  p`), text.stdout);
  });

  it('an empty store, or a config dir with none, says so as certificates does', async () => {
    const empty = await seed([]);
    for (const dir of [empty, join(empty, 'missing')]) {
      const listed = await certman(dir, ['certificates']);
      const r = await certman(dir, ['certificates', '--timeline']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, listed.stdout);
      assert.match(r.stdout, /^No certificates in .+\.\n$/);
    }
  });

  it('the same chart whatever the local time zone (UTC buckets)', async () => {
    // 23:00 and 01:00 UTC: another day each in New York.
    const dir = await seed([ninetyDays('a.test', noon(2) + 11 * HOUR), ninetyDays('b.test', noon(3) - 11 * HOUR)], { renewalSpread: 0 });
    const inUtc = await runCli(['certificates', '--timeline'], { env: { CERTMAN_CONFIG_DIR: dir, TZ: 'UTC' } });
    const inNewYork = await runCli(['certificates', '--timeline'], { env: { CERTMAN_CONFIG_DIR: dir, TZ: 'America/New_York' } });
    assert.equal(inNewYork.code, 0, inNewYork.stderr);
    assert.equal(inNewYork.stdout, inUtc.stdout);
    const lines = inUtc.stdout.split('\n');
    assert.ok(lines.includes(`${dayLabel(noon(2))}  1  #`) && lines.includes(`${dayLabel(noon(3))}  1  #`), inUtc.stdout);
  });

  it('a --days with control characters is quoted escaped, never sent to the terminal', async () => {
    const r = await certman(await seed([]), ['certificates', '--timeline', '--days', '\u001b[31m']);
    assertOneLineError(r, 2, /--days must be a whole number of days from 1 to 366, not "\\u001b\[31m"/);
    assert.ok(!r.stderr.includes('\u001b'), r.stderr);
  });
});
