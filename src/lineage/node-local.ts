/**
 * What each host decides for itself and a store other hosts may share never holds: the commands it runs (hooks)
 * and where it answers challenges (webroot folder, standalone port and address) or copies files (--cert-path…). Whoever can write a shared store
 * must not choose the commands or paths of every host, so for such a store these come from the host's own config.
 */
import { isAbsolute } from 'node:path';
import { CertmanError } from '../errors.js';
import type { CertificateMeta, ChallengeMethod, CopyPaths, HookCommands, NewCertificate } from './types.js';

/** This host's own settings (its config file and flags). */
export interface NodeSettings {
  hooks: HookCommands;
  webroot?: string;
  httpPort: number;
  httpAddress?: string;
}

/** What may be stored of a new certificate in a shared store: no hooks, copy paths or endpoints, and of its method only the kind. */
export function withoutNodeLocal(meta: NewCertificate): NewCertificate {
  const { hooks: _hooks, copyTo: _copyTo, endpoints: _endpoints, ...rest } = meta;
  return { ...rest, method: { kind: meta.method.kind } };
}

/**
 * The method this host uses for a stored lineage. From a shared store only the kind counts and this host's
 * settings give the rest; from its own config dir, what was stored wins, this host's settings fill any gap
 * (a lineage moved in from a shared store). A webroot lineage on a host without a webroot cannot be renewed.
 */
export function methodOnThisNode(meta: Pick<CertificateMeta, 'name' | 'method'>, node: NodeSettings, shared: boolean): ChallengeMethod {
  const stored = meta.method;
  switch (stored.kind) {
    case 'responder':
      return { kind: 'responder' };
    case 'standalone': {
      if (!shared && stored.port !== undefined) return { kind: 'standalone', port: stored.port, ...(stored.address === undefined ? {} : { address: stored.address }) };
      return { kind: 'standalone', port: node.httpPort, ...(node.httpAddress === undefined ? {} : { address: node.httpAddress }) };
    }
    case 'webroot': {
      const webroot = (shared ? undefined : stored.webroot) ?? node.webroot;
      // The per-name folders are as node-local as the folder: from a shared store only this host's webroot counts.
      const webroots = shared ? undefined : stored.webroots;
      if (webroot !== undefined) return { kind: 'webroot', webroot, ...(webroots === undefined ? {} : { webroots }) };
      throw new CertmanError(`${meta.name} answers challenges through a webroot, and this host has none: the store keeps no host's folders`, {
        hint: 'set "webroot" in this host\'s config file',
      });
    }
  }
}

/** Why a stored method cannot be used, or undefined (store metadata checks). */
export function storedMethodProblem(value: Record<string, unknown>): string | undefined {
  switch (value.kind) {
    case 'responder':
      return undefined;
    case 'webroot':
      if (!(value.webroot === undefined || (typeof value.webroot === 'string' && value.webroot !== ''))) return '"method.webroot" must be a folder';
      return value.webroots === undefined || isFolderMap(value.webroots) ? undefined : '"method.webroots" must map names to absolute folders';
    case 'standalone': {
      const port = value.port;
      if (port !== undefined && !(typeof port === 'number' && Number.isInteger(port) && port >= 1 && port <= 65535)) return '"method.port" must be a port number';
      return value.address === undefined || typeof value.address === 'string' ? undefined : '"method.address" must be a string';
    }
    default:
      return '"method.kind" must be "webroot", "standalone" or "responder"';
  }
}

function isFolderMap(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((dir) => typeof dir === 'string' && isAbsolute(dir));
}

/** Where this host checks a lineage is served: from its own config dir what was stored, from a shared store nothing (its config gives them). */
export function endpointsOnThisNode(meta: Pick<CertificateMeta, 'endpoints'>, shared: boolean): string[] | undefined {
  return shared ? undefined : meta.endpoints;
}

/** Where this host copies a lineage's files: from its own config dir what was stored, from a shared store nothing. */
export function copyPathsOnThisNode(meta: Pick<CertificateMeta, 'copyTo'>, shared: boolean): CopyPaths | undefined {
  return shared ? undefined : meta.copyTo;
}
