/**
 * certbot-compatible hooks: running a hook command and the environment each kind of hook receives.
 */
export { DEFAULT_HOOK_TIMEOUT_MS, HOOK_OUTPUT_LIMIT, runExecutable, runHook, type HookOutcome, type RunHookOptions } from './run.js';
export { deployHookEnv, postHookEnv } from './env.js';
export { hookFailureMessage } from './message.js';
export { hookDirOf, listHookDir, runHookFolder, HOOK_DIR_KINDS, type HookDirKind } from './dirs.js';
