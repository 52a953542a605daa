import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { storeMetricsOptions } from '../metrics-options.js';
import { nonEmpty } from '../parse.js';
import type { Runner } from '../program.js';
import type { CommandResult } from '../result.js';

interface MetricsOptions {
  output?: string;
}

const HELP = `
Prints the store's certificates as Prometheus metrics (text format 0.0.4): expiry, due time and reason, the last
renewal attempt, failed renewals and backoff, what the CA budget defers, what the endpoints served at the last
\`certman check\`, the CA budget in use, counts by status. Only reads the store; connects to nothing.

Examples:
  certman metrics                                                     # print them
  certman metrics --output /var/lib/node_exporter/textfile_collector/certman.prom   # for node_exporter
  certman serve-challenge --metrics-address 127.0.0.1:9402            # the same, scraped over HTTP`;

export function defineMetrics(program: Command, run: Runner): void {
  const version = program.version() ?? 'unknown';
  program
    .command('metrics')
    .description("print the store's certificates as Prometheus metrics, or write them atomically to a file for node_exporter")
    .option('--output <file>', 'write them to this file (replaced atomically: a reader never sees half of it) instead of stdout', nonEmpty('--output'))
    .addHelpText('after', HELP)
    .action(run((options: MetricsOptions, ctx: CliContext) => metrics(options, ctx, version)));
}

async function metrics(options: MetricsOptions, ctx: CliContext, version: string): Promise<CommandResult> {
  const { storeText } = await import('../../metrics/store-text.js');
  // Like `certificates`: a monitoring account that may only read the store gets the same answer.
  const store = await ctx.openStoreReadOnly();
  const text = await storeText(store, storeMetricsOptions(ctx.settings, ctx.now), version);
  if (options.output === undefined) return { json: { text }, human: () => text.slice(0, -1).split('\n') };
  const { writeMetricsFile } = await import('../../metrics/output.js');
  const file = await writeMetricsFile(options.output, text);
  return { json: { output: file }, human: () => [] };
}
