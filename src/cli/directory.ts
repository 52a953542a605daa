import type { DirectoryMeta } from '../acme/types.js';
import type { CliContext } from './context.js';

/**
 * The `meta` of a CA's directory (no account needed), or undefined when the CA cannot be reached:
 * callers fall back to a default, and the order or registration itself reports a dead server.
 */
export async function directoryMeta(ctx: CliContext, server: string): Promise<DirectoryMeta | undefined> {
  try {
    const { generatePrivateKey } = await import('../crypto/keys.js');
    const client = await ctx.connect({ server, accountKeyPem: await generatePrivateKey({ type: 'ecdsa', curve: 'p256' }) });
    const meta = await client.meta();
    // The directory is the CA's JSON: keep only a list of strings.
    const ids: unknown = meta.caaIdentities;
    return { ...meta, caaIdentities: Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [] };
  } catch {
    return undefined;
  }
}
