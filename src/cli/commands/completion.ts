import { Argument, type Command } from 'commander';
import { withEnvironment, type GlobalOptions } from '../globals.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const HELP = `
The same scripts ship in the package's completions/ folder. To load them:
  bash:  source <(certman completion bash)                 # this shell; or, for good:
         certman completion bash > ~/.local/share/bash-completion/completions/certman
  zsh:   source <(certman completion zsh)                  # after compinit; or, for good:
         certman completion zsh > ~/.zfunc/_certman        # with fpath=(~/.zfunc $fpath) before compinit
  fish:  certman completion fish > ~/.config/fish/completions/certman.fish`;

/**
 * `certman completion <shell>` prints a script, like --help prints text: it needs no settings, so it runs
 * without the config file and works even when that file is broken.
 */
export function defineCompletion(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell to complete certman in').choices(SHELLS))
    .addHelpText('after', HELP)
    .action(async (shell: Shell, _options: unknown, command: Command) => {
      const [{ completionScript }, { describeSurface }] = await Promise.all([import('../completion/index.js'), import('../surface.js')]);
      const script = completionScript(shell, describeSurface(program));
      const json = withEnvironment(command.optsWithGlobals<GlobalOptions>(), process.env).json === true;
      process.stdout.write(json ? `${JSON.stringify({ shell, script }, null, 2)}\n` : script);
    });
}
