import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertHttp01Compatible, defaultCertName, normalizeDomains } from '../../src/dns/names.js';
import { usageError } from './assertions.js';


describe('normalizeDomains', () => {
  it('passes plain names through', () => {
    assert.deepEqual(normalizeDomains(['example.com']), ['example.com']);
    assert.deepEqual(normalizeDomains(['www.example.com', 'a-b.c-d.example.org']), ['www.example.com', 'a-b.c-d.example.org']);
  });

  it('splits comma-separated values and accepts repeated ones (-d a,b -d c)', () => {
    assert.deepEqual(normalizeDomains(['a.example,b.example', 'c.example']), ['a.example', 'b.example', 'c.example']);
  });

  it('trims blanks and ignores empty pieces', () => {
    assert.deepEqual(normalizeDomains([' a.example , b.example,', ',c.example']), ['a.example', 'b.example', 'c.example']);
  });

  it('lowercases', () => {
    assert.deepEqual(normalizeDomains(['WWW.Example.COM']), ['www.example.com']);
  });

  it('removes one trailing dot', () => {
    assert.deepEqual(normalizeDomains(['example.com.']), ['example.com']);
  });

  it('converts IDN to punycode', () => {
    assert.deepEqual(normalizeDomains(['bücher.example']), ['xn--bcher-kva.example']);
    assert.deepEqual(normalizeDomains(['BÜCHER.example.']), ['xn--bcher-kva.example']);
    assert.deepEqual(normalizeDomains(['☃.com']), ['xn--n3h.com']);
    assert.deepEqual(normalizeDomains(['ｅｘａｍｐｌｅ.com']), ['example.com']); // UTS #46 width mapping
    assert.deepEqual(normalizeDomains(['ex\u3002com']), ['ex.com']); // ideographic full stop
  });

  it('keeps already-punycode names', () => {
    assert.deepEqual(normalizeDomains(['xn--bcher-kva.example']), ['xn--bcher-kva.example']);
  });

  it('removes duplicates after normalization, keeping first-seen order', () => {
    assert.deepEqual(
      normalizeDomains(['b.example,a.example', 'B.EXAMPLE', 'a.example.', 'bücher.example', 'xn--bcher-kva.example', 'c.example']),
      ['b.example', 'a.example', 'xn--bcher-kva.example', 'c.example'],
    );
  });

  it('accepts a single leading wildcard label', () => {
    assert.deepEqual(normalizeDomains(['*.Example.com.']), ['*.example.com']);
    assert.deepEqual(normalizeDomains(['*.bücher.example']), ['*.xn--bcher-kva.example']);
    assert.deepEqual(normalizeDomains(['example.com,*.example.com']), ['example.com', '*.example.com']);
  });

  it('accepts names at the length limits', () => {
    const label63 = 'a'.repeat(63);
    assert.deepEqual(normalizeDomains([`${label63}.com`]), [`${label63}.com`]);
    const name253 = `${label63}.${label63}.${label63}.${'b'.repeat(61)}`; // 63*3 + 61 + 3 dots = 253
    assert.equal(name253.length, 253);
    assert.deepEqual(normalizeDomains([name253]), [name253]);
    assert.deepEqual(normalizeDomains(['1.example.com', 'example.co1', 'example.0x1']), ['1.example.com', 'example.co1', 'example.0x1']);
  });

  it('rejects an empty list', () => {
    usageError(() => normalizeDomains([]), 'no domain names given (use -d <name>)');
    usageError(() => normalizeDomains(['', ' , ']), 'no domain names given (use -d <name>)');
  });

  const label63 = 'a'.repeat(63);
  const invalid: [string, RegExp][] = [
    ['exa mple.com', /contains a space/],
    ['a_b.example.com', /contains the character "_"/],
    ['a@b.com', /contains the character "@"/],
    ['a%b.com', /contains the character "%"/],
    ['a/b.com', /contains the character "\/"/],
    ['https://example.com', /contains the character ":"/],
    ['a\tb.com', /contains a control character \(U\+0009\)/],
    ['foo..com', /empty label/],
    ['.example.com', /empty label/],
    ['example.com..', /empty label/],
    ['.', /empty name/],
    ['-foo.example.com', /label "-foo" starts or ends with a hyphen/],
    ['foo-.example.com', /label "foo-" starts or ends with a hyphen/],
    ['example.-com', /label "-com" starts or ends with a hyphen/],
    [`${'a'.repeat(64)}.com`, /label "a{64}" is longer than 63 characters/],
    [`${label63}.${label63}.${label63}.${'b'.repeat(62)}`, /longer than 253 characters \(254\)/],
    [`*.${label63}.${label63}.${label63}.${'b'.repeat(60)}`, /longer than 253 characters \(254\)/],
    ['localhost', /needs at least two labels/],
    ['com.', /needs at least two labels/],
    ['example.123', /the last label must not be all-numeric/],
    ['1.2.3', /the last label must not be all-numeric/],
    ['192.0.2.1.', /the last label must not be all-numeric/],
    ['*', /wildcard is only allowed as the whole first label/],
    ['*example.com', /wildcard is only allowed as the whole first label/],
    ['www.*.example.com', /wildcard is only allowed as the whole first label/],
    ['*.*.example.com', /wildcard is only allowed as the whole first label/],
    ['w*.example.com', /wildcard is only allowed as the whole first label/],
    ['*.com', /a wildcard needs at least two labels after "\*\."/],
    ['ab--cd.example', /"--" in the third and fourth positions/],
    ['xn--zz.example', /label "xn--zz" is not valid punycode/],
    ['e\u0000x.com', /control character \(U\+0000\)/],
    ['bü cher.example', /contains a space/],
    ['bücher_x.example', /contains the character "_"/],
    ['\u00e4', /needs at least two labels/],
  ];
  for (const [name, reason] of invalid) {
    it(`rejects ${JSON.stringify(name)}`, () => {
      const err = usageError(() => normalizeDomains(['ok.example', name]), reason);
      assert.ok(err.message.startsWith(`invalid domain name ${JSON.stringify(name.trim())}: `), err.message);
    });
  }
});

describe('assertHttp01Compatible', () => {
  it('accepts names without wildcards', () => {
    assert.doesNotThrow(() => assertHttp01Compatible(['example.com', 'www.example.com']));
  });

  it('rejects the first wildcard, with a hint to list the names', () => {
    const err = usageError(
      () => assertHttp01Compatible(['example.com', '*.example.com', '*.example.org']),
      '"*.example.com" is a wildcard name: wildcards need the DNS-01 challenge, which certman does not support yet',
    );
    assert.match(err.hint ?? '', /list the names explicitly.*-d example\.com -d www\.example\.com/);
  });
});

describe('defaultCertName', () => {
  it('is the first name', () => {
    assert.equal(defaultCertName(['www.example.com', 'example.com']), 'www.example.com');
    assert.equal(defaultCertName(['xn--bcher-kva.example']), 'xn--bcher-kva.example');
  });

  it('spells a leading wildcard as _wildcard_', () => {
    assert.equal(defaultCertName(['*.example.com', 'example.com']), '_wildcard_.example.com');
  });

  it('rejects an empty list', () => {
    usageError(() => defaultCertName([]), /no domain names given/);
  });
});
