// Real shells for the completion tests: bash (calling the completion function the way readline
// would), zsh (typing Tab in an interactive zsh on a pseudo-terminal) and fish (`complete -C`).
import { execFile } from 'node:child_process';
import { readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { certmanBin, cliEnv } from './cli.js';
import { which } from './proc.js';
import { tempDir } from './tmp.js';

const run = promisify(execFile);

/**
 * The path of `program`; when it is missing and we are root on a Debian system, installs the package
 * `pkg` first (apt-get, waiting for a lock another test may hold). Undefined when it cannot be had:
 * the caller skips, naming the package.
 */
export async function ensureProgram(program: string, pkg: string): Promise<string | undefined> {
  const found = which(program);
  if (found !== undefined || process.getuid?.() !== 0 || which('apt-get') === undefined) return found;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '--no-install-recommends', pkg], { env, timeout: 600_000 });
  try {
    await install();
  } catch {
    // Package lists may be missing or old on a fresh machine.
    try {
      await run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update'], { env, timeout: 600_000 });
      await install();
    } catch {
      return undefined;
    }
  }
  return which(program);
}

/** A PATH whose `certman` is this checkout's bin/certman, as the scripts call it for certificate names. */
export async function certmanOnPath(): Promise<string> {
  const dir = await tempDir('bin');
  await symlink(certmanBin, join(dir, 'certman'));
  return `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

export interface ShellOptions {
  /** Added to the shell's environment (cliEnv: no CERTMAN_* from the test's own environment). */
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Sources `script` in bash and completes the last of `words` (the command line split into words as
 * readline does, `=` being a word of its own), returning COMPREPLY.
 */
export async function bashComplete(script: string, words: string[], options: ShellOptions = {}): Promise<string[]> {
  const program = [
    'source "$1" || exit 90',
    'shift',
    'complete -p certman >/dev/null || exit 91',
    'COMP_WORDS=("$@")',
    'COMP_CWORD=$(($# - 1))',
    'COMP_LINE="$*"',
    'COMP_POINT=${#COMP_LINE}',
    '_certman',
    '(( ${#COMPREPLY[@]} )) && printf "%s\\n" "${COMPREPLY[@]}"',
    'exit 0',
  ].join('\n');
  const { stdout, stderr } = await run('bash', ['--norc', '--noprofile', '-c', program, 'bash', script, ...words], {
    env: cliEnv(options.env),
    cwd: options.cwd,
  });
  if (stderr !== '') throw new Error(`bash completion printed on stderr: ${stderr}`);
  return lines(stdout);
}

const ZSH_INIT = `PS1='' RPS1='' PROMPT2=''
bindkey -e
fpath=("$CERTMAN_FPATH" $fpath)
autoload -Uz compinit && compinit -u -D
setopt no_beep no_auto_list no_list_ambiguous no_auto_menu
# Every match the completion system adds is also written to $CERTMAN_OUT. Calls that only
# compute matches (-O, -A, -D) add nothing, so they pass through unrecorded.
compadd() {
  local a
  for a in "$@"; do
    [[ $a == (-|--) ]] && break
    if [[ $a == -[OAD] ]]; then builtin compadd "$@"; return; fi
  done
  local -a hits
  builtin compadd -O hits "$@"
  (( $#hits )) && print -rl -- "\${hits[@]}" >> "$CERTMAN_OUT"
  builtin compadd "$@"
}
# Tab completes, then leaves a mark, so the driver types nothing more until completion is over:
# keys waiting in the input can cut a completion short.
_certman_test_tab() { zle expand-or-complete; : >| "$CERTMAN_OUT.done" }
zle -N _certman_test_tab
bindkey '^I' _certman_test_tab
`;

const ZSH_DRIVER = `# zsh -f driver.zsh <init> <line>: types <line> and Tab in an interactive zsh on a pseudo-terminal.
zmodload zsh/zpty
zpty z zsh -f -i
local out= chunk= i=
# Waits (20 s at most) until the terminal shows $1 on a line of its own.
await() {
  local chunk i
  for (( i = 0; i < 400; i++ )); do
    if zpty -r -t z chunk; then
      out+=$chunk
      [[ $out == *$'\\n'$1$'\\r'* ]] && return 0
    else
      sleep 0.05
    fi
  done
  print -ru2 -- "zsh did not print $1; the terminal showed: $out"
  return 1
}
# Typed keys are only read once the shell is ready, or zsh discards them.
zpty -w z "source \${(q)1}; print -r -- RE''ADY"
await READY || exit 1
zpty -w -n z "$2"$'\\t'
for (( i = 0; i < 400; i++ )); do
  [[ -e $CERTMAN_OUT.done ]] && break
  zpty -r -t z chunk && out+=$chunk || sleep 0.05
done
[[ -e $CERTMAN_OUT.done ]] || { print -ru2 -- "zsh did not finish completing; the terminal showed: $out"; exit 1 }
zpty -w -n z $'\\C-u'
zpty -w z "print -r -- DO''NE"
await DONE || exit 1
zpty -d z
print -r -- "$out" > "$CERTMAN_OUT.tty"
`;

let zshFiles: Promise<{ dir: string; init: string; driver: string }> | undefined;

/**
 * Types `line` and Tab in an interactive zsh whose $fpath has `fpathDir` (holding _certman) and
 * returns the matches the completion system added, sorted and without repeats.
 */
export async function zshComplete(fpathDir: string, line: string, options: ShellOptions = {}): Promise<string[]> {
  zshFiles ??= (async () => {
    const dir = await tempDir('zsh');
    const init = join(dir, 'init.zsh');
    const driver = join(dir, 'driver.zsh');
    await writeFile(init, ZSH_INIT);
    await writeFile(driver, ZSH_DRIVER);
    return { dir, init, driver };
  })();
  const { init, driver } = await zshFiles;
  const outDir = await tempDir('zsh-out');
  const out = join(outDir, 'matches');
  await writeFile(out, '');
  await run('zsh', ['-f', driver, init, line], {
    env: cliEnv({ ...options.env, CERTMAN_OUT: out, CERTMAN_FPATH: fpathDir, TERM: 'dumb', HOME: outDir }),
    cwd: options.cwd,
    timeout: 30_000,
  });
  const tty = await readFile(`${out}.tty`, 'utf8');
  // _arguments reports a bad spec on the terminal, not as an exit status.
  if (/_arguments:|_describe:|command not found|parse error|bad pattern/.test(tty)) throw new Error(`zsh printed an error: ${tty}`);
  return [...new Set(lines(await readFile(out, 'utf8')))].sort();
}

/** `complete -C line` in fish with `script` loaded: the candidates, without their descriptions. */
export async function fishComplete(script: string, line: string, options: ShellOptions = {}): Promise<string[]> {
  const home = await tempDir('fish-home');
  const { stdout, stderr } = await run('fish', ['--no-config', '-c', 'source $argv[1]; and complete -C $argv[2]', script, line], {
    env: cliEnv({ ...options.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share') }),
    cwd: options.cwd,
  });
  if (stderr !== '') throw new Error(`fish printed on stderr: ${stderr}`);
  return lines(stdout).map((l) => l.split('\t')[0] ?? '');
}

function lines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}
