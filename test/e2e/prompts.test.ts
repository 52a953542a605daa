// At a real terminal, missing account details are asked for instead of failing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certmanEnv, openTerminal, tempDir, uniqueName } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

describe('prompts at a terminal', () => {
  it('asks for the email and the terms of service, then issues', async () => {
    const dir = await tempDir('cfg');
    const name = uniqueName('tty');
    const term = await openTerminal(['issue', '-d', name, ...suite.standalone()], certmanEnv(suite.pebble, dir));
    try {
      await term.waitFor(/Email for security notices/);
      await term.answer('tty@example.com');
      await term.waitFor(/terms of service/);
      await term.answer('y');
      assert.equal(await term.exitCode(), 0, await term.screen());
      assert.match(await term.screen(), /Certificate issued/);
    } finally {
      await term.close();
    }
    const account = json(await suite.certman(dir, ['--json', 'account']));
    assert.equal((account.account as { email: string }).email, 'tty@example.com');
  });

  it('an empty email answer registers without a contact', async () => {
    const dir = await tempDir('cfg');
    const term = await openTerminal(['register'], certmanEnv(suite.pebble, dir));
    try {
      await term.waitFor(/Email for security notices \(Enter for none\)/);
      await term.answer('');
      await term.waitFor(/terms of service/);
      await term.answer('y');
      assert.equal(await term.exitCode(), 0, await term.screen());
    } finally {
      await term.close();
    }
    const account = json(await suite.certman(dir, ['--json', 'account']));
    assert.equal((account.account as { email: string | null }).email, null);
  });

  it('declining the terms creates nothing and exits 2', async () => {
    const dir = await tempDir('cfg');
    const term = await openTerminal(['register', '--email', 'no@example.com'], certmanEnv(suite.pebble, dir));
    try {
      await term.waitFor(/terms of service/);
      await term.answer('n');
      assert.equal(await term.exitCode(), 2);
    } finally {
      await term.close();
    }
    assert.equal((await suite.certman(dir, ['account'])).code, 2);
  });

  it('Ctrl-C at a prompt cancels with exit 130 and creates nothing', async () => {
    const dir = await tempDir('cfg');
    const term = await openTerminal(['register'], certmanEnv(suite.pebble, dir));
    try {
      await term.waitFor(/Email for security notices/);
      await term.press('C-c');
      assert.equal(await term.exitCode(), 130);
      assert.match(await term.screen(), /error: cancelled/);
    } finally {
      await term.close();
    }
    assert.equal((await suite.certman(dir, ['account'])).code, 2);
  });

  it('-n turns prompts off even at a terminal', async () => {
    const term = await openTerminal(['-n', 'register'], certmanEnv(suite.pebble, await tempDir('cfg')));
    try {
      assert.equal(await term.exitCode(), 2);
      assert.match(await term.screen(), /--email/);
    } finally {
      await term.close();
    }
  });
});
