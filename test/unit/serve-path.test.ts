import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostName, normalizePath, parseRequestTarget } from '../../src/challenge/server/path.js';
import { isSafeToken } from '../../src/challenge/token.js';

const P = '/.well-known/acme-challenge/';
const T128 = 'a'.repeat(128);

describe('parseRequestTarget', () => {
  const table: [string, string, string?][] = [
    // [request target, expected kind, expected token]
    [`${P}abc_DEF-123`, 'token', 'abc_DEF-123'],
    [`${P}abc?x=1`, 'token', 'abc'],
    [`${P}${T128}`, 'token', T128],
    [`${P}${T128}b`, 'reject'],
    [P, 'reject'],
    [P.slice(0, -1), 'reject'],
    // traversal, in every spelling
    [`${P}../../etc/passwd`, 'reject'],
    [`${P}..`, 'reject'],
    [`${P}.`, 'reject'],
    [`${P}%2e%2e/%2e%2e/etc/passwd`, 'reject'],
    [`${P}%2E%2E%2F%2E%2E%2Fetc%2Fpasswd`, 'reject'],
    [`${P}..%2f..%2fetc%2fpasswd`, 'reject'],
    [`${P}%252e%252e%252fetc`, 'reject'],
    [`${P}..\\..\\etc\\passwd`, 'reject'],
    [`${P}abc\\def`, 'reject'],
    // any percent-encoding, NUL, separators or dots inside the token
    [`${P}abc%00`, 'reject'],
    [`${P}%00`, 'reject'],
    [`${P}%61bc`, 'reject'],
    [`${P}abc%2fdef`, 'reject'],
    [`${P}abc/def`, 'reject'],
    [`${P}abc/`, 'reject'],
    [`${P}/abc`, 'reject'],
    [`${P}ab.c`, 'reject'],
    [`${P}abc.json`, 'reject'],
    [`${P}abc;x`, 'reject'],
    [`${P}abc~`, 'reject'],
    // the challenge folder spelled differently: ours, never passed to a fallback
    [`//.well-known/acme-challenge/abc`, 'reject'],
    [`/.well-known//acme-challenge/abc`, 'reject'],
    [`/.well-known/./acme-challenge/abc`, 'reject'],
    [`/x/../.well-known/acme-challenge/abc`, 'reject'],
    [`/x/%2e%2e/.well-known/acme-challenge/abc`, 'reject'],
    [`/.WELL-KNOWN/ACME-CHALLENGE/abc`, 'reject'],
    [`/%2ewell-known/acme-challenge/abc`, 'reject'],
    [`/%252ewell-known/acme-challenge/abc`, 'reject'],
    [`/.well-known%2facme-challenge%2fabc`, 'reject'],
    [`/.well-known/acme-challenge%2fabc`, 'reject'],
    [`/\\.well-known\\acme-challenge\\abc`, 'reject'],
    [`/.well-known\\acme-challenge/abc`, 'reject'],
    // not origin-form, or characters no client sends
    ['', 'invalid'],
    ['*', 'invalid'],
    ['\\.well-known\\acme-challenge\\abc', 'invalid'],
    ['http://example.com/.well-known/acme-challenge/abc', 'invalid'],
    ['example.com:443', 'invalid'],
    ['/a b', 'invalid'],
    ['/a\tb', 'invalid'],
    ['/a\u0000b', 'invalid'],
    ['/a\u00e9', 'invalid'],
    ['/a#b', 'invalid'],
    ['/a%00b', 'invalid'],
    ['/a%0d%0aSet-Cookie:x', 'invalid'],
    ['/%2500', 'invalid'],
    // everything else goes to the fallback
    ['/', 'other'],
    ['/index.html', 'other'],
    ['/etc/passwd', 'other'],
    ['/..', 'other'],
    ['/../../etc/passwd', 'other'],
    ['/.well-known/other', 'other'],
    ['/.well-known/acme-challenge-x/abc', 'other'],
    ['/a%zz', 'other'],
    ['/a%e9', 'other'],
  ];
  for (const [target, kind, token] of table) {
    it(`${JSON.stringify(target)} → ${kind}`, () => {
      const parsed = parseRequestTarget(target);
      assert.equal(parsed.kind, kind);
      if (token !== undefined) assert.deepEqual(parsed, { kind: 'token', token });
    });
  }
});

describe('normalizePath', () => {
  const table: [string, string | undefined][] = [
    ['/', '/'],
    ['/A/B/', '/a/b/'],
    ['//a///b', '/a/b'],
    ['/a/./b/../c', '/a/c'],
    ['/../../x', '/x'],
    ['/a/..', '/'],
    ['/a%2fb', '/a/b'],
    ['/a%5cb', '/a/b'],
    ['/%2e%2e/x', '/x'],
    ['/%25%32%65', '/'],
    ['/a%00', undefined],
    ['/a%2500', undefined],
  ];
  for (const [input, expected] of table) {
    it(`${input} → ${String(expected)}`, () => assert.equal(normalizePath(input), expected));
  }
});

describe('token validation', () => {
  it('accepts base64url tokens of 1 to 128 characters only', () => {
    for (const good of ['a', 'A-Z_09', T128, 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0']) assert.equal(isSafeToken(good), true, good);
    for (const bad of ['', `${T128}a`, '..', '.', 'a.b', 'a/b', 'a\\b', 'a%2e', 'a\u0000', 'a b', 'ä', 'a\n', 'a=', 'a+b']) {
      assert.equal(isSafeToken(bad), false, JSON.stringify(bad));
    }
  });
});

describe('hostName', () => {
  const table: [string | undefined, string | undefined][] = [
    ['example.com', 'example.com'],
    ['Example.COM:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['[::1]:80', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['[0:0:0:0:0:0:0:1]:5002', '::1'],
    ['127.0.0.1:80', '127.0.0.1'],
    [undefined, undefined],
    ['', undefined],
    ['a b', undefined],
    ['example.com:80:80', undefined],
    ['example.com/x', undefined],
    ['user@example.com', undefined],
    ['::1', undefined],
    ['example.com:123456', undefined],
  ];
  for (const [input, expected] of table) {
    it(`${JSON.stringify(input)} → ${String(expected)}`, () => assert.equal(hostName(input), expected));
  }
});
