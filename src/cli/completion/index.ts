import type { Shell } from '../commands/completion.js';
import type { Surface } from '../surface.js';
import { bashCompletion } from './bash.js';
import { fishCompletion } from './fish.js';
import { zshCompletion } from './zsh.js';

/** Where each script goes in the package (and in the repository, where it is committed). */
export const COMPLETION_FILES: Readonly<Record<Shell, string>> = {
  bash: 'completions/certman.bash',
  zsh: 'completions/_certman',
  fish: 'completions/certman.fish',
};

const GENERATORS: Readonly<Record<Shell, (surface: Surface) => string>> = {
  bash: bashCompletion,
  zsh: zshCompletion,
  fish: fishCompletion,
};

/** The completion script for `shell` (describeSurface(program) gives the surface). */
export function completionScript(shell: Shell, surface: Surface): string {
  return GENERATORS[shell](surface);
}
