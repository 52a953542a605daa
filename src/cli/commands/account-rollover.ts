import { describeKeySpec } from '../../crypto/keys.js';
import { UsageError } from '../../errors.js';
import type { KeySpec } from '../../lineage/types.js';
import { accountDeps } from '../account-setup.js';
import type { CliContext } from '../context.js';
import type { Store } from '../../store/index.js';
import type { CommandResult } from '../result.js';
import { accountJson } from './account-show.js';

export interface RolloverFlags {
  keyType?: 'ecdsa' | 'rsa';
  ellipticCurve?: 'p256' | 'p384';
  rsaKeySize?: '2048' | '3072' | '4096';
  discardPending?: boolean;
}

/** `certman account rollover`. */
export async function rollover(options: RolloverFlags, ctx: CliContext): Promise<CommandResult> {
  const key = newKeySpec(options);
  const store = await ctx.openStore();
  if (options.discardPending === true) return discardPending(ctx, store);
  const { rolloverAccountKey } = await import('../../registration/rollover.js');
  const { account, key: spec } = await rolloverAccountKey(ctx.settings.server, key, accountDeps(ctx, store));
  return {
    json: { status: 'rolled-over', account: accountJson(account) },
    human: (s) => [`${s.ok('Account key replaced')}: ${account.url}`, `  key: ${describeKeySpec(spec)} (stored 0600, never shown)`],
  };
}

/** `certman account rollover --discard-pending`: the pending key goes once the CA confirmed the stored key. */
async function discardPending(ctx: CliContext, store: Store): Promise<CommandResult> {
  const { discardPendingKey } = await import('../../registration/rollover.js');
  const account = await discardPendingKey(ctx.settings.server, accountDeps(ctx, store));
  if (account === undefined) return { json: { status: 'nothing-pending' }, human: () => ['No unfinished key rollover: nothing changed.'] };
  return {
    json: { status: 'discarded', account: accountJson(account) },
    human: (s) => [`${s.ok('Pending key discarded')}: the CA holds the stored key of ${account.url}`],
  };
}

/** The new key's type from the flags; undefined keeps the old key's type. */
function newKeySpec(options: RolloverFlags): KeySpec | undefined {
  const type = options.keyType ?? (options.rsaKeySize !== undefined ? 'rsa' : options.ellipticCurve !== undefined ? 'ecdsa' : undefined);
  if (type === undefined) return undefined;
  if (type === 'rsa') {
    if (options.ellipticCurve !== undefined) throw new UsageError('--elliptic-curve goes with --key-type ecdsa');
    return { type: 'rsa', bits: Number(options.rsaKeySize ?? '2048') as 2048 | 3072 | 4096 };
  }
  if (options.rsaKeySize !== undefined) throw new UsageError('--rsa-key-size goes with --key-type rsa');
  return { type: 'ecdsa', curve: options.ellipticCurve ?? 'p256' };
}
