import { ExitCode, UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import type { CommandResult } from '../result.js';

/** `certman store rotate-key`: see commands/store.ts and src/store/redis/rekey.ts. */
export async function rotateKey(ctx: CliContext): Promise<CommandResult> {
  const { isNetworkStore } = await import('../../config/store-location.js');
  if (!isNetworkStore(ctx.settings.store)) {
    throw new UsageError('a folder store seals nothing: only a Redis store has a store key to rotate', 'certman --store redis://host:port store rotate-key');
  }
  const store = await ctx.openStore();
  if (store.rotateKey === undefined) throw new UsageError(`the store ${store.location} has no store key to rotate`);
  const result = await store.rotateKey();
  const { privateKeys, accounts, keyCheck } = result;
  return {
    ...(result.unopened.length === 0 ? {} : { exitCode: ExitCode.FAILURE }),
    json: result,
    human: (s) => [
      `${s.ok('Sealed')} under store key ${result.keyId}:`,
      `  certificate keys: ${privateKeys.resealed} sealed again, ${privateKeys.current} already (${result.lineages} certificate${result.lineages === 1 ? '' : 's'})`,
      `  account keys:     ${accounts.resealed} sealed again, ${accounts.current} already`,
      `  key check:        ${keyCheck.resealed + keyCheck.current === 0 ? 'none yet' : keyCheck.resealed === 1 ? 'sealed again' : 'already'}`,
      ...(result.unopened.length === 0
        ? [s.dim('Every blob is under the first key now: the other keys can be removed from every node.')]
        : [s.bad(`${result.unopened.length} sealed under a key not given, left as they were: ${result.unopened.join(', ')}`), 'give every key the store was written with (one per line) and run it again']),
    ],
  };
}
