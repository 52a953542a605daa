/**
 * certbot's order of hooks around one order, for `issue` and `issue --csr`: the fleet's CA budget loaded (a name
 * or account it holds back fails before the pre-hook), the pre-hook once the order is really placed, and the
 * post-hook after it whatever happened (also after Ctrl-C: a pre-hook that stopped the web server gets it started
 * again), with the failed validations saved first.
 */
import type { HookOutcome } from '../hooks/index.js';
import type { CaBudget } from '../renewal/ca-budget.js';
import type { Store } from '../store/index.js';
import { budgetOptions } from './budget-options.js';
import type { CliContext } from './context.js';

export type HookRun = HookOutcome & { kind: string };

export interface OrderScaffold {
  budget: CaBudget;
  /** For IssueDeps.beforeOrder: runs the pre-hook. */
  beforeOrder: () => Promise<void>;
  /** A certificate was issued: the post-hook gets the names as renewed, not failed. */
  issued: () => void;
  /** Runs a hook with `env`, recorded with the others. */
  hook: (kind: string, command: string, env: Record<string, string>) => Promise<void>;
}

export async function withOrderHooks<T>(
  ctx: CliContext,
  store: Store,
  run: { pre?: string; post?: string; domains: string[]; hookRuns: HookRun[] },
  order: (scaffold: OrderScaffold) => Promise<T>,
): Promise<T> {
  const [{ runHook, postHookEnv }, { CaBudget }] = await Promise.all([import('../hooks/index.js'), import('../renewal/ca-budget.js')]);
  const budget = await CaBudget.load(store, budgetOptions(ctx.settings), new Date());
  for (const problem of budget.problems) ctx.report.warn(problem);
  const hook = async (kind: string, command: string, env: Record<string, string>) => void run.hookRuns.push({ kind, ...(await runHook(command, env)) });
  let ordered = false;
  let ok = false;
  try {
    return await order({
      budget,
      beforeOrder: async () => {
        ordered = true;
        if (run.pre !== undefined) await hook('pre', run.pre, {});
      },
      issued: () => {
        ok = true;
      },
      hook,
    });
  } finally {
    await budget.saveFailures(ctx.report);
    if (ordered && run.post !== undefined) await hook('post', run.post, postHookEnv(ok ? run.domains : [], ok ? [] : run.domains));
  }
}
