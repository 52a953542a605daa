import type { Settings } from '../config/types.js';
import type { CaBudgetOptions } from '../renewal/ca-budget.js';

/** The CA budget's limits from the config (config failedValidationLimit, newOrderLimit); defaults otherwise. */
export function budgetOptions(settings: Settings): CaBudgetOptions {
  return {
    ...(settings.failedValidationLimit === undefined ? {} : { failedValidationLimit: settings.failedValidationLimit }),
    ...(settings.newOrderLimit === undefined ? {} : { newOrderLimit: settings.newOrderLimit }),
  };
}
