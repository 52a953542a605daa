// Runs the CLI in a real terminal (a private tmux server), for tests of prompts and TTY output.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { certmanBin, cliEnv } from './cli.js';
import { sleep } from './proc.js';
import { tempDir } from './tmp.js';

const run = promisify(execFile);

export interface Terminal {
  /** The visible screen as text. */
  screen(): Promise<string>;
  /** Types text and presses Enter. */
  answer(text: string): Promise<void>;
  /** Types `text` literally, without Enter. */
  type(text: string): Promise<void>;
  /** Presses a key by its tmux name (`C-c`, `Enter`, `Down`). */
  press(key: string): Promise<void>;
  /** Waits until the screen matches, failing with the screen after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the CLI to exit and returns its exit code. */
  exitCode(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/** Starts `certman ...args` in a 120×30 terminal; CI is unset so prompts are allowed. */
export async function openTerminal(args: string[], env: Record<string, string> = {}): Promise<Terminal> {
  const dir = await tempDir('tty');
  const socket = `certman-test-${process.pid}-${Date.now()}`;
  const codeFile = join(dir, 'exit-code');
  const quoted = [process.execPath, certmanBin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const tmux = (...argv: string[]) => run('tmux', ['-L', socket, ...argv], { env: cliEnv({ ...env, CI: undefined, TERM: 'xterm-256color' }) });
  await tmux('new-session', '-d', '-s', 'main', '-x', '120', '-y', '30', `${quoted}; echo $? > '${codeFile}'; sleep 600`);
  const screen = async () => (await tmux('capture-pane', '-p', '-t', 'main')).stdout;
  return {
    screen,
    type: async (text) => {
      await tmux('send-keys', '-t', 'main', '-l', text);
    },
    answer: async (text) => {
      await tmux('send-keys', '-t', 'main', '-l', text);
      await tmux('send-keys', '-t', 'main', 'Enter');
    },
    press: async (key) => {
      await tmux('send-keys', '-t', 'main', key);
    },
    waitFor: async (pattern, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await screen();
        if (pattern.test(text)) return text;
        if (Date.now() > deadline) throw new Error(`terminal never showed ${pattern}:\n${text}`);
        await sleep(100);
      }
    },
    exitCode: async (timeoutMs = 45_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = await readFile(codeFile, 'utf8').catch(() => '');
        if (text.trim() !== '') return Number(text.trim());
        if (Date.now() > deadline) throw new Error(`certman did not exit:\n${await screen()}`);
        await sleep(100);
      }
    },
    close: async () => {
      await tmux('kill-server').catch(() => undefined);
    },
  };
}
