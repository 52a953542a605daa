// obtainCertificate's verdicts (which failed authorizations count as the CA's verdict on a name) and how it
// stops when its signal fires.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';

import type { AcmeClient } from '../../src/acme/client.js';
import type { Authorization } from '../../src/acme/types.js';
import { obtainCertificate } from '../../src/certificate/obtain.js';
import { AcmeProblemError, NetworkError } from '../../src/errors.js';
import { silentReporter } from '../../src/report.js';

const keyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function authz(name: string, status: Authorization['status'], error?: { type: string; detail: string }): Authorization {
  return {
    url: `https://ca.test/authz/${name}`,
    status,
    identifier: { type: 'dns', value: name },
    challenges: [{ type: 'http-01', url: `https://ca.test/chall/${name}`, token: `token-${name}`, status: 'pending', ...(error === undefined ? {} : { error }) }],
  } as Authorization;
}

/** A client whose authorizations settle as `settle` says, per name. */
function client(settle: Record<string, () => Promise<Authorization>>): AcmeClient {
  return {
    newOrder: async () => ({ url: 'https://ca.test/order/1', status: 'pending', authorizations: Object.keys(settle).map((n) => `https://ca.test/authz/${n}`), finalize: 'https://ca.test/finalize/1' }),
    authorization: async (url: string) => authz(url.split('/').pop() ?? '', 'pending'),
    answerChallenge: async () => undefined,
    waitForAuthorization: async (_url: string, name: string) => (settle[name] ?? (() => Promise.reject(new Error(name))))(),
    deactivateAuthorization: async () => undefined,
  } as unknown as AcmeClient;
}

const responder = { publish: async () => undefined, unpublish: async () => undefined, close: async () => undefined };

/** A wait that would last for ever but ends with `signal`'s reason, as the real ones do; `fire` aborts it on the next tick. */
function waitUntilAborted<T>(signal: AbortSignal | undefined, fire: () => void): Promise<T> {
  return new Promise<T>((_resolve, reject) => {
    signal?.addEventListener('abort', () => reject(signal.reason as Error));
    setImmediate(fire);
  });
}

describe('obtainCertificate', () => {
  test("an invalid authorization is the CA's verdict even when another name's request failed", async () => {
    const unauthorized = { type: 'urn:ietf:params:acme:error:unauthorized', detail: '404 for the token' };
    const err = await obtainCertificate({
      client: client({
        'a.example.test': async () => authz('a.example.test', 'invalid', unauthorized),
        'b.example.test': async () => Promise.reject(new NetworkError('no answer from https://ca.test within 3 s')),
      }),
      domains: ['a.example.test', 'b.example.test'],
      keyPem,
      accountKeyPem: keyPem,
      responder,
      report: silentReporter,
    }).catch((e: unknown) => e);
    assert.ok(err instanceof AcmeProblemError, String(err));
    assert.equal(err.type, unauthorized.type);
    assert.deepEqual(
      err.subproblems.map((s) => [s.identifier, s.type]),
      [
        ['a.example.test', unauthorized.type],
        ['b.example.test', 'certman:request'],
      ],
    );
  });

  test('a failed request alone is thrown as it is: no verdict on any name', async () => {
    const failure = new NetworkError('no answer from https://ca.test within 3 s');
    const err = await obtainCertificate({
      client: client({ 'a.example.test': async () => Promise.reject(failure) }),
      domains: ['a.example.test'],
      keyPem,
      accountKeyPem: keyPem,
      responder,
      report: silentReporter,
    }).catch((e: unknown) => e);
    assert.equal(err, failure);
  });

  /** Publishes, withdraws and deactivations the order made, for the cancellation tests. */
  function recording() {
    const seen = { published: [] as string[], withdrawn: [] as string[], deactivated: [] as string[], answered: [] as string[] };
    const recordingResponder = {
      publish: async (_domain: string, token: string) => void seen.published.push(token),
      unpublish: async (token: string) => void seen.withdrawn.push(token),
      close: async () => undefined,
    };
    return { seen, recordingResponder };
  }

  test('Ctrl-C during the self-check ends it at once: nothing answered, authorizations deactivated, tokens withdrawn', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const { seen, recordingResponder } = recording();
    const ca = client({ 'a.example.test': async () => authz('a.example.test', 'valid') });
    Object.assign(ca, {
      answerChallenge: async (url: string) => void seen.answered.push(url),
      deactivateAuthorization: async (url: string) => void seen.deactivated.push(url),
    });
    const err = await obtainCertificate({
      client: ca,
      domains: ['a.example.test'],
      keyPem,
      accountKeyPem: keyPem,
      responder: recordingResponder,
      report: silentReporter,
      signal: controller.signal,
      // A check that would hang forever, but ends with the signal as the real one does.
      selfCheck: (_domain, _token, _keyAuthorization, signal) => waitUntilAborted(signal, () => controller.abort(reason)),
    }).catch((e: unknown) => e);
    assert.equal(err, reason);
    assert.deepEqual(seen.answered, []);
    assert.deepEqual(seen.deactivated, ['https://ca.test/authz/a.example.test']);
    assert.deepEqual(seen.withdrawn, seen.published);
  });

  test('Ctrl-C while the CA validates ends the wait with the signal\'s reason and withdraws the tokens', async () => {
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const { seen, recordingResponder } = recording();
    const ca = client({});
    Object.assign(ca, {
      newOrder: async () => ({ url: 'https://ca.test/order/1', status: 'pending', authorizations: ['https://ca.test/authz/a.example.test'], finalize: 'https://ca.test/finalize/1' }),
      waitForAuthorization: (_url: string, _name: string, signal?: AbortSignal) => waitUntilAborted(signal, () => controller.abort(reason)),
      finalize: async () => assert.fail('an interrupted order is not finalized'),
    });
    const err = await obtainCertificate({
      client: ca,
      domains: ['a.example.test'],
      keyPem,
      accountKeyPem: keyPem,
      responder: recordingResponder,
      report: silentReporter,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    assert.equal(err, reason);
    assert.deepEqual(seen.published, ['token-a.example.test']);
    assert.deepEqual(seen.withdrawn, seen.published);
  });
});
