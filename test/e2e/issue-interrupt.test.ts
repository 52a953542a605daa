// `certman issue` stopped by Ctrl-C at the points the core now cancels itself from the signal: a wait for
// another run's lease ends at once (exit 130), a Ctrl-C before the order withdraws nothing because nothing
// was published and saves nothing, and a Ctrl-C once the certificate is saved changes nothing (exit 0).
// (Ctrl-C with tokens published, for each responder kind, is in interactive.test.ts.)
import assert from 'node:assert/strict';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { certmanEnv, runCli, signalOnStderr, tempDir, uniqueName, type RunResult } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

interface Cert {
  name: string;
  serial: string;
}

const certificates = async (dir: string) => json<Cert[]>(await suite.certman(dir, ['--json', 'certificates']));
const exists = (file: string) => access(file).then(() => true, () => false);

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('issue, interrupted', () => {
  it('Ctrl-C while --wait waits for another run on the certificate ends the wait: exit 130, the holder goes on', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('waitint');
    const gate = await tempDir('gate');
    const [held, go] = [join(gate, 'held'), join(gate, 'go')];
    // The first run holds the lease on the lineage inside its pre-hook until the test creates $GO.
    let holderDone: RunResult | undefined;
    const holder = suite
      .certman(dir, ['issue', '-d', name, ...suite.standalone(), '--pre-hook', `touch "$HELD"; until [ -e "$GO" ]; do sleep 0.05; done`], { HELD: held, GO: go })
      .then((r) => (holderDone = r));
    await until(() => exists(held), 'the first run to hold the lease');

    const waiter = await runCli(['-v', 'issue', '-d', name, '--webroot', await tempDir('webroot'), '--wait'], {
      env: certmanEnv(suite.pebble, dir),
      onSpawn: (child) => signalOnStderr(child, `waiting for ${name}`, 'SIGINT'),
    });
    assert.equal(waiter.code, 130, waiter.stderr);
    assert.match(waiter.stderr, /another certman run \(pid \d+/, 'it said whom it waits for');
    assert.match(waiter.stderr, /error: cancelled/);
    assert.equal(holderDone, undefined, 'the waiting run ended while the lease was still held');

    await writeFile(go, '');
    const first = await holder;
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual((await certificates(dir)).map((c) => c.name), [name]);
  });

  it('Ctrl-C in the pre-hook: no order, the port is free again, post-hook runs, nothing saved, exit 130', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('preint');
    const out = await tempDir('hooks');
    // Hooks are children of certman: the pre-hook presses Ctrl-C for the user.
    const r = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone(), '--pre-hook', 'kill -INT $PPID; sleep 0.3', '--post-hook', `echo "$FAILED_DOMAINS" > ${out}/post`]);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /error: cancelled/);
    assert.doesNotMatch(r.stderr, /ordering a certificate/);
    assert.equal(await readFile(join(out, 'post'), 'utf8'), `${name}\n`);
    assert.deepEqual(await certificates(dir), [], 'nothing is saved');
    // The standalone server was opened and closed: the next run binds the same port.
    const again = await suite.certman(dir, ['issue', '-d', name, ...suite.standalone()]);
    assert.equal(again.code, 0, again.stderr);
  });

  it('Ctrl-C once the certificate is saved (in the deploy hook) is ignored: exit 0, the certificate is there', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('lateint');
    const out = await tempDir('hooks');
    const r = await suite.certman(dir, ['--json', 'issue', '-d', name, ...suite.standalone(), '--deploy-hook', 'kill -INT $PPID; sleep 0.3', '--post-hook', `echo "$RENEWED_DOMAINS" > ${out}/post`]);
    assert.equal(r.code, 0, r.stderr);
    const issued = json<{ status: string; serial: string }>(r);
    assert.equal(issued.status, 'issued');
    assert.deepEqual((await certificates(dir)).map((c) => [c.name, c.serial]), [[name, issued.serial]]);
    assert.equal(await readFile(join(out, 'post'), 'utf8'), `${name}\n`);
    assert.ok(await exists(join(dir, 'live', name, 'cert.pem')));
  });
});
