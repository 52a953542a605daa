// `certman issue` at a real terminal: the questions without -d, live progress, and Ctrl-C during an order.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certmanEnv, openTerminal, runCli, signalOnStderr, tempDir, uniqueName, type Terminal } from '../harness/index.js';
import { json, pebbleSuite } from './fixture.js';

const suite = pebbleSuite();

/** Runs `certman ...args` in a terminal against the suite's Pebble and closes the terminal afterwards. */
async function inTerminal<T>(dir: string, args: string[], use: (term: Terminal) => Promise<T>): Promise<T> {
  const term = await openTerminal(args, certmanEnv(suite.pebble, dir));
  try {
    return await use(term);
  } finally {
    await term.close();
  }
}

/** Every file under dir, as paths relative to it. */
/**
 * Answers the names question: types the names, waits until the search prompt offers them (its source is
 * asynchronous, and an Enter pressed before it answered is ignored), then takes them.
 */
async function answerNames(term: Terminal, names: string[]): Promise<void> {
  await term.press('C-u');
  await term.type(names.join(' '));
  const offered = names.map((n) => n.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(', ');
  await term.waitFor(new RegExp(`❯ ${offered}`));
  await term.press('Enter');
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1));
}

interface Cert {
  name: string;
  domains: string[];
  keyType: string;
}
const certificates = async (dir: string) => json<Cert[]>(await suite.certman(dir, ['--json', 'certificates']));

describe('interactive issue at a terminal', () => {
  it('asks names, method, port, key type, email and ToS, shows a summary, then issues', async () => {
    const dir = await tempDir('cfg');
    const name = uniqueName('ask');
    const www = uniqueName('www');
    await inTerminal(dir, ['issue'], async (term) => {
      await term.waitFor(/Names for the certificate/);
      await answerNames(term, [name, www]);
      await term.waitFor(/How should the CA reach the token/);
      await term.answer('standalone'); // typing jumps to the choice
      await term.waitFor(/Port for the built-in server.*\(80\)/);
      await term.answer(String(suite.pebble.httpPort));
      await term.waitFor(/Key type/);
      await term.press('Enter'); // ECDSA P-256, the default
      await term.waitFor(/Email for security notices/);
      await term.answer('ask@example.com');
      await term.waitFor(/terms of service/);
      await term.answer('y');
      const summary = await term.waitFor(/Order this certificate now\?/);
      assert.match(summary, new RegExp(`names: +${name}, ${www}`));
      assert.match(summary, new RegExp(`challenge: +built-in HTTP server on port ${suite.pebble.httpPort}`));
      assert.match(summary, /key: +ECDSA P-256/);
      assert.match(summary, /account: +new, contact ask@example.com, terms of service agreed/);
      await term.press('Enter'); // yes is the default
      assert.equal(await term.exitCode(), 0, await term.screen());
      assert.match(await term.screen(), new RegExp(`Certificate issued for ${name}, ${www}`));
    });
    const [cert] = await certificates(dir);
    assert.deepEqual(cert?.domains, [name, www]);
    assert.equal(cert?.keyType, 'ECDSA P-256');
    // the answers are stored like flags would be: renew repeats the standalone port
    const meta = JSON.parse(await readFile(join(dir, 'renewal', `${name}.json`), 'utf8')) as { method: unknown };
    assert.deepEqual(meta.method, { kind: 'standalone', port: suite.pebble.httpPort });
    const account = json(await suite.certman(dir, ['--json', 'account']));
    assert.equal((account.account as { email: string }).email, 'ask@example.com');
  });

  it('shows why a name is invalid while it is typed, and takes the corrected one', async () => {
    const dir = await suite.registeredDir();
    const name = uniqueName('fixed');
    // Flags given are not asked again: only the names are missing.
    await inTerminal(dir, ['issue', ...suite.standalone(), '--key-type', 'rsa'], async (term) => {
      await term.waitFor(/Names for the certificate/);
      await term.press('bad_name.example');
      await term.waitFor(/invalid domain name "bad_name.example": contains the character "_"/);
      await term.press('Enter'); // refused: still the same question
      await term.press('C-u');
      await term.answer('*.wild.example');
      await term.waitFor(/wildcards need the DNS-01 challenge/);
      await answerNames(term, [name.toUpperCase()]);
      const summary = await term.waitFor(/Order this certificate now\?/);
      assert.doesNotMatch(summary, /How should the CA|Key type|Email for security notices/);
      assert.match(summary, new RegExp(`names: +${name}`), 'names are normalized');
      assert.match(summary, /key: +RSA 2048/);
      assert.match(summary, /account: +existing, contact ops@example.com/);
      await term.answer('y');
      assert.equal(await term.exitCode(), 0, await term.screen());
    });
    assert.deepEqual((await certificates(dir)).map((c) => c.name), [name]);
  });

  it('refuses an address no public CA can reach while it is typed, before any other question', async () => {
    const dir = await suite.registeredDir();
    await inTerminal(dir, ['--server', 'https://acme-v02.api.letsencrypt.org/directory', 'issue', ...suite.standalone()], async (term) => {
      await term.waitFor(/Names for the certificate/);
      await term.press('10.1.2.3');
      await term.waitFor(/10\.1\.2\.3 is in 10\.0\.0\.0\/8 \(private, RFC 1918\): no public CA can validate it/);
      await term.press('C-c');
      assert.equal(await term.exitCode(), 130, await term.screen());
    });
  });

  it('refuses a webroot that does not exist', async () => {
    const dir = await suite.registeredDir();
    const webroot = await tempDir('webroot');
    await inTerminal(dir, ['issue', '--key-type', 'ecdsa'], async (term) => {
      await term.waitFor(/Names for the certificate/);
      await answerNames(term, [uniqueName('web')]);
      await term.waitFor(/How should the CA reach the token/);
      await term.answer('webroot');
      await term.waitFor(/Webroot/);
      await term.answer(join(webroot, 'missing'));
      await term.waitFor(new RegExp(`${join(webroot, 'missing')} does not exist`));
      await term.press('C-u');
      await term.answer(webroot);
      const summary = await term.waitFor(/Order this certificate now\?/);
      assert.match(summary, new RegExp(`challenge: +webroot ${webroot} `));
      await term.answer('n');
      assert.equal(await term.exitCode(), 0);
      assert.match(await term.screen(), /Nothing ordered/);
    });
  });

  it('declining the summary orders nothing and creates no account', async () => {
    const dir = await tempDir('cfg');
    await inTerminal(dir, ['issue', ...suite.standalone()], async (term) => {
      await term.waitFor(/Names for the certificate/);
      await answerNames(term, [uniqueName('no')]);
      await term.waitFor(/Key type/);
      await term.answer('RSA 3072');
      await term.waitFor(/Email for security notices/);
      await term.answer('no@example.com');
      await term.waitFor(/terms of service/);
      await term.answer('y');
      const summary = await term.waitFor(/Order this certificate now\?/);
      assert.match(summary, /key: +RSA 3072/);
      await term.answer('n');
      assert.equal(await term.exitCode(), 0, await term.screen());
      assert.match(await term.screen(), /Nothing ordered/);
    });
    assert.equal((await suite.certman(dir, ['account'])).code, 2, 'no account was registered');
    assert.deepEqual(await certificates(dir), []);
  });

  it('with a deactivated account, says so before any question', async () => {
    const dir = await suite.registeredDir();
    assert.equal((await suite.certman(dir, ['account', 'deactivate', '--yes'])).code, 0);
    await inTerminal(dir, ['issue', ...suite.standalone()], async (term) => {
      assert.equal(await term.exitCode(), 2, await term.screen());
      const screen = await term.screen();
      assert.match(screen, /was deactivated .*certman register/s);
      assert.doesNotMatch(screen, /Names for the certificate/);
    });
  });

  it('without a terminal a missing -d is still a usage error', async () => {
    const r = await suite.certman(await suite.registeredDir(), ['issue', ...suite.standalone()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no domain names given/);
  });
});

describe('progress at a terminal', () => {
  it('lists the steps of the order on the screen', async () => {
    const dir = await tempDir('cfg');
    const name = uniqueName('steps');
    await inTerminal(dir, ['issue', '-d', name, ...suite.standalone(), '--email', 'p@example.com', '--agree-tos'], async (term) => {
      assert.equal(await term.exitCode(), 0, await term.screen());
      const screen = await term.screen();
      const steps = [
        /✔ registering with https:/,
        new RegExp(`✔ ordering a certificate for ${name}`),
        new RegExp(`✔ publishing the HTTP-01 token for ${name}`),
        new RegExp(`✔ checking that ${name} serves the token`),
        new RegExp(`✔ validating ${name}`),
        /✔ finalizing the order/,
        /✔ downloading the certificate/,
        new RegExp(`✔ saved ${name}`),
        /Certificate issued/,
      ];
      let at = 0;
      for (const step of steps) {
        const found = step.exec(screen.slice(at));
        assert.ok(found, `${step} after position ${at} in:\n${screen}`);
        at += found.index + found[0].length;
      }
    });
  });

  it('shows nothing of it with --json or -q', async () => {
    const dir = await suite.registeredDir();
    for (const flag of ['--json', '-q']) {
      await inTerminal(dir, [flag, 'issue', '-d', uniqueName('plain'), ...suite.standalone()], async (term) => {
        assert.equal(await term.exitCode(), 0, await term.screen());
        assert.doesNotMatch(await term.screen(), /ordering a certificate|✔/);
      });
    }
  });
});

describe('Ctrl-C during an order', () => {
  // The self-check of the published token hangs (a server that accepts and never answers), so the
  // order is reliably in flight, with its token published, when Ctrl-C comes.
  let silent: Server;
  const sockets = new Set<Socket>();
  before(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(suite.pebble.httpPort, '127.0.0.1', resolve));
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  const cancelDuringSelfCheck = async (dir: string, args: string[], published: () => Promise<string[]>) => {
    const name = uniqueName('ctrlc');
    await inTerminal(dir, ['issue', '-d', name, ...args], async (term) => {
      await term.waitFor(new RegExp(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] checking that ${name} serves the token`));
      assert.equal((await published()).length, 1, 'the token is published while the order runs');
      await term.press('C-c');
      assert.equal(await term.exitCode(), 130, await term.screen());
      const screen = await term.screen();
      assert.match(screen, new RegExp(`✖ checking that ${name} serves the token \\(cancelled\\)`));
      assert.match(screen, /error: cancelled/);
    });
    assert.deepEqual(await published(), [], 'the token is withdrawn');
    assert.deepEqual(await certificates(dir), [], 'nothing is saved');
  };

  it('removes the token file from the webroot and exits 130', async () => {
    const dir = await suite.registeredDir();
    const webroot = await tempDir('webroot');
    await cancelDuringSelfCheck(dir, ['--webroot', webroot], () => filesUnder(webroot));
    assert.deepEqual(await readdir(webroot), [], 'the folders certman created are gone too');
  });

  it('SIGTERM off a terminal (a cancelled CI job) withdraws the token the same way', async () => {
    const dir = await suite.registeredDir();
    const webroot = await tempDir('webroot');
    const name = uniqueName('sigterm');
    const r = await runCli(['-v', 'issue', '-d', name, '--webroot', webroot], {
      env: certmanEnv(suite.pebble, dir),
      onSpawn: (child) => signalOnStderr(child, `checking that ${name} serves the token`, 'SIGTERM'),
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /error: cancelled/);
    assert.deepEqual(await readdir(webroot), [], 'the token and the folders certman created are gone');
    assert.deepEqual(await certificates(dir), [], 'nothing is saved');
  });

  it('withdraws the token from the responder store and exits 130', async () => {
    const dir = await suite.registeredDir();
    const challenges = join(dir, 'challenges');
    await cancelDuringSelfCheck(dir, ['--responder'], async () => (await readdir(challenges).catch(() => [])).filter((f) => f.endsWith('.json')));
  });
});
