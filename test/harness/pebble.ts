// Starts a private Pebble ACME server plus pebble-challtestsrv (its mock DNS)
// on free loopback ports, for end-to-end tests and the demo.
import { readFile, writeFile } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { join } from 'node:path';

import { httpRequestText } from './http.js';
import { freePorts } from './ports.js';
import { sleep, spawnLogged, tail, which, type Spawned } from './proc.js';
import { removeTempDir, tempDir } from './tmp.js';
import { makeListenerCert } from './listener-cert.js';

export interface PebbleOptions {
  /** Port Pebble's VA connects to for HTTP-01 (on the address DNS answers: 127.0.0.1). Default: a free port. */
  httpPort?: number;
  /** Percentage of nonces rejected with badNonce (PEBBLE_WFE_NONCEREJECT). Default 0; Pebble's own default is 5. */
  nonceRejectPercent?: number;
  /** certificateValidityPeriod in seconds. Default: unset (Pebble's 5 years). */
  validitySeconds?: number;
  /** Require external account binding with these key ids → base64url HMAC keys. */
  eabKeys?: Record<string, string>;
  /** Percentage of valid authorizations reused (PEBBLE_AUTHZREUSE). Default 0. */
  authzReusePercent?: number;
  /** Extra environment for pebble (e.g. PEBBLE_VA_ALWAYS_VALID, PEBBLE_CHAIN_LENGTH). */
  env?: Record<string, string>;
  /** How long to wait for both servers to answer. Default 10 000 ms. */
  startTimeoutMs?: number;
}

export interface PebbleEnv {
  /** https://127.0.0.1:<port>/dir */
  directoryUrl: string;
  /** Path of the PEM file of the CA that signed Pebble's HTTPS listener certificate. */
  caFile: string;
  /** Port Pebble validates HTTP-01 challenges on. */
  httpPort: number;
  /** Port Pebble validates TLS-ALPN-01 challenges on. */
  tlsPort: number;
  /** challtestsrv's DNS port (UDP and TCP on 127.0.0.1), which Pebble uses as its resolver. */
  dnsPort: number;
  /** Pebble's management API base URL (https, same CA), e.g. https://127.0.0.1:<port> */
  managementUrl: string;
  /** challtestsrv's management API base URL (plain http). */
  challtestsrvUrl: string;
  /** The temp dir holding config, certificates and logs (removed by stop()). */
  dir: string;
  /** PIDs of the processes this environment started. */
  pids: { pebble: number; challtestsrv: number };
  /** Status of a certificate issued by this Pebble: 'Valid', 'Revoked', or whatever Pebble says. */
  certStatus(serialHex: string): Promise<'Valid' | 'Revoked' | string>;
  /** PEM of Pebble's (per-run) root CA, which signs issued chains. */
  rootPem(): Promise<string>;
  /** PEM of Pebble's intermediate CA. */
  intermediatePem(): Promise<string>;
  /** Pebble's log so far. */
  log(): string;
  /** challtestsrv's log so far. */
  challtestsrvLog(): string;
  /** How many validation tasks Pebble has pulled for this identifier value. */
  validationsFor(name: string): number;
  /** Mock DNS overrides (challtestsrv management API). */
  addA(host: string, ip: string | string[]): Promise<void>;
  clearA(host: string): Promise<void>;
  addAAAA(host: string, ip: string | string[]): Promise<void>;
  clearAAAA(host: string): Promise<void>;
  setCname(host: string, target: string): Promise<void>;
  clearCname(host: string): Promise<void>;
  setTxt(host: string, value: string): Promise<void>;
  clearTxt(host: string): Promise<void>;
  addCaa(host: string, policies: { tag: string; value: string }[]): Promise<void>;
  clearCaa(host: string): Promise<void>;
  setServfail(host: string): Promise<void>;
  clearServfail(host: string): Promise<void>;
  setDefaultIPv4(ip: string): Promise<void>;
  /**
   * Stops Pebble and starts it again with the same ports, listener certificate and settings, so URLs a
   * client holds keep working (challtestsrv keeps running). Like any Pebble restart, it forgets every
   * account, order and nonce, and makes a new root and intermediate. Its log goes on in the same file.
   */
  restart(): Promise<void>;
  /** Stops both processes (waiting for them to exit) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const MISSING = 'pebble is not installed: apt-get install pebble (or run: bash scripts/ensure-deps.sh pebble)';

function requireBinaries(): { pebble: string; challtestsrv: string } {
  const pebble = which('pebble');
  const challtestsrv = which('pebble-challtestsrv');
  if (pebble === undefined || challtestsrv === undefined) throw new Error(MISSING);
  return { pebble, challtestsrv };
}

function tcpAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function dnsAnswers(port: number): Promise<boolean> {
  const resolver = new Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  try {
    await resolver.resolve4('ready.certman.test');
    return true;
  } catch {
    return false;
  }
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
  }
}

const PORT_CLASH = /address already in use/i;

/** Starts Pebble and challtestsrv; see PebbleOptions for the knobs. */
export async function startPebble(options: PebbleOptions = {}): Promise<PebbleEnv> {
  const bins = requireBinaries();
  // A free port can be taken by someone else between our probe and the
  // server's bind; retry with fresh ports when that is what went wrong.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(bins, options);
    } catch (err) {
      if (err instanceof StartError && err.portClash && attempt < 3) continue;
      throw err;
    }
  }
}

async function startOnce(
  bins: { pebble: string; challtestsrv: string },
  options: PebbleOptions,
): Promise<PebbleEnv> {
  const dir = await tempDir('pebble');
  const procs: Spawned[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
    await removeTempDir(dir);
  };
  try {
    const { caFile, certFile, keyFile } = await makeListenerCert(dir);
    const [listenPort, mgmtPort, tlsPort, dnsPort, ctsMgmtPort, autoHttpPort] = (await freePorts(6)) as [
      number, number, number, number, number, number,
    ];
    const httpPort = options.httpPort ?? autoHttpPort;

    const pebbleConfig: Record<string, unknown> = {
      listenAddress: `127.0.0.1:${listenPort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: certFile,
      privateKey: keyFile,
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: options.eabKeys !== undefined,
      ...(options.eabKeys === undefined ? {} : { externalAccountMACKeys: options.eabKeys }),
    };
    if (options.validitySeconds !== undefined) pebbleConfig.certificateValidityPeriod = options.validitySeconds;
    const configFile = join(dir, 'pebble-config.json');
    await writeFile(configFile, JSON.stringify({ pebble: pebbleConfig }, null, 2) + '\n');

    const challtestsrv = spawnLogged(
      bins.challtestsrv,
      [
        '-defaultIPv4', '127.0.0.1',
        '-defaultIPv6', '',
        '-dns01', `127.0.0.1:${dnsPort}`,
        '-http01', '',
        '-https01', '',
        '-tlsalpn01', '',
        '-management', `127.0.0.1:${ctsMgmtPort}`,
      ],
      join(dir, 'challtestsrv.log'),
      { cwd: dir },
    );
    procs.push(challtestsrv);

    const spawnPebble = (): Spawned =>
      spawnLogged(bins.pebble, ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`], join(dir, 'pebble.log'), {
        cwd: dir,
        env: {
          ...process.env,
          PEBBLE_VA_NOSLEEP: '1',
          PEBBLE_WFE_NONCEREJECT: String(options.nonceRejectPercent ?? 0),
          PEBBLE_AUTHZREUSE: String(options.authzReusePercent ?? 0),
          ...options.env,
        },
      });
    let pebble = spawnPebble();
    const pebbleSlot = procs.push(pebble) - 1;

    const caPem = await readFile(caFile, 'utf8');
    const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
    const managementUrl = `https://127.0.0.1:${mgmtPort}`;
    const challtestsrvUrl = `http://127.0.0.1:${ctsMgmtPort}`;

    const describe = (why: string): StartError => {
      const logs = `--- pebble log (tail) ---\n${tail(pebble.log())}\n--- pebble-challtestsrv log (tail) ---\n${tail(challtestsrv.log())}`;
      return new StartError(`Pebble did not start: ${why}\n${logs}`, PORT_CLASH.test(logs));
    };

    const directoryAnswers = async (): Promise<boolean> => {
      try {
        const res = await httpRequestText(directoryUrl, { ca: caPem, timeoutMs: 1000 });
        return res.status === 200 && res.body.includes('newOrder');
      } catch {
        return false;
      }
    };
    const startTimeoutMs = options.startTimeoutMs ?? 10_000;
    const deadline = Date.now() + startTimeoutMs;
    let dirOk = false;
    let dnsOk = false;
    let ctsOk = false;
    for (;;) {
      if (!pebble.running()) throw describe(`pebble exited (code ${String(pebble.child.exitCode)})`);
      if (!challtestsrv.running()) throw describe(`pebble-challtestsrv exited (code ${String(challtestsrv.child.exitCode)})`);
      if (!dirOk) dirOk = await directoryAnswers();
      if (!dnsOk) dnsOk = await dnsAnswers(dnsPort);
      if (!ctsOk) ctsOk = await tcpAnswers(ctsMgmtPort);
      if (dirOk && dnsOk && ctsOk) break;
      if (Date.now() > deadline) {
        const waiting = [!dirOk && `directory ${directoryUrl}`, !dnsOk && `DNS 127.0.0.1:${dnsPort}`, !ctsOk && `challtestsrv ${challtestsrvUrl}`]
          .filter(Boolean)
          .join(', ');
        throw describe(`no answer within ${startTimeoutMs} ms from ${waiting}`);
      }
      await sleep(50);
    }

    const restart = async (): Promise<void> => {
      await pebble.stop();
      pebble = spawnPebble();
      procs[pebbleSlot] = pebble;
      env.pids.pebble = pebble.pid;
      const until = Date.now() + 2 * startTimeoutMs;
      while (!(await directoryAnswers())) {
        if (!pebble.running()) throw new Error(`pebble exited on restart (code ${String(pebble.child.exitCode)})\n${tail(pebble.log())}`);
        if (Date.now() > until) throw new Error(`pebble did not answer within ${2 * startTimeoutMs} ms of its restart\n${tail(pebble.log())}`);
        await sleep(50);
      }
    };

    const mgmtGet = async (path: string): Promise<string> => {
      const res = await httpRequestText(`${managementUrl}${path}`, { ca: caPem });
      if (res.status !== 200) throw new Error(`GET ${managementUrl}${path}: HTTP ${res.status} ${res.body}`);
      return res.body;
    };
    const cts = async (path: string, body: object): Promise<void> => {
      const res = await httpRequestText(`${challtestsrvUrl}${path}`, { method: 'POST', body });
      if (res.status !== 200) throw new Error(`POST ${challtestsrvUrl}${path}: HTTP ${res.status} ${res.body}`);
    };
    const list = (ip: string | string[]): string[] => (Array.isArray(ip) ? ip : [ip]);
    // challtestsrv matches some record kinds (TXT) only on fully qualified names.
    const fq = (host: string): string => (host.endsWith('.') ? host : `${host}.`);

    let stopping: Promise<void> | undefined;
    const env: PebbleEnv = {
      directoryUrl,
      caFile,
      httpPort,
      tlsPort,
      dnsPort,
      managementUrl,
      challtestsrvUrl,
      dir,
      pids: { pebble: pebble.pid, challtestsrv: challtestsrv.pid },
      async certStatus(serialHex: string): Promise<string> {
        const serial = serialHex.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
        const res = await httpRequestText(`${managementUrl}/cert-status-by-serial/${serial}`, { ca: caPem });
        if (res.status === 404) return 'NotFound';
        if (res.status !== 200) throw new Error(`cert-status-by-serial/${serial}: HTTP ${res.status} ${res.body}`);
        const parsed = JSON.parse(res.body) as { Status?: unknown };
        return String(parsed.Status);
      },
      rootPem: () => mgmtGet('/roots/0'),
      intermediatePem: () => mgmtGet('/intermediates/0'),
      log: () => pebble.log(),
      challtestsrvLog: () => challtestsrv.log(),
      validationsFor(name: string): number {
        const needle = `Value:"${name}"`;
        return pebble
          .log()
          .split('\n')
          .filter((line) => line.includes('Pulled a task from the Tasks queue') && line.includes(needle)).length;
      },
      addA: (host, ip) => cts('/add-a', { host: fq(host), addresses: list(ip) }),
      clearA: (host) => cts('/clear-a', { host: fq(host) }),
      addAAAA: (host, ip) => cts('/add-aaaa', { host: fq(host), addresses: list(ip) }),
      clearAAAA: (host) => cts('/clear-aaaa', { host: fq(host) }),
      setCname: (host, target) => cts('/set-cname', { host: fq(host), target: fq(target) }),
      clearCname: (host) => cts('/clear-cname', { host: fq(host) }),
      setTxt: (host, value) => cts('/set-txt', { host: fq(host), value }),
      clearTxt: (host) => cts('/clear-txt', { host: fq(host) }),
      addCaa: (host, policies) => cts('/add-caa', { host: fq(host), policies }),
      clearCaa: (host) => cts('/clear-caa', { host: fq(host) }),
      setServfail: (host) => cts('/set-servfail', { host: fq(host) }),
      clearServfail: (host) => cts('/clear-servfail', { host: fq(host) }),
      setDefaultIPv4: (ip) => cts('/set-default-ipv4', { ip }),
      restart,
      stop(): Promise<void> {
        stopping ??= cleanup();
        return stopping;
      },
    };
    return env;
  } catch (err) {
    await cleanup();
    throw err;
  }
}
