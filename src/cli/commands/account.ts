import { Option, type Command } from 'commander';
import type { Runner } from '../program.js';
import type { RolloverFlags } from './account-rollover.js';
import type { DeactivateFlags } from './account-deactivate.js';

const ROLLOVER_HELP = `
The new key is kept as a pending key until the CA has taken it, so an interruption at any moment loses
nothing: the next command that uses the account finds out from the CA which key it holds.

Example:
  certman account rollover
  certman account rollover --key-type ecdsa --elliptic-curve p384
  certman account rollover --discard-pending   # a pending key that cannot be settled`;

const DEACTIVATE_HELP = `
The CA accepts nothing signed by a deactivated account, for good (certificates already issued stay valid).
certman keeps it marked as deactivated; "certman register" then makes a new account.

Example:
  certman account deactivate --yes`;

/** `certman account …`: the ACME account of the server (RFC 8555 §7.3). Bare `certman account` prints the stored one. */
export function defineAccount(program: Command, run: Runner): void {
  const account = program
    .command('account')
    .description('the ACME account for the server: print the stored one (same as register --show); show, rollover, deactivate')
    .action(run(async (_options: object, ctx) => (await import('./account-show.js')).showStoredAccount(ctx)));
  account
    .command('show')
    .description("print the stored account and the CA's view of it: status and contact (never the key)")
    .action(run(async (options: object, ctx) => (await import('./account-show.js')).showAccount(options, ctx)));
  account
    .command('rollover')
    .description("replace the account's key with a new one (RFC 8555 key change); the new key is stored once the CA took it")
    .addOption(new Option('--key-type <type>', 'type of the new key (default: that of the old one)').choices(['ecdsa', 'rsa']))
    .addOption(new Option('--elliptic-curve <curve>', 'ECDSA curve of the new key').choices(['p256', 'p384']))
    .addOption(new Option('--rsa-key-size <bits>', 'RSA size of the new key').choices(['2048', '3072', '4096']))
    .addOption(
      new Option('--discard-pending', 'no new key: drop the pending key of an unfinished rollover, once the CA confirms it holds the stored key').conflicts([
        'keyType',
        'ellipticCurve',
        'rsaKeySize',
      ]),
    )
    .addHelpText('after', ROLLOVER_HELP)
    .action(run(async (options: RolloverFlags, ctx) => (await import('./account-rollover.js')).rollover(options, ctx)));
  account
    .command('deactivate')
    .description('deactivate the account at the CA for good (asks first at a terminal)')
    .option('-y, --yes', 'do not ask (scripts); without a terminal it is required')
    .addHelpText('after', DEACTIVATE_HELP)
    .action(run(async (options: DeactivateFlags, ctx) => (await import('./account-deactivate.js')).deactivate(options, ctx)));
}
