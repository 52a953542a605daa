import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, realpath, rmdir, stat, unlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { CertmanError } from '../errors.js';
import { assertSafeToken } from './token.js';
import { type Http01Responder } from './types.js';

/**
 * Writes tokens into a folder the user's web server already serves, as
 * <webroot>/.well-known/acme-challenge/<token>. Never writes outside the webroot, even through
 * symlinks, and removes what it created.
 */
export class WebrootResponder implements Http01Responder {
  private readonly written = new Map<string, string>();
  private readonly createdDirs: string[] = [];
  private challengeDir: string | undefined;

  private constructor(private readonly root: string) {}

  static async open(webroot: string): Promise<WebrootResponder> {
    let root: string;
    try {
      root = await realpath(webroot);
      if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
    } catch {
      // The folder is missing on this machine (an environment problem, exit 1), like a busy port.
      throw new CertmanError(`webroot ${webroot} is not an existing directory`, { hint: 'pass the folder your web server serves for this site' });
    }
    const responder = new WebrootResponder(root);
    // A .well-known that leads out of the webroot is refused now, before anything is ordered.
    await responder.challengeDirState();
    return responder;
  }

  async publish(_domain: string, token: string, keyAuthorization: string): Promise<void> {
    assertSafeToken(token);
    const dir = await this.ensureChallengeDir();
    const file = join(dir, token);
    await unlink(file).catch(ignoreMissing); // a stale file (or symlink) left by a killed run
    // O_NOFOLLOW + O_EXCL: never write through a symlink planted at the token's path.
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(keyAuthorization);
      await handle.chmod(0o644); // readable by the web server whatever the umask
    } finally {
      await handle.close();
    }
    this.written.set(token, file);
  }

  async unpublish(token: string): Promise<void> {
    const file = this.written.get(token);
    if (file === undefined) return;
    this.written.delete(token);
    await unlink(file).catch(ignoreMissing);
  }

  async close(): Promise<void> {
    await Promise.all([...this.written.keys()].map((token) => this.unpublish(token)));
    for (const dir of this.createdDirs.splice(0).reverse()) {
      await rmdir(dir).catch(() => undefined); // still holds other files: leave it
    }
  }

  /** Creates .well-known/acme-challenge step by step, refusing any step that leaves the webroot. */
  private async ensureChallengeDir(): Promise<string> {
    if (this.challengeDir !== undefined) return this.challengeDir;
    const { existing, missing } = await this.challengeDirState();
    let current = existing;
    for (const segment of missing) {
      current = join(current, segment);
      await mkdir(current, { mode: 0o755 });
      await chmod(current, 0o755);
      this.createdDirs.push(current);
    }
    this.challengeDir = current;
    return current;
  }

  /**
   * How much of .well-known/acme-challenge exists (resolved through symlinks that stay inside the
   * webroot) and which segments are still to be created; throws when a step leaves the webroot.
   */
  private async challengeDirState(): Promise<{ existing: string; missing: string[] }> {
    const segments = ['.well-known', 'acme-challenge'];
    let current = this.root;
    while (segments.length > 0) {
      const path = join(current, segments[0] ?? '');
      const info = await lstat(path).catch(ignoreMissing);
      if (info === undefined) break;
      const resolved = info.isSymbolicLink() ? await realpath(path).catch(ignoreMissing) : path;
      if (resolved === undefined || (resolved !== this.root && !resolved.startsWith(this.root + sep))) {
        throw new CertmanError(`${path} is a symlink that leaves the webroot ${this.root}; refusing to write there`, {
          hint: 'point the symlink inside the webroot or remove it',
        });
      }
      if (!(await stat(resolved)).isDirectory()) throw new CertmanError(`${path} exists and is not a directory`);
      current = resolved;
      segments.shift();
    }
    return { existing: current, missing: segments };
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}
