/**
 * Who is writing: the identity of this host and process, recorded in lock files and temp file names so
 * that another certman run can tell a holder or writer that may still be at work from one that died.
 * A pid can only be checked on the host (boot, PID namespace) that wrote it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';

/** Where this process runs: a record with the same identity names a pid this process can check. */
export interface HostIdentity {
  hostname: string;
  /** /proc/sys/kernel/random/boot_id, where known. */
  bootId?: string;
  /** readlink /proc/self/ns/pid, where known. */
  pidNamespace?: string;
}

function readOr<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

let identity: HostIdentity | undefined;

export function thisHost(): HostIdentity {
  if (identity === undefined) {
    const bootId = readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    const pidNamespace = readOr(() => readlinkSync('/proc/self/ns/pid'));
    identity = {
      hostname: os.hostname(),
      ...(bootId === undefined || bootId === '' ? {} : { bootId }),
      ...(pidNamespace === undefined ? {} : { pidNamespace }),
    };
  }
  return identity;
}

/** Whether a pid recorded under `other` can be checked here; a part either side does not know does not count. */
export function onThisHost(other: HostIdentity): boolean {
  const here = thisHost();
  const agree = (a: string | undefined, b: string | undefined) => a === undefined || b === undefined || a === b;
  return other.hostname === here.hostname && agree(other.bootId, here.bootId) && agree(other.pidNamespace, here.pidNamespace);
}

/** 8 hex digits standing for this host's identity, short enough for file names. */
export function hostTag(): string {
  const { hostname, bootId = '', pidNamespace = '' } = thisHost();
  return createHash('sha256').update(`${hostname}\n${bootId}\n${pidNamespace}`).digest('hex').slice(0, 8);
}

/** Start time of process `pid` in clock ticks after boot (/proc/<pid>/stat field 22), where known. */
export function processStartTime(pid: number): number | undefined {
  const stat = readOr(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (stat === undefined) return undefined;
  // "pid (comm) state ppid …": comm may contain spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  const value = Number(fields[22 - 3]);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * Whether process `pid` of this host may still be running: it exists (kill(pid, 0); EPERM means it
 * belongs to another user) and, when `startedAt` is known, started then (else the pid was reused).
 */
export function processAlive(pid: number, startedAt?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (startedAt === undefined) return true;
  const current = processStartTime(pid);
  return current === undefined || current === startedAt;
}
