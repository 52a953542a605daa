import { execFileSync } from 'node:child_process';
import { CertmanError, UsageError, messageOf } from '../../errors.js';

export interface Identity {
  user: string;
  uid: number;
  gid: number;
  /** Supplementary groups. */
  groups: number[];
}

/** uid and primary gid of a user, through the system's name service (`id`, so LDAP/NSS users work). */
export function lookupUser(user: string): Identity {
  const id = (flag: string): number[] => {
    try {
      const out = execFileSync('id', [flag, '--', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (!/^\d+( \d+)*$/.test(out)) throw new Error(out);
      return out.split(' ').map(Number);
    } catch {
      throw new UsageError(`--user: no such user "${user}"`);
    }
  };
  const [uid] = id('-u');
  const [gid] = id('-g');
  if (uid === undefined || gid === undefined) throw new UsageError(`--user: no such user "${user}"`);
  return { user, uid, gid, groups: id('-G') };
}

/**
 * Becomes `user` (its groups, primary group, then uid) for good: called after the ports are bound,
 * so the server can answer on port 80 without keeping root. Checked afterwards: root cannot be regained.
 */
export function dropPrivileges(user: string): Identity {
  const target = lookupUser(user);
  const uid = process.getuid?.();
  if (uid === undefined || process.setuid === undefined || process.setgid === undefined || process.setgroups === undefined) {
    throw new UsageError('--user is not supported on this platform');
  }
  if (uid === target.uid) return target; // already that user: nothing to drop
  if (uid !== 0) throw new UsageError(`--user ${user} needs root: this process runs as uid ${uid}`, 'start serve-challenge as root, or leave out --user');
  try {
    process.setgroups(target.groups);
    process.setgid(target.gid);
    process.setuid(target.uid);
  } catch (err) {
    throw new CertmanError(`could not become ${user}: ${messageOf(err)}`);
  }
  let regained = false;
  try {
    process.setuid(0);
    regained = true;
  } catch {
    // expected
  }
  if (regained || process.getuid?.() !== target.uid || process.getgid?.() !== target.gid) {
    throw new CertmanError(`dropping privileges to ${user} did not stick; refusing to serve as root`);
  }
  return target;
}
