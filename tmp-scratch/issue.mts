import { startPebble } from '/work/main/test/harness/pebble.ts';
import acme from 'acme-client';
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
const p = await startPebble({ nonceRejectPercent: 5 });
try { console.log("started"); acme.setLogger((m: string) => console.log(m));
acme.axios.defaults.httpsAgent = new https.Agent({ ca: readFileSync(p.caFile) });
const tokens = new Map<string,string>();
const srv = http.createServer((req, res) => { const t = req.url!.split('/').pop()!; res.end(tokens.get(t) ?? ''); }).listen(p.httpPort, '127.0.0.1');
const client = new acme.Client({ directoryUrl: p.directoryUrl, accountKey: await acme.crypto.createPrivateKey(), backoffMin: 100, backoffMax: 500 });
const name = 'x-' + Date.now() + '.certman.test';
const [, csr] = await acme.crypto.createCsr({ commonName: name });
const cert = await client.auto({ csr, termsOfServiceAgreed: true, challengePriority: ['http-01'],
  challengeCreateFn: async (_a, c, k) => { tokens.set((c as any).token, k); }, challengeRemoveFn: async () => {} });
const x = new X509Certificate(cert);
console.log('serial', x.serialNumber, await p.certStatus(x.serialNumber));
await client.revokeCertificate(cert, { reason: 4 });
console.log('after revoke', await p.certStatus(x.serialNumber), await p.certStatus('00' + x.serialNumber));
console.log('validations', p.validationsFor(name));
console.log(p.log().split('\n').filter(l => l.includes('Pulled')).join('\n'));
srv.close();
} finally { await p.stop(); }
