// What a CA's problem document becomes on a terminal: its text comes from outside, so it is printed on one line
// without the control characters a terminal would act on (pure logic, no CA).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { stylesFor, errorLines } from '../../src/cli/output.js';
import { AcmeProblemError } from '../../src/errors.js';
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
});
