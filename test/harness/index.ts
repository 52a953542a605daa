// One import for e2e tests: `import { startPebble, runCli, ... } from '../harness/index.js'`.
export { freePort, freePorts } from './ports.js';
export { startPebble, type PebbleEnv, type PebbleOptions } from './pebble.js';
export { startAriProxy, type AriProxy, type AriWindow } from './ari.js';
export { startFaultProxy, type Endpoint, type Fault, type FaultProxy, type Hold } from './faults.js';
export { startNginx, type NginxOptions, type NginxServer } from './nginx.js';
export { runCli, certmanEnv, cliEnv, repoRoot, certmanBin, signalOnStderr, type RunOptions, type RunResult } from './cli.js';
export { tempDir, removeTempDir, cleanupTempDirs, uniqueName } from './tmp.js';
export { httpRequestText, rawHttp, type HttpOptions, type HttpResponse } from './http.js';
export { which, livePids } from './proc.js';
export { openTerminal, type Terminal } from './terminal.js';
export { startServeChallenge, type ServeChallenge } from './serve.js';
export { bashComplete, certmanOnPath, ensureProgram, fishComplete, zshComplete, type ShellOptions } from './shells.js';
export { startApache, type ApacheServer } from './apache.js';
export { startHaproxy } from './haproxy.js';
export { startDaemon, type Daemon } from './daemon.js';
export { snapshotTree } from './tree.js';
export { mountTmpfs, type Mounted } from './mount.js';
export { assertStoreSound, storeProblems, type StoreCheckOptions } from './store-check.js';
