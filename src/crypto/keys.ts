import { createPrivateKey, generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeySpec } from '../lineage/types.js';

const generateKeyPair = promisify(generateKeyPairCb);

const CURVES = { p256: 'P-256', p384: 'P-384' } as const;

/** A new private key as PKCS#8 PEM. Uses Node's native crypto: fast and no extra dependency. */
export async function generatePrivateKey(spec: KeySpec): Promise<string> {
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  const pair =
    spec.type === 'ecdsa'
      ? await generateKeyPair('ec', { namedCurve: CURVES[spec.curve], privateKeyEncoding, publicKeyEncoding })
      : await generateKeyPair('rsa', { modulusLength: spec.bits, privateKeyEncoding, publicKeyEncoding });
  return pair.privateKey;
}

/** The key spec of an existing private key, to tell whether `--reuse-key` can keep it. */
export function keySpecOfPem(pem: string): KeySpec | undefined {
  const key = createPrivateKey(pem);
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return { type: 'ecdsa', curve: 'p256' };
    if (details?.namedCurve === 'secp384r1') return { type: 'ecdsa', curve: 'p384' };
    return undefined;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength;
    if (bits === 2048 || bits === 3072 || bits === 4096) return { type: 'rsa', bits };
  }
  return undefined;
}

export function sameKeySpec(a: KeySpec, b: KeySpec): boolean {
  return a.type === 'ecdsa' ? b.type === 'ecdsa' && a.curve === b.curve : b.type === 'rsa' && a.bits === b.bits;
}

export function describeKeySpec(spec: KeySpec): string {
  return spec.type === 'ecdsa' ? `ECDSA ${CURVES[spec.curve]}` : `RSA ${spec.bits}`;
}
