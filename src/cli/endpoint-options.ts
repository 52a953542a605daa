/**
 * `--endpoint host[:port]` (repeatable, comma-separated too), for `issue` (stored with the certificate) and `check`
 * (this run only). Each value is checked as it is parsed, so a bad one is exit 2 before anything is opened.
 */
import { Option } from 'commander';
import { UsageError } from '../errors.js';
import { parseEndpoint } from '../served/endpoint.js';
import { formatEndpoint } from '../served/probe.js';

/** `--endpoint`, with what it is for in this command. */
export function endpointOption(description: string): Option {
  return new Option('--endpoint <host[:port]>', description).argParser(collectEndpoints).default([]);
}

/**
 * The endpoints given so far and `value`'s, each in its one spelling (`host:port`, IPv6 in brackets), without repeats.
 * After `--no-endpoint` (false) the list starts again: the last flag wins, as with --profile and --no-profile.
 */
function collectEndpoints(value: string, previous: string[] | false = []): string[] {
  const given = value.split(',').map((piece) => piece.trim()).filter((piece) => piece !== '');
  if (given.length === 0) throw new UsageError('--endpoint must not be empty');
  const spelled = given.map((piece) => formatEndpoint(parseEndpoint(piece)));
  return [...new Set([...(previous === false ? [] : previous), ...spelled])];
}
