import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StandaloneResponder } from '../../src/challenge/standalone.js';
import { WebrootResponder } from '../../src/challenge/webroot.js';
import { CertmanError } from '../../src/errors.js';

const tmp = () => mkdtemp(join(tmpdir(), 'certman-responder-'));

describe('WebrootResponder', () => {
  it('creates the challenge folders, writes a readable token, and removes everything it made', async () => {
    const root = await tmp();
    const responder = await WebrootResponder.open(root);
    await responder.publish('a.test', 'tok_1', 'tok_1.thumb');
    const file = join(root, '.well-known/acme-challenge/tok_1');
    assert.equal(await readFile(file, 'utf8'), 'tok_1.thumb');
    assert.equal((await stat(file)).mode & 0o777, 0o644);
    await responder.close();
    assert.deepEqual(await readdir(root), []);
  });
  it('keeps folders that existed before and files it did not write', async () => {
    const root = await tmp();
    await mkdir(join(root, '.well-known/acme-challenge'), { recursive: true });
    await writeFile(join(root, '.well-known/acme-challenge/other'), 'x');
    const responder = await WebrootResponder.open(root);
    await responder.publish('a.test', 'tok', 'tok.thumb');
    await responder.close();
    assert.deepEqual(await readdir(join(root, '.well-known/acme-challenge')), ['other']);
  });
  it('refuses a symlink that leads out of the webroot', async () => {
    const root = await tmp();
    const outside = await tmp();
    await symlink(outside, join(root, '.well-known'));
    // Refused when opened, that is before anything is ordered.
    await assert.rejects(WebrootResponder.open(root), (err: unknown) => err instanceof CertmanError && err.exitCode === 1 && /leaves the webroot/.test(err.message));
    assert.deepEqual(await readdir(outside), []);
  });
  it('replaces a symlink planted at the token path instead of writing through it', async () => {
    const root = await tmp();
    const victim = join(await tmp(), 'victim');
    await writeFile(victim, 'keep me');
    await mkdir(join(root, '.well-known/acme-challenge'), { recursive: true });
    await symlink(victim, join(root, '.well-known/acme-challenge/tok'));
    const responder = await WebrootResponder.open(root);
    await responder.publish('a.test', 'tok', 'tok.thumb');
    await responder.close();
    assert.equal(await readFile(victim, 'utf8'), 'keep me');
  });
  it('rejects tokens that are not base64url and webroots that do not exist', async () => {
    const responder = await WebrootResponder.open(await tmp());
    await assert.rejects(responder.publish('a.test', '../../etc/passwd', 'x'), /not base64url/);
    await assert.rejects(WebrootResponder.open('/nonexistent/certman'), (err: unknown) => err instanceof CertmanError && err.exitCode === 1 && /not an existing directory/.test(err.message));
  });
});

describe('StandaloneResponder', () => {
  it('answers only published tokens, for GET and HEAD', async () => {
    const responder = await StandaloneResponder.open({ port: 0, address: '127.0.0.1' });
    const port = (responder as unknown as { server: { address(): { port: number } } }).server.address().port;
    await responder.publish('a.test', 'tok', 'tok.thumb');
    const base = `http://127.0.0.1:${port}/.well-known/acme-challenge/`;
    const ok = await fetch(`${base}tok`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'tok.thumb');
    assert.equal((await fetch(`${base}tok`, { method: 'HEAD' })).status, 200);
    assert.equal((await fetch(`${base}other`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    await responder.unpublish('tok');
    assert.equal((await fetch(`${base}tok`)).status, 404);
    await responder.close();
    await responder.close();
  });
  it('reports a busy port before anything else happens', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    await assert.rejects(StandaloneResponder.open({ port, address: '127.0.0.1' }), /already in use/);
    blocker.close();
  });
});
