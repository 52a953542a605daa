/**
 * The files generated from the command definitions: completions/ and man/certman.1.
 * scripts/gen-docs.mjs writes them (npm run docs, npm run build); the tests compare them with the repository.
 */
import { SHELLS } from './commands/completion.js';
import { COMPLETION_FILES, completionScript } from './completion/index.js';
import { manPage } from './man.js';
import { buildProgram, type Runner } from './program.js';
import { describeSurface } from './surface.js';

export interface DocFile {
  /** Relative to the package root. */
  path: string;
  content: string;
}

export const MAN_FILE = 'man/certman.1';

export function generatedDocs(version: string): DocFile[] {
  // Nothing runs: the tree is only read.
  const noRun: Runner = () => () => Promise.resolve();
  const surface = describeSurface(buildProgram(version, noRun));
  return [...SHELLS.map((shell) => ({ path: COMPLETION_FILES[shell], content: completionScript(shell, surface) })), { path: MAN_FILE, content: manPage(surface, version) }];
}
