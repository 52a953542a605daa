// What text from outside (a CA's problem document, a stored document any fleet member may write) becomes on a
// terminal: one line, without the control characters a terminal would act on (pure logic, no CA).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { stderrReporter, stylesFor, errorLines } from '../../src/cli/output.js';
import { AcmeProblemError } from '../../src/errors.js';
import { parseAccount } from '../../src/store/fs/meta.js';
import { CorruptFileError } from '../../src/store/index.js';
import { printableLine } from '../../src/text.js';

describe('error lines', () => {
  it("a CA's detail and subproblems lose their control characters and line breaks", async () => {
    const style = await stylesFor(process.stderr, { color: false }, {});
    const err = new AcmeProblemError({
      type: 'urn:ietf:params:acme:error:unauthorized',
      detail: 'refused\u001b[2J\r\nerror: forged line',
      subproblems: [{ identifier: 'a.test\u001b]8;;x\u0007', type: 'urn:ietf:params:acme:error:dns', detail: 'no\nrecord' }],
    });
    const lines = errorLines(err, style, false);
    assert.equal(lines[0], 'error: unauthorized: refused [2J error: forged line');
    assert.equal(lines[1], '  a.test ]8;;x: no record');
    assert.ok(lines.every((line) => printableLine(line) === line.trim()));
  });

  it('warnings and steps are printed as printable lines', async () => {
    const style = await stylesFor(process.stderr, { color: false }, {});
    const reporter = stderrReporter({ json: false, quiet: false, verbose: true, color: false }, style);
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write;
    try {
      reporter.warn('skipped \u001b[2Jan alternate\nchain');
      reporter.step('ordering\rx');
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(written, ['warning: skipped  [2Jan alternate chain\n', '• ordering x\n']);
  });

  it("a stored account's deactivatedAt is read only as a time, and written back in ISO form", () => {
    const account = { server: 'https://ca.test/dir', url: 'https://ca.test/acct/1', createdAt: '2026-01-01T00:00:00.000Z' };
    const read = (deactivatedAt: unknown) => parseAccount(JSON.stringify({ ...account, deactivatedAt }), 'account.json');
    assert.equal(read('2026-12-03 (\u001b[31mX)').deactivatedAt, new Date('2026-12-03').toISOString());
    assert.throws(() => read('\u001b[31mnot a time'), CorruptFileError);
    assert.throws(() => read(7), CorruptFileError);
  });
});
