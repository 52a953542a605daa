// A throwaway CA and a TLS listener certificate it signed, for localhost / 127.0.0.1 / ::1, made with openssl in a
// test's temp dir: Pebble's listener (pebble.ts) and a TLS redis-server (redis.ts) present it.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { which } from './proc.js';

const execFileP = promisify(execFile);

/** Makes a throwaway CA and a listener certificate for localhost / 127.0.0.1 / ::1. */
export async function makeListenerCert(dir: string): Promise<{ caFile: string; certFile: string; keyFile: string }> {
  const caKey = join(dir, 'listener-ca.key');
  const caFile = join(dir, 'listener-ca.pem');
  const keyFile = join(dir, 'listener.key');
  const csrFile = join(dir, 'listener.csr');
  const certFile = join(dir, 'listener.pem');
  const extFile = join(dir, 'listener.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const openssl = which('openssl');
  if (openssl === undefined) throw new Error('openssl is not installed: apt-get install openssl');
  const run = async (args: string[]): Promise<void> => {
    try {
      await execFileP(openssl, args, { cwd: dir });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`openssl ${args[0] ?? ''} failed: ${e.stderr ?? e.message}`);
    }
  };
  await run([
    'req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '7',
    '-subj', '/CN=certman test listener CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run(['req', '-new', ...ec, '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=localhost']);
  await writeFile(
    extFile,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
      '',
    ].join('\n'),
  );
  await run([
    'x509', '-req', '-in', csrFile, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial',
    '-out', certFile, '-days', '7', '-extfile', extFile,
  ]);
  return { caFile, certFile, keyFile };
}
