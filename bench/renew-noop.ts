// No-op `certman renew` over a large store: wall time and peak RSS (targets: ≤ 1 s and ≤ 150 MB
// for 10,000 certificates on a 2-core machine). bench/compare runs a no-op renew side by side with
// certbot and lego (over copies of one real lineage).
//
//   node --import tsx bench/renew-noop.ts [count]        (default 10000; BENCH_RUNS=5)
//
// The store is built once (real X.509 certificates with expiry dates spread over 90 days, written
// through certman's own FileStore) and cached in $TMPDIR/certman-bench-<count>.
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';
import { normalizeSerial } from '../src/crypto/certificate.js';
import { openStore } from '../src/store/index.js';
import { saveLeased } from '../test/harness/store-fixtures.js';
import { cliEnv } from '../test/harness/index.js';
import { measure, median, rssMethod, type Command, type Sample } from './lib/measure.js';
import { formatMs } from './lib/report.js';

const count = Number(process.argv[2] ?? 10_000);
const runs = Number(process.env.BENCH_RUNS ?? 5);
const dir = join(tmpdir(), `certman-bench-${count}`);
const bin = fileURLToPath(new URL('../bin/certman', import.meta.url));
const DAY = 86_400_000;

async function build(): Promise<void> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const privkey = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  const store = await openStore(dir);
  const started = Date.now();
  for (let i = 0; i < count; i += 1) {
    const name = `site-${i}.bench.test`;
    // Issued over the last 60 days, 90-day lifetimes: none due yet within the spread... most not due.
    const notBefore = new Date(Date.now() - ((i * 7919) % 20) * DAY);
    const notAfter = new Date(notBefore.getTime() + 90 * DAY);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: (i + 1).toString(16).padStart(8, '0'),
      name: `CN=${name}`,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }])],
    });
    const pem = cert.toString('pem') + '\n';
    await saveLeased(
      store,
      {
        name,
        domains: [name],
        key: { type: 'ecdsa', curve: 'p256' },
        reuseKey: false,
        method: { kind: 'standalone', port: 80 },
        server: 'https://acme.bench.invalid/directory',
        accountUrl: 'https://acme.bench.invalid/acct/1',
        serial: normalizeSerial(cert.serialNumber),
        notBefore: notBefore.toISOString(),
        notAfter: notAfter.toISOString(),
      },
      { cert: pem, chain: pem, fullchain: pem + pem, privkey },
    );
    if (i % 1000 === 999) process.stderr.write(`built ${i + 1}/${count} (${Math.round((Date.now() - started) / 1000)} s)\n`);
  }
}

if (!existsSync(join(dir, 'renewal'))) {
  process.stderr.write(`building a store of ${count} certificates in ${dir}\n`);
  await build();
}
const renew: Command = { cmd: process.execPath, args: [bin, '--config-dir', dir, 'renew', '-q', '--no-random-sleep'], env: cliEnv() };
const results: Sample[] = [];
for (let run = 0; run < runs; run += 1) results.push(await measure(renew));
const failed = results.find((r) => r.code !== 0);
if (failed !== undefined) throw new Error(`certman renew exited ${failed.code}:\n${failed.output}`);
const rss = results.flatMap((r) => (r.rssKb === undefined ? [] : [r.rssKb / 1024]));
console.log(`no-op renew over ${count} certificates, median of ${runs} runs (peak RSS: ${rssMethod()})`);
console.log(`certman  ${formatMs(median(results.map((r) => r.ms))).padStart(9)}  ${rss.length === 0 ? 'n/a' : median(rss).toFixed(0).padStart(4)} MiB peak RSS`);
