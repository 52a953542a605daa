import { existsSync } from 'node:fs';
import { ExitCode, UsageError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { leaseLength } from '../lease.js';
import type { CommandResult } from '../result.js';

/** How long a lineage waits for a run holding its lease in the target. */
const LEASE_WAIT_MS = 2 * 60_000;

export interface MigrateFlags {
  from: string;
  to: string;
  fromPrefix?: string;
  toPrefix?: string;
}

/** `certman store migrate --from --to`: see commands/store.ts and src/store/migrate/. */
export async function migrate(options: MigrateFlags, ctx: CliContext): Promise<CommandResult> {
  const [{ checkStorePrefix, isNetworkStore, resolveStoreLocation, storeIsConfigDir }, { migrateStore }] = await Promise.all([
    import('../../config/store-location.js'),
    import('../../store/migrate/index.js'),
  ]);
  const from = resolveStoreLocation(options.from, process.cwd(), '--from');
  const to = resolveStoreLocation(options.to, process.cwd(), '--to');
  const fromPrefix = options.fromPrefix === undefined ? ctx.settings.storePrefix : checkStorePrefix(options.fromPrefix);
  const toPrefix = options.toPrefix === undefined ? ctx.settings.storePrefix : checkStorePrefix(options.toPrefix);
  if (from === to && (!isNetworkStore(from) || (fromPrefix ?? '') === (toPrefix ?? ''))) throw new UsageError('--from and --to name the same store');
  if (!isNetworkStore(from) && !existsSync(from)) throw new UsageError(`--from: there is no store folder ${from}`);
  // Only the config dir is this host's own: hooks and folders go into no other store (other hosts may read it and
  // run what it says), and none come from another (whoever can write it must not choose what this host runs).
  const shared = (store: string) => !storeIsConfigDir({ store, configDir: ctx.settings.configDir });
  const dropNodeLocal = shared(from) || shared(to);
  const source = await ctx.openStoreAt(from, { readOnly: true, ...(fromPrefix === undefined ? {} : { prefix: fromPrefix }) });
  const target = await ctx.openStoreAt(to, { readOnly: false, ...(toPrefix === undefined ? {} : { prefix: toPrefix }) });
  const result = await migrateStore(source, target, { dropNodeLocal, leaseWaitMs: LEASE_WAIT_MS, ...leaseLength(ctx), report: ctx.report });
  const dropped = result.certificates.filter((c) => c.droppedNodeLocal).map((c) => c.name);
  return {
    ...(result.ok ? {} : { exitCode: ExitCode.FAILURE }),
    json: { from: source.location, to: target.location, ...result, nodeLocalDropped: dropped },
    human: (s) => [
      ...result.certificates.map((c) =>
        c.verified
          ? `${s.ok('✓')} ${c.name}  serial ${c.serial ?? '?'}  ${c.status === 'present' ? 'already there, identical' : `copied, ${c.versions} version${c.versions === 1 ? '' : 's'}`}, verified`
          : `${s.bad('✗')} ${c.name}: ${c.problem ?? 'not verified'}`,
      ),
      `${result.accounts.length} account${result.accounts.length === 1 ? '' : 's'}: ${result.accounts.filter((a) => a.status === 'copied').length} copied, ${result.accounts.filter((a) => a.status === 'present').length} already there`,
      ...(dropped.length === 0
        ? []
        : [s.warn(`not copied: the hooks, webroot, port and address of ${dropped.join(', ')}: ${target.location} may be shared, so each host's own config gives them`)]),
      result.ok ? `${s.ok('Migrated')} ${source.location} → ${target.location}` : s.bad(`Migration from ${source.location} incomplete: see the certificates marked ✗`),
    ],
  };
}
