import type { Command } from 'commander';
import { nonEmpty } from '../parse.js';
import type { Runner } from '../program.js';
import type { MigrateFlags } from './store-migrate.js';

const ROTATE_HELP = `
A rotation without downtime:
  1. give every node the key file "NEW" then "OLD", one per line (the first seals, both open)
  2. run "certman store rotate-key" once, on one node: every private key is sealed again under NEW
  3. remove OLD from every node's key file
A node given only OLD is refused once step 2 has begun; a folder store seals nothing (exit 2).`;

const MIGRATE_HELP = `
Copies every certificate (with every version the source keeps) and every account; leases, pending
challenge tokens and state (failure budget, rate-limit pauses) are not copied. A certificate or account
the target already holds is left alone when identical and refused otherwise (nothing is written then).
Into a store other hosts may share (Redis, a folder that is not the config dir), hooks, webroots, ports
and addresses stay behind. Every certificate is read back from the target and checked; exit 1 when one
differs. Redis sides use the store key settings; between two Redis stores with different keys, give the
target's key first and the source's second.

Examples:
  certman store migrate --from /etc/certman --to redis://10.0.0.5:6379/0
  certman store migrate --from redis://10.0.0.5:6379/0 --to /srv/certman-backup
  certman store migrate --from redis://10.0.0.5/0 --from-prefix a: --to redis://10.0.0.5/0 --to-prefix b:`;

/** `certman store …`: operations on the store as a whole. */
export function defineStore(program: Command, run: Runner): void {
  const store = program.command('store').description('operations on the whole store: migrate it, rotate its store key');
  store
    .command('migrate')
    .description('copy every certificate and account from one store to another (folder or Redis), then verify each certificate there')
    .requiredOption('--from <dir|url>', 'the store to copy from: a folder, file: URL or redis:// URL')
    .requiredOption('--to <dir|url>', 'the store to copy into: a folder, file: URL or redis:// URL')
    .option('--from-prefix <prefix>', 'key prefix of a Redis source (default: the store prefix setting, certman:)', nonEmpty('--from-prefix'))
    .option('--to-prefix <prefix>', 'key prefix of a Redis target (default: the store prefix setting, certman:)', nonEmpty('--to-prefix'))
    .addHelpText('after', MIGRATE_HELP)
    .action(run(async (options: MigrateFlags, ctx) => (await import('./store-migrate.js')).migrate(options, ctx)));
  store
    .command('rotate-key')
    .description("seal every private key in a Redis store again under the first store key given (the store keeps working)")
    .addHelpText('after', ROTATE_HELP)
    .action(run(async (_options: object, ctx) => (await import('./store-rotate-key.js')).rotateKey(ctx)));
}
